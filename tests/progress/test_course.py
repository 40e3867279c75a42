"""The course overview (issue 24 part 2), over real launches from the development LMS: every
credential placed in the course against every learner of the roster, with states, the
submissions waiting for review (as the queue counts them) and a CSV of the same grid; nothing
of another course or another platform; learners refused; the activity page's way to it."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import select

from app.catalog.models import Credential
from app.db import get_db, utcnow
from app.evidence.models import Attempt
from app.linking.models import LinkedCredential, LinkVisit
from app.lti.models import Deployment, LtiContext, LtiResourceLink, LtiUser
from tests.evidence.support import (
    FEEDBACK,
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    add_activity,
    attempt_id,
    launch,
    other_platform_attempt,
    second_course,
)
from tests.evidence.support import start as start_work
from tests.grading.support import TA, set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.roster import enrol_learners

PAGE = "/activity/course"
CSV = "/activity/course.csv"
THIRD = "data-informed-small-group-instruction"


@pytest.fixture
def course(live) -> tuple[str, str]:
    """Two activities of the demo course: the hinge-question credential and feedback."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    return add_activity(live, HINGE), add_activity(live, FEEDBACK)


def grid(html: str) -> dict[str, dict[str, str]]:
    """Email → credential slug → the state shown, for each learner's row."""
    found = {}
    for cells in re.findall(r'<tr data-user="[^"]*">(.*?)</tr>', html, re.S):
        email = re.search(r'<span class="meta">([^<]+@[^<]+)</span>', cells)
        assert email, cells
        found[unescape(email.group(1))] = dict(
            re.findall(r'<td data-credential="([^"]+)" data-state="(\w+)">', cells)
        )
    return found


def summary(html: str) -> dict[str, list[str]]:
    """Credential slug → the summary row's cells (counts, then waiting), as text."""
    found = {}
    for slug, cells in re.findall(r'<tr data-credential="([^"]+)">(.*?)</tr>', html, re.S):
        found[slug] = [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        ]
    return found


def decide_directly(live, attempt: int, state: str) -> None:
    with get_db(live.tool).begin() as session:
        row = session.get(Attempt, attempt)
        assert row is not None
        row.state, row.submitted_at, row.decided_at = state, utcnow(), utcnow()


def test_every_credential_placed_against_every_learner(live, course):
    hinge, feedback = course
    newcomer = enrol_learners(live, 1)[0]
    start_work(launch(live, LEARNER, hinge), HINGE)
    submitted(launch(live, OTHER_LEARNER, hinge))
    started = start_work(launch(live, OTHER_LEARNER, feedback), FEEDBACK)
    decide_directly(live, attempt_id(started.text), Attempt.EARNED)
    instructor = launch(live, INSTRUCTOR, hinge)

    page = instructor.get(PAGE)
    assert page.status_code == 200
    assert grid(page.text) == {
        LEARNER: {HINGE: "draft", FEEDBACK: "not_started"},
        OTHER_LEARNER: {HINGE: "submitted", FEEDBACK: "earned"},
        TA: {HINGE: "not_started", FEEDBACK: "not_started"},
        newcomer: {HINGE: "not_started", FEEDBACK: "not_started"},
    }
    # Not started, drafting, submitted, in review, not yet, earned; then waiting for review.
    assert summary(page.text) == {
        HINGE: ["2", "1", "1", "0", "0", "0", "1 waiting for review at Questioning to Check for "
                "Understanding"],
        FEEDBACK: ["3", "0", "0", "0", "0", "1", "None"],
    }  # fmt: skip
    # The waiting count links to the review queue listing exactly those submissions.
    found = re.search(r'href="(/review\?[^"]*)">1 waiting', page.text)
    assert found, page.text
    queue = unescape(found.group(1))
    assert f"credential={HINGE}" in queue and "course=this" in queue
    listed = instructor.user.http.get(live.tool_url + queue, timeout=30)
    assert listed.text.count("<tr data-attempt=") == 1
    assert INSTRUCTOR not in page.text  # a teacher, not a learner: not a row


def test_the_csv_is_the_grid_shown(live, course):
    hinge, feedback = course
    start_work(launch(live, LEARNER, hinge), HINGE)
    start_work(launch(live, OTHER_LEARNER, feedback), FEEDBACK)
    instructor = launch(live, INSTRUCTOR, hinge)
    page = instructor.get(PAGE)
    response = instructor.get(CSV)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="overview-')
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    header, body = rows[0], rows[1:]
    titles = re.findall(r'<th scope="col">([^<]+)</th>', page.text.split("overview-grid")[1])
    assert header[:7] == [
        "Name", "Given name", "Family name", "Email", "LMS user id", "In the LMS roster",
        "Enrolment",
    ]  # fmt: skip
    assert header[7:] == [unescape(t) for t in titles[1:]]
    labels = {"not_started": "Not started", "draft": "Drafting"}
    assert {row[3]: row[7:] for row in body} == {
        email: [labels[states[HINGE]], labels[states[FEEDBACK]]]
        for email, states in grid(page.text).items()
    }


def test_an_activity_nobody_opened_is_not_a_column_yet(live, course):
    hinge, _ = course
    page = launch(live, INSTRUCTOR, hinge).get(PAGE)
    assert set(next(iter(grid(page.text).values()))) == {HINGE}
    assert "An activity nobody has opened yet is not listed" in page.text


def test_another_courses_credentials_are_not_shown(live, course):
    hinge, _ = course
    other = add_activity(live, THIRD, course=second_course(live))
    start_work(launch(live, LEARNER, other), THIRD)
    start_work(launch(live, LEARNER, hinge), HINGE)
    page = launch(live, INSTRUCTOR, hinge).get(PAGE)
    assert THIRD not in page.text
    assert grid(page.text)[LEARNER] == {HINGE: "draft"}


def test_another_platforms_course_with_the_same_ids_is_not_shown(live, course):
    """A second platform whose course, deployment and link have the same LMS ids as the demo
    course's, bound to another credential, opened by its own learner."""
    hinge, _ = course
    attempt = submitted(launch(live, OTHER_LEARNER, hinge))
    instructor = launch(live, INSTRUCTOR, hinge)
    registration_id, _ = other_platform_attempt(live, attempt)
    with get_db(live.tool).begin() as session:
        ours = session.scalars(select(LtiResourceLink)).first()
        assert ours is not None
        context = session.get(LtiContext, ours.context_id)
        deployment = session.get(Deployment, context.deployment_id)
        theirs = Deployment(registration_id=registration_id,
                            deployment_id=deployment.deployment_id, status="active")  # fmt: skip
        session.add(theirs)
        session.flush()
        their_course = LtiContext(registration_id=registration_id, deployment_id=theirs.id,
                                  context_id=context.context_id, title="Their course")  # fmt: skip
        session.add(their_course)
        session.flush()
        link = LtiResourceLink(registration_id=registration_id, context_id=their_course.id,
                               resource_link_id=ours.resource_link_id)  # fmt: skip
        session.add(link)
        session.flush()
        third = session.scalars(select(Credential.id).where(Credential.slug == THIRD)).one()
        binding = LinkedCredential(
            registration_id=registration_id, resource_link_id=link.id, credential_id=third
        )
        session.add(binding)
        beta = session.scalars(
            select(LtiUser).where(LtiUser.registration_id == registration_id)
        ).one()
        beta.email = "beta.learner@beta.example"
        session.add(LinkVisit(registration_id=registration_id, resource_link_id=link.id,
                              user_id=beta.id, roles="Learner"))  # fmt: skip
    page = instructor.get(PAGE)
    assert "beta.learner@beta.example" not in page.text
    assert list(summary(page.text)) == [HINGE]
    assert THIRD not in page.text


def test_learners_are_refused_the_overview(live, course):
    hinge, _ = course
    learner = launch(live, LEARNER, hinge)
    for path in (PAGE, CSV):
        response = learner.get(path)
        assert response.status_code == 403
        assert "instructors and teaching assistants can see the course overview" in unescape(
            response.text
        )


def test_the_activity_page_says_what_waits_and_leads_to_the_overview(live, course):
    hinge, _ = course
    submitted(launch(live, OTHER_LEARNER, hinge))
    page = launch(live, INSTRUCTOR, hinge).page.text
    assert "1 submission waiting for review" in page
    assert re.search(r'<a [^>]*href="/activity/course\?lt=[^"]+"[^>]*>Course overview</a>', page)

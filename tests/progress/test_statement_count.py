"""The progress page and its CSV send as many SQL statements for a course of 200 learners (in
every state, most of whom have launched) as for one of 3: the roster's accounts, the visits,
the latest attempts and the review links are each read in one go (issue 10); so does the course
overview, with more credentials placed too (issue 24). Counted in-process
(the tool's Flask test client) inside a real launch, with the roster kept from a first read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import get_db, utcnow
from app.devlms.models import DevUser
from app.evidence.models import Attempt
from app.linking.models import LinkVisit
from app.lti.models import LtiUser
from tests.evidence.support import (
    FEEDBACK,
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    add_activity,
    launch,
)
from tests.grading.support import set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.roster import enrol_learners
from tests.support.statements import statements_per_request

STATES = ("draft", "submitted", "in_review", "not_yet", "earned")
THIRD = "data-informed-small-group-instruction"
FOURTH = "formative-assessment-practitioner"


@pytest.fixture
def activity(live) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    return add_activity(live, HINGE)


def add_learners(live, like: int, count: int) -> None:
    """``count`` more learners in the LMS's course; in the tool, most have launched, half have
    opened this activity, and most have an attempt in one of the states (some a second one)."""
    emails = enrol_learners(live, count)
    with get_db(live.devlms).begin() as session:
        subs = list(session.scalars(select(DevUser.sub).where(DevUser.email.in_(emails))))
    with get_db(live.tool).begin() as session:
        template = session.get(Attempt, like)
        assert template is not None
        visit = session.scalars(select(LinkVisit)).first()
        assert visit is not None
        for n, sub in enumerate(subs):
            if n % 7 == 0:
                continue  # never launched Microcred
            user = LtiUser(registration_id=template.registration_id, sub=sub, name=f"L {n}")
            session.add(user)
            session.flush()
            if n % 2:
                session.add(
                    LinkVisit(
                        registration_id=template.registration_id,
                        resource_link_id=visit.resource_link_id,
                        user_id=user.id,
                        roles="Learner",
                    )
                )
            if n % 6 == 1:
                continue  # launched, not started
            for number in (1, 2) if n % 5 == 0 else (1,):
                session.add(
                    Attempt(
                        registration_id=template.registration_id,
                        user_id=user.id,
                        credential_id=template.credential_id,
                        version_id=template.version_id,
                        number=number,
                        state="not_yet" if number == 1 and n % 5 == 0 else STATES[n % 5],
                        submitted_at=utcnow() - timedelta(days=n % 9),
                    )
                )


def test_progress_statements_do_not_grow_with_the_course(live, activity):
    attempt = submitted(launch(live, OTHER_LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    paths = {
        "page": ("/activity/progress", {}),
        "page, by state": ("/activity/progress", {"sort": "state"}),
        "page, submitted": ("/activity/progress", {"state": "submitted"}),
        "csv": ("/activity/progress.csv", {}),
    }
    small = statements_per_request(live, instructor.token, paths)
    add_learners(live, attempt, 200)
    assert instructor.get("/activity/progress", refresh="1").status_code == 200
    large = statements_per_request(live, instructor.token, paths)
    page = instructor.get("/activity/progress")
    assert page.text.count("<tr data-user=") == 203
    assert small == large
    assert large["page"] <= 18, large


def test_course_overview_statements_do_not_grow_with_learners_or_credentials(live, activity):
    """The course overview (issue 24 part 2) with 3 learners and two credentials placed, then
    with 200 more learners and two more credentials."""
    attempt = submitted(launch(live, OTHER_LEARNER, activity))
    feedback = add_activity(live, FEEDBACK)
    launch(live, LEARNER, feedback)
    instructor = launch(live, INSTRUCTOR, activity)
    paths = {"page": ("/activity/course", {}), "csv": ("/activity/course.csv", {})}
    small = statements_per_request(live, instructor.token, paths)
    add_learners(live, attempt, 200)
    for slug in (THIRD, FOURTH):
        launch(live, INSTRUCTOR, add_activity(live, slug))
    assert instructor.get("/activity/course", refresh="1").status_code == 200
    large = statements_per_request(live, instructor.token, paths)
    page = instructor.get("/activity/course")
    assert page.text.count("<tr data-user=") == 203
    assert page.text.count("<tr data-credential=") == 4
    assert small == large
    assert large["page"] <= 22, large

"""Course copy through the development LMS's "Copy this course" (issue 7, LTI-CHECKLIST F):
the copy gives every link a new resource link id and keeps its custom parameters, so a link
added by Deep Linking finds its credential again; a link whose credential an instructor chose at
its first launch carries nothing the tool can recognise (Moodle, Canvas and this LMS do not
substitute ``$ResourceLink.id.history``), so the copy's instructor is asked again, and told
why. Where a platform does substitute it (Brightspace, Blackboard), the copy is bound as its
original: that launch is the development LMS's, with the substituted value signed in by the
test."""

from __future__ import annotations

import re
from html import unescape

import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevLink
from app.linking.models import LinkedCredential
from app.lti.models import LtiResourceLink
from tests.support.catalog import seed_sample_catalog
from tests.support.forge import Forge, PendingLaunch
from tests.support.lms import LmsUser, bridge_data, forms, submit

INSTRUCTOR = "maria.alvarez@example.edu"
LEARNER = "jordan.lee@example.edu"
FRACTIONS = "fraction-number-line-reasoning"
FRACTIONS_TITLE = "Fraction Foundations: Number-Line Reasoning"
QUESTIONING_TITLE = "Questioning to Check for Understanding"
WELCOME = "Microcred: welcome"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"


@pytest.fixture
def catalog(live):
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)


def add_through_picker(teacher: LmsUser, slug: str) -> None:
    """Add a credential as the instructor does: "Add an activity", tick it, add, and let the
    tool's answer post back to the LMS."""
    picker = teacher.deep_link()
    assert picker.status_code == 200, picker.text
    form = next(f for f in forms(picker.text) if f.method == "post")
    data = {"lt": form.fields["lt"], "credential": slug, "graded": "1", "action": "add"}
    answer = teacher.http.post(picker.url.split("?")[0], data=data, timeout=30)
    back = forms(answer.text)[0]
    assert teacher.http.post(back.action, data=back.fields, timeout=30).status_code == 200


def link_in(live, title: str, course_id: int) -> DevLink:
    with get_db(live.devlms).begin() as session:
        link = session.scalars(
            select(DevLink).where(DevLink.title == title, DevLink.course_id == course_id)
        ).one()
        session.expunge(link)
        return link


def launch_in(user: LmsUser, title: str, course_id: int) -> requests.Response:
    """Launch the link titled ``title`` of one course (a copy has links of the same titles)."""
    return user.complete(user.initiation(f"/launch/link/{user.link_id(title, course_id)}"))


def bindings(live) -> dict[str, LinkedCredential]:
    """The tool's bindings, by the LMS's resource link id."""
    with get_db(live.tool).begin() as session:
        rows = session.execute(
            select(LtiResourceLink.resource_link_id, LinkedCredential).join(
                LinkedCredential, LinkedCredential.resource_link_id == LtiResourceLink.id
            )
        ).all()
        session.expunge_all()
        return dict(rows)


def test_a_copied_deep_linked_link_has_a_new_id_the_same_custom_and_the_same_credential(
    live, catalog
):
    teacher = LmsUser(live, INSTRUCTOR)
    add_through_picker(teacher, FRACTIONS)
    source_id = teacher.course_id()
    copy_id = teacher.copy_course(source_id)
    original = link_in(live, FRACTIONS_TITLE, source_id)
    copied = link_in(live, FRACTIONS_TITLE, copy_id)
    assert copied.resource_link_id != original.resource_link_id
    assert (
        copied.custom
        == original.custom
        == {
            "microcred_credential": FRACTIONS,
            "microcred_version": "latest",
        }
    )

    learner = LmsUser(live, LEARNER)
    page = launch_in(learner, FRACTIONS_TITLE, copy_id)
    assert page.status_code == 200, page.text
    assert f'<h1 id="credential-title">{FRACTIONS_TITLE}</h1>' in page.text
    assert "Your course asks you to earn this micro-credential." in page.text
    binding = bindings(live)[copied.resource_link_id]
    assert binding.source == LinkedCredential.CUSTOM


def test_the_original_link_keeps_its_credential_after_the_copy_is_launched(live, catalog):
    teacher = LmsUser(live, INSTRUCTOR)
    add_through_picker(teacher, FRACTIONS)
    source_id = teacher.course_id()
    copy_id = teacher.copy_course(source_id)
    learner = LmsUser(live, LEARNER)
    launch_in(learner, FRACTIONS_TITLE, copy_id)
    page = launch_in(learner, FRACTIONS_TITLE, source_id)
    assert f'<h1 id="credential-title">{FRACTIONS_TITLE}</h1>' in page.text
    assert len(bindings(live)) == 2  # one per resource link, each from its custom parameters


def _choose_for_welcome(live, teacher: LmsUser, course_id: int) -> None:
    """As the instructor, bind the (custom-less) welcome activity to Questioning."""
    home = launch_in(teacher, WELCOME, course_id)
    choose = re.search(r'href="(/activity/choose\?lt=[^"]+)"', home.text)
    assert choose, "the instructor is offered the picker"
    picker = teacher.http.get(live.tool_url + unescape(choose.group(1)), timeout=30)
    form = next(f for f in forms(picker.text) if f.method == "post")
    bound = teacher.http.post(
        picker.url.split("?")[0],
        data={
            "lt": form.fields["lt"],
            "credential": "questioning-to-check-for-understanding",
            "action": "add",
        },
        timeout=30,
    )
    assert "This activity stands for the micro-credential below" in bound.text


def test_a_copied_instructor_chosen_link_is_not_set_up_for_learners(live, catalog):
    """The copy of a link bound at its first launch has a new resource link id and no custom
    parameters: the tool cannot know which link it was copied from, and does not guess."""
    teacher = LmsUser(live, INSTRUCTOR)
    source_id = teacher.course_id()
    _choose_for_welcome(live, teacher, source_id)
    copy_id = teacher.copy_course(source_id)
    assert link_in(live, WELCOME, copy_id).custom == {}

    learner = LmsUser(live, LEARNER)
    waiting = launch_in(learner, WELCOME, copy_id)
    assert "This activity is not set up yet" in waiting.text
    original = launch_in(learner, WELCOME, source_id)
    assert f'<h1 id="credential-title">{QUESTIONING_TITLE}</h1>' in original.text


def test_a_copied_instructor_chosen_link_asks_its_instructor_again_and_says_why(live, catalog):
    teacher = LmsUser(live, INSTRUCTOR)
    source_id = teacher.course_id()
    _choose_for_welcome(live, teacher, source_id)
    copy_id = teacher.copy_course(source_id)

    page = launch_in(teacher, WELCOME, copy_id)
    text = unescape(page.text)
    assert "Choose the micro-credential" in text
    assert "a copied course" in text and "choose it again" in text
    _choose_for_welcome(live, teacher, copy_id)
    assert {b.source for b in bindings(live).values()} == {LinkedCredential.CHOSEN}
    assert len(bindings(live)) == 2


def _pending(user: LmsUser, title: str, course_id: int) -> PendingLaunch:
    """A launch of one course's link that the LMS has signed, not yet posted to the tool."""
    initiation = user.initiation(f"/launch/link/{user.link_id(title, course_id)}")
    login = submit(user.http, user.live.devlms_url, initiation)
    auth = user.http.get(bridge_data(login.text)["next"], timeout=30)
    form = forms(auth.text)[0]
    return PendingLaunch(
        user=user, action=form.action, state=form.fields["state"], id_token=form.fields["id_token"]
    )


def _launch_with_history(live, title: str, course_id: int, history: str) -> requests.Response:
    """Launch as a learner from a platform that substitutes ``$ResourceLink.id.history``."""
    pending = _pending(LmsUser(live, LEARNER), title, course_id)
    claims = pending.claims
    claims[CUSTOM] = {**claims.get(CUSTOM, {}), "resource_link_id_history": history}
    return pending.post(Forge(live, LEARNER).sign(claims))


def test_a_copy_named_by_resource_link_history_keeps_the_chosen_credential(live, catalog):
    teacher = LmsUser(live, INSTRUCTOR)
    source_id = teacher.course_id()
    _choose_for_welcome(live, teacher, source_id)
    copy_id = teacher.copy_course(source_id)
    original = link_in(live, WELCOME, source_id).resource_link_id
    copied = link_in(live, WELCOME, copy_id).resource_link_id

    page = _launch_with_history(live, WELCOME, copy_id, f"{original},some-older-link")
    assert page.status_code == 200, page.text
    assert f'<h1 id="credential-title">{QUESTIONING_TITLE}</h1>' in page.text
    assert bindings(live)[copied].source == LinkedCredential.COPIED


def test_an_unsubstituted_resource_link_history_is_ignored(live, catalog):
    """A platform that does not know the variable sends its name: nothing to look up."""
    teacher = LmsUser(live, INSTRUCTOR)
    source_id = teacher.course_id()
    _choose_for_welcome(live, teacher, source_id)
    copy_id = teacher.copy_course(source_id)
    page = _launch_with_history(live, WELCOME, copy_id, "$ResourceLink.id.history")
    assert "This activity is not set up yet" in page.text

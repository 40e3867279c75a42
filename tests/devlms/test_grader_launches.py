"""Launches from the gradebook, as Moodle's grader report and Canvas's SpeedGrader make them
(app/devlms/grader_launches.py): a grader opens the tool at one learner's work.

Moodle: the cell links to ``/mod/lti/grade.php``, on to ``view.php?action=gradeReport``, which
frames ``launch.php``: an LtiSubmissionReviewRequest with ``for_user.user_id`` = the learner's
``sub``. Canvas: SpeedGrader frames ``external_tools/retrieve`` at the URL of the learner's
``basic_lti_launch`` submission: an LtiResourceLinkRequest of the assignment's link whose target is
that URL, naming nobody."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest

from app.devlms.gradebook import SUBMISSION
from tests.support.lms import LmsUser, forms, set_flavour
from tests.support.score_sender import INSTRUCTOR, LEARNER, ScoreSender

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
OTHER_LEARNER = "priya.natarajan@example.edu"
GRADED = "Micro-credential: Formative Assessment"


def gradebook_cell_link(user: LmsUser, course_id: int, learner: LmsUser) -> str:
    """The "open" link of ``learner``'s cell in the demo course's gradebook."""
    page = user.http.get(f"{user.live.devlms_url}/courses/{course_id}/gradebook", timeout=30)
    assert page.status_code == 200, page.text[:300]
    found = re.search(
        rf'<a class="open-in-tool" data-open="\d+-{learner.user_id}" href="([^"]+)"', page.text
    )
    assert found, "no link to open the tool in the learner's cell"
    return unescape(found.group(1))


def framed_src(html: str) -> str:
    found = re.search(r'<iframe class="tool"[^>]*src="([^"]+)"', html)
    assert found, "no tool frame on the page"
    return unescape(found.group(1))


def claims_of(user: LmsUser, frame_src: str) -> dict[str, Any]:
    """The id_token the LMS signs for the launch the frame ``frame_src`` starts."""
    page = user.authorize(forms(user.http.get(user.live.devlms_url + frame_src).text)[0])
    assert page.status_code == 200, page.text[:300]
    token = forms(page.text)[0].fields["id_token"]
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# --- Moodle's grader report -----------------------------------------------------------------


def test_moodle_gradebook_cell_launches_a_submission_review_for_that_learner(live):
    teacher, learner = LmsUser(live, INSTRUCTOR), LmsUser(live, LEARNER)
    link = gradebook_cell_link(teacher, teacher.course_id(), learner)
    assert link.startswith("/mod/lti/grade.php?")
    view = teacher.http.get(live.devlms_url + link, timeout=30)
    assert view.status_code == 200
    assert urlsplit(view.url).path == "/mod/lti/view.php"
    src = framed_src(view.text)
    assert src.startswith("/mod/lti/launch.php?") and "action=gradeReport" in src
    claims = claims_of(teacher, src)
    assert claims[CLAIM + "message_type"] == "LtiSubmissionReviewRequest"
    assert claims[CLAIM + "for_user"] == {"user_id": learner.sub}
    assert claims["sub"] == teacher.sub
    assert claims[CLAIM + "resource_link"]["id"]
    assert any(role.endswith("membership#Instructor") for role in claims[CLAIM + "roles"])


def test_moodle_view_page_refuses_a_learner_another_persons_grade_report(live):
    learner, other = LmsUser(live, OTHER_LEARNER), LmsUser(live, LEARNER)
    link_id = learner.link_id(GRADED)
    page = learner.http.get(
        f"{live.devlms_url}/mod/lti/view.php",
        params={"id": link_id, "action": "gradeReport", "user": other.user_id},
        timeout=30,
    )
    assert page.status_code == 403
    assert "View grader report" in page.text


def test_moodle_launch_page_itself_lets_a_learner_ask_for_anothers_review(live):
    """As Moodle's launch.php: its LTI 1.3 branch initiates the login before any capability
    check, so the tool must not take ``for_user`` on trust."""
    learner, other = LmsUser(live, OTHER_LEARNER), LmsUser(live, LEARNER)
    src = (
        f"/mod/lti/launch.php?id={learner.link_id(GRADED)}&triggerview=0"
        f"&action=gradeReport&user={other.user_id}"
    )
    claims = claims_of(learner, src)
    assert claims[CLAIM + "message_type"] == "LtiSubmissionReviewRequest"
    assert claims[CLAIM + "for_user"] == {"user_id": other.sub}
    assert claims[CLAIM + "roles"] == ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]


# --- Canvas's SpeedGrader -------------------------------------------------------------------


@pytest.fixture
def canvas(live) -> ScoreSender:
    set_flavour(live, "canvas")
    return ScoreSender(live)


def submission_score(sender: ScoreSender, url: str, **extension: Any) -> dict[str, Any]:
    return sender.body(
        activityProgress="Submitted",
        gradingProgress="PendingManual",
        scoreGiven=None,
        **{
            SUBMISSION: {
                "new_submission": True,
                "submission_type": "basic_lti_launch",
                "submission_data": url,
                **extension,
            }
        },
    )


def test_speed_grader_launches_the_tool_at_the_submissions_url(live, canvas):
    url = f"{live.tool_url}/submissions/41"
    assert canvas.post(submission_score(canvas, url)).status_code == 200
    teacher, learner = LmsUser(live, INSTRUCTOR), LmsUser(live, LEARNER)
    link = gradebook_cell_link(teacher, canvas.course_id, learner)
    assert urlsplit(link).path == f"/courses/{canvas.course_id}/gradebook/speed_grader"
    page = teacher.http.get(live.devlms_url + link, timeout=30)
    assert page.status_code == 200
    assert "Jordan Lee" in page.text
    src = framed_src(page.text)
    assert urlsplit(src).path == f"/courses/{canvas.course_id}/external_tools/retrieve"
    claims = claims_of(teacher, src)
    assert claims[CLAIM + "message_type"] == "LtiResourceLinkRequest"
    assert claims[CLAIM + "target_link_uri"] == url
    assert claims["sub"] == teacher.sub
    # The assignment's own link; nothing in the launch names the learner.
    assert claims[CLAIM + "resource_link"]["title"] == GRADED
    assert CLAIM + "for_user" not in claims
    assert "https://www.instructure.com/lti_student_id" not in claims


def test_speed_grader_says_when_the_learner_has_no_submission(live, canvas):
    teacher, learner = LmsUser(live, INSTRUCTOR), LmsUser(live, OTHER_LEARNER)
    page = teacher.http.get(
        live.devlms_url + gradebook_cell_link(teacher, canvas.course_id, learner), timeout=30
    )
    assert page.status_code == 200
    assert "This student does not have a submission for this assignment" in page.text
    assert 'class="tool"' not in page.text


def test_speed_grader_launches_nothing_for_a_submission_without_a_tool_url(live, canvas):
    plain = canvas.body(**{SUBMISSION: {"new_submission": True}})  # Canvas: external_tool
    assert canvas.post(plain).status_code == 200
    teacher, learner = LmsUser(live, INSTRUCTOR), LmsUser(live, LEARNER)
    page = teacher.http.get(
        live.devlms_url + gradebook_cell_link(teacher, canvas.course_id, learner), timeout=30
    )
    assert "no tool content to launch" in page.text
    assert 'class="tool"' not in page.text


def test_speed_grader_is_for_the_courses_graders(live, canvas):
    learner = LmsUser(live, LEARNER)
    page = learner.http.get(
        f"{live.devlms_url}/courses/{canvas.course_id}/gradebook/speed_grader",
        params={"assignment_id": canvas.item_id, "student_id": learner.user_id},
        timeout=30,
    )
    assert page.status_code == 403


def test_retrieve_launches_the_assignments_link_for_a_url_off_the_tools_domain(live, canvas):
    learner = LmsUser(live, LEARNER)
    claims = claims_of(
        learner,
        f"/courses/{canvas.course_id}/external_tools/retrieve?display=borderless"
        f"&assignment_id={canvas.item_id}&url=https://elsewhere.example/submissions/41",
    )
    assert claims[CLAIM + "target_link_uri"] != "https://elsewhere.example/submissions/41"
    assert claims[CLAIM + "target_link_uri"].startswith(live.tool_url)
    assert claims[CLAIM + "resource_link"]["title"] == GRADED

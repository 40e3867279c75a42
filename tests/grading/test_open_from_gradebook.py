"""Opening one educator's submission from the LMS's gradebook (issue 22): the instructor lands on
that submission's review page, or on a page that says there is none yet; nobody else is shown
anything of it.

- Moodle's grader report sends an LtiSubmissionReviewRequest whose ``for_user`` names the
  educator; Moodle's launch page lets anyone in the course ask for one, so ``for_user`` counts
  only for the course's instructors and TAs, and only names a person of the launch's platform.
- Canvas's SpeedGrader launches the tool at the URL the tool's score gave the submission
  (``basic_lti_launch``); a learner can open any such URL (retrieve is open to the course), and
  sees only their own work.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.gradebook import SUBMISSION
from app.devlms.models import DevLink, DevScoreLog
from app.evidence.models import Attempt
from tests.evidence.support import (
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    launch,
    other_platform_attempt,
    set_state,
    start,
)
from tests.grading.gradebook_support import add_graded_activity, run_worker
from tests.grading.support import TA, make_role, set_review, submitted
from tests.support.forge import CLAIM, Forge
from tests.support.lms import LmsUser, behave_like, forms

ANSWER = "My class of 28 and the hinge."
"""What ``submitted`` writes in the educator's overview: nobody else may be shown it."""


@pytest.fixture
def graded(live, activity) -> str:
    """A graded course activity for the hinge-question credential (a link and its column)."""
    return add_graded_activity(live, HINGE)


def column_of(live, title: str) -> tuple[int, int]:
    """The (link id, column id) of the course activity titled ``title``."""
    with get_db(live.devlms).begin() as session:
        link = session.scalars(select(DevLink).where(DevLink.title == title)).one()
        assert link.line_item_id is not None
        return link.id, link.line_item_id


def open_cell(teacher: LmsUser, title: str, learner: LmsUser) -> requests.Response:
    """Click the learner's cell in the activity's gradebook column (Moodle: "Open in Microcred";
    Canvas: "Open in SpeedGrader"), and let the framed launch run; return the tool's page."""
    live = teacher.live
    _link_id, column = column_of(live, title)
    book = teacher.http.get(
        f"{live.devlms_url}/courses/{teacher.course_id()}/gradebook", timeout=30
    )
    found = re.search(
        rf'<a class="open-in-tool" data-open="{column}-{learner.user_id}" href="([^"]+)"',
        book.text,
    )
    assert found, "no link to open the tool in the learner's cell"
    page = teacher.http.get(live.devlms_url + unescape(found.group(1)), timeout=30)
    assert page.status_code == 200, page.text[:300]
    frame = re.search(r'<iframe class="tool"[^>]*src="([^"]+)"', page.text)
    assert frame, "the LMS frames no launch: " + re.sub(r"<[^>]+>", " ", page.text)[-400:]
    return framed_launch(teacher, unescape(frame.group(1)))


def framed_launch(user: LmsUser, src: str) -> requests.Response:
    """Load a launch frame's source on the LMS and complete the launch it starts."""
    initiation = user.http.get(user.live.devlms_url + src, timeout=30)
    assert initiation.status_code == 200, initiation.text[:300]
    return user.complete(forms(initiation.text)[0])


def path_of(response: requests.Response) -> str:
    return requests.utils.urlparse(response.url).path


def assert_nothing_of_theirs(page: requests.Response) -> None:
    assert ANSWER not in page.text
    assert "Jordan" not in page.text


# --- Moodle: LtiSubmissionReviewRequest with for_user ---------------------------------------


def test_moodle_gradebook_opens_the_educators_submission_for_review(live, graded):
    attempt = submitted(launch(live, LEARNER, graded))
    page = open_cell(LmsUser(live, INSTRUCTOR), graded, LmsUser(live, LEARNER))
    assert page.status_code == 200, page.text[:500]
    assert path_of(page) == f"/review/attempts/{attempt}"
    assert ANSWER in page.text


def test_moodle_gradebook_opens_it_for_a_teaching_assistant(live, graded):
    attempt = submitted(launch(live, LEARNER, graded))
    make_role(live, TA, "TeachingAssistant")
    page = open_cell(LmsUser(live, TA), graded, LmsUser(live, LEARNER))
    assert path_of(page) == f"/review/attempts/{attempt}"


def test_moodle_gradebook_says_when_the_educator_has_started_but_not_submitted(live, graded):
    start(launch(live, LEARNER, graded), HINGE)
    page = open_cell(LmsUser(live, INSTRUCTOR), graded, LmsUser(live, LEARNER))
    assert page.status_code == 200
    assert "No submission yet" in page.text
    assert "Jordan Lee has started this micro-credential but not submitted it" in page.text
    assert "/review/attempts/" not in path_of(page)


def test_moodle_gradebook_says_when_the_educator_has_not_opened_the_activity(live, graded):
    page = open_cell(LmsUser(live, INSTRUCTOR), graded, LmsUser(live, OTHER_LEARNER))
    assert page.status_code == 200
    assert "No submission yet" in page.text
    assert "has not opened this activity in Microcred yet" in page.text


def test_moodle_gradebook_keeps_a_blind_review_blind(live, graded):
    set_review(live, blind=True)
    submitted(launch(live, LEARNER, graded))
    page = open_cell(LmsUser(live, INSTRUCTOR), graded, LmsUser(live, LEARNER))
    assert page.status_code == 200
    assert "/review/attempts/" not in path_of(page)
    assert "reviewed blind" in page.text
    assert ANSWER not in page.text


def test_a_learner_asking_moodles_launch_page_for_anothers_review_gets_nothing(live, graded):
    """Moodle's launch.php sends the request for anyone who may open the activity."""
    submitted(launch(live, LEARNER, graded))
    other, jordan = LmsUser(live, OTHER_LEARNER), LmsUser(live, LEARNER)
    link_id, _column = column_of(live, graded)
    page = framed_launch(
        other,
        f"/mod/lti/launch.php?id={link_id}&triggerview=0&action=gradeReport&user={jordan.user_id}",
    )
    assert page.status_code == 403
    assert "instructors and teaching assistants" in page.text
    assert_nothing_of_theirs(page)


def submission_review(forge: Forge, title: str, for_user: str) -> requests.Response:
    """A genuine launch of ``title`` by the forge's person, made a submission review for the
    person whose ``sub`` is ``for_user`` and signed again with the platform's key."""
    pending = forge.start(title)
    claims: dict[str, Any] = pending.claims
    claims[CLAIM + "message_type"] = "LtiSubmissionReviewRequest"
    claims[CLAIM + "for_user"] = {"user_id": for_user}
    return pending.post(forge.sign(claims))


def test_a_forged_for_user_from_a_learner_shows_nothing_of_anyone_else(live, graded):
    submitted(launch(live, LEARNER, graded))
    page = submission_review(Forge(live, OTHER_LEARNER), graded, LmsUser(live, LEARNER).sub)
    assert page.status_code == 403
    assert_nothing_of_theirs(page)


def test_for_user_names_only_a_person_of_the_launchs_platform(live, graded):
    attempt = submitted(launch(live, LEARNER, graded))
    _registration, theirs = other_platform_attempt(live, attempt)  # sub "beta-user" elsewhere
    set_state(live, theirs, Attempt.SUBMITTED)
    page = submission_review(Forge(live, INSTRUCTOR), graded, "beta-user")
    assert page.status_code == 200
    assert "No submission yet" in page.text
    assert f"/review/attempts/{theirs}" not in path_of(page)


def test_a_submission_review_without_for_user_says_what_is_missing(live, graded):
    """Moodle sends no ``for_user`` when its launch page is given no user."""
    pending = Forge(live, INSTRUCTOR).start(graded)
    claims = pending.claims
    claims[CLAIM + "message_type"] = "LtiSubmissionReviewRequest"
    page = pending.post(Forge(live, INSTRUCTOR).sign(claims))
    assert page.status_code == 400
    assert "For user claim must be included" in page.text


# --- Canvas: SpeedGrader launches the submission's URL --------------------------------------


@pytest.fixture
def canvas_graded(live, activity) -> str:
    behave_like(live, "canvas")
    return add_graded_activity(live, HINGE)


def submission_url(live, title: str, email: str = LEARNER) -> str:
    """The URL the tool's score gave the educator's latest Canvas submission."""
    from app.devlms.models import DevUser

    with get_db(live.devlms).begin() as session:
        bodies = session.scalars(
            select(DevScoreLog.body)
            .join(DevLink, DevLink.line_item_id == DevScoreLog.line_item_id)
            .join(DevUser, DevUser.id == DevScoreLog.user_id)
            .where(DevLink.title == title, DevUser.email == email)
            .order_by(DevScoreLog.id)
        ).all()
    urls = [(b.get(SUBMISSION) or {}).get("submission_data") for b in bodies]
    assert urls and urls[-1], f"no submission URL in the scores: {bodies}"
    return str(urls[-1])


def test_canvas_submission_score_gives_speedgrader_the_submissions_url(live, canvas_graded):
    attempt = submitted(launch(live, LEARNER, canvas_graded))
    run_worker(live)
    with get_db(live.devlms).begin() as session:
        [body] = session.scalars(select(DevScoreLog.body)).all()
    extension = body[SUBMISSION]
    assert extension["submission_type"] == "basic_lti_launch"
    assert extension["submission_data"] == f"{live.tool_url}/submissions/{attempt}"


def test_canvas_speedgrader_opens_the_educators_submission_for_review(live, canvas_graded):
    attempt = submitted(launch(live, LEARNER, canvas_graded))
    run_worker(live)
    page = open_cell(LmsUser(live, INSTRUCTOR), canvas_graded, LmsUser(live, LEARNER))
    assert page.status_code == 200, page.text[:500]
    assert path_of(page) == f"/review/attempts/{attempt}"
    assert ANSWER in page.text


def retrieve(user: LmsUser, title: str, url: str) -> requests.Response:
    """Open the assignment's submission URL as Canvas's submission details page does."""
    _link, column = column_of(user.live, title)
    return framed_launch(
        user,
        f"/courses/{user.course_id()}/external_tools/retrieve?display=borderless"
        f"&assignment_id={column}&url={requests.utils.quote(url, safe='')}",
    )


def test_a_learner_opening_anothers_submission_url_gets_nothing(live, canvas_graded):
    submitted(launch(live, LEARNER, canvas_graded))
    run_worker(live)
    page = retrieve(
        LmsUser(live, OTHER_LEARNER), canvas_graded, submission_url(live, canvas_graded)
    )
    assert page.status_code == 404
    assert_nothing_of_theirs(page)


def test_the_educator_opening_their_submission_url_sees_their_own_work(live, canvas_graded):
    submitted(launch(live, LEARNER, canvas_graded))
    run_worker(live)
    page = retrieve(LmsUser(live, LEARNER), canvas_graded, submission_url(live, canvas_graded))
    assert page.status_code == 200
    assert path_of(page) == f"/work/{HINGE}"
    assert ANSWER in page.text

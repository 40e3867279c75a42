"""The class's progress on a course activity (issue 10, LTI-CHECKLIST H), over real launches from
the development LMS: the roster (NRPS) joined with each learner's state, the CSV, who may see
it, and what it shows when the LMS does not give the roster."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import delete, select, update

from app.db import get_db
from app.devlms.models import DevEnrolment, DevUser
from app.lti.models import Registration
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, OTHER_LEARNER, add_activity, launch
from tests.evidence.support import start as start_work
from tests.grading.support import TA, claim, decide, judgement, set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.roster import enrol_learners, withdraw_roster_service

PAGE = "/activity/progress"
CSV = "/activity/progress.csv"


@pytest.fixture
def activity(live) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    return add_activity(live, HINGE)


def listed(html: str) -> dict[str, str]:
    """Email (or name, without one) → the state shown, for each row of the table."""
    found = {}
    for state, cells in re.findall(
        r'<tr data-user="[^"]*" data-state="([^"]*)">(.*?)</tr>', html, re.S
    ):
        email = re.search(r'<span class="meta">([^<]+@[^<]+)</span>', cells)
        found[unescape(email.group(1)) if email else cells] = state
    return found


def counts(html: str) -> dict[str, int]:
    return {
        state: int(n)
        for state, n in re.findall(
            r'<li class="count-(\w+)"><a [^>]*><span class="count">(\d+)</span>', html
        )
    }


def csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


# --- States ------------------------------------------------------------------------------------


def test_each_learner_is_listed_in_their_state(live, activity):
    """Not started, drafting, submitted, in review, not yet, earned: one learner at each."""
    never, not_yet, earned = enrol_learners(live, 3)
    start_work(launch(live, LEARNER, activity), HINGE)
    submitted(launch(live, OTHER_LEARNER, activity))
    in_review = submitted(launch(live, TA, activity))
    failed = submitted(launch(live, not_yet, activity))
    passed = submitted(launch(live, earned, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    assert claim(instructor, in_review).status_code == 200
    assert decide(instructor, failed, judgement({"next-steps": False})).status_code == 200
    assert decide(instructor, passed, judgement()).status_code == 200

    page = instructor.get(PAGE)
    assert page.status_code == 200
    assert listed(page.text) == {
        never: "not_started",
        LEARNER: "draft",
        OTHER_LEARNER: "submitted",
        TA: "in_review",
        not_yet: "not_yet",
        earned: "earned",
    }
    assert counts(page.text) == {
        "not_started": 1,
        "draft": 1,
        "submitted": 1,
        "in_review": 1,
        "not_yet": 1,
        "earned": 1,
    }
    assert "Roster from the LMS, <time" in page.text and "just now" in page.text
    # The instructor is in the roster, but not a learner: not a row.
    assert INSTRUCTOR not in page.text


def test_submissions_link_to_their_review_page_and_drafts_do_not(live, activity):
    start_work(launch(live, LEARNER, activity), HINGE)
    attempt = submitted(launch(live, OTHER_LEARNER, activity))
    page = launch(live, INSTRUCTOR, activity).get(PAGE)
    links = re.findall(r'href="/review/attempts/(\d+)\?lt=', page.text)
    assert links == [str(attempt)]


def test_blind_review_submissions_have_no_named_review_link(live, activity):
    set_review(live, blind=True)
    submitted(launch(live, OTHER_LEARNER, activity))
    page = launch(live, INSTRUCTOR, activity).get(PAGE)
    assert listed(page.text)[OTHER_LEARNER] == "submitted"
    assert "/review/attempts/" not in page.text
    assert "reviewed blind" in page.text


def test_dates_and_attempt_number_are_shown(live, activity):
    attempt = submitted(launch(live, OTHER_LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    decide(instructor, attempt, judgement())
    [row] = [r for r in csv_rows(instructor.get(CSV).content) if r["Email"] == OTHER_LEARNER]
    assert row["Attempt"] == "1"
    assert row["Started (UTC)"] and row["Submitted (UTC)"] and row["Decided (UTC)"]
    assert row["Started (UTC)"] <= row["Submitted (UTC)"] <= row["Decided (UTC)"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["Decided (UTC)"])


def test_someone_who_opened_it_but_left_the_course_is_marked(live, activity):
    submitted(launch(live, OTHER_LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    with get_db(live.devlms).begin() as session:
        user = session.scalars(select(DevUser.id).where(DevUser.email == OTHER_LEARNER)).one()
        session.execute(delete(DevEnrolment).where(DevEnrolment.user_id == user))
    page = instructor.get(PAGE, refresh="1")
    assert listed(page.text)[OTHER_LEARNER] == "submitted"
    row = re.search(rf"{re.escape(OTHER_LEARNER)}.*?</th>", page.text, re.S)
    assert row and "Not in the LMS roster" in row.group(0)
    [exported] = [r for r in csv_rows(instructor.get(CSV).content) if r["Email"] == OTHER_LEARNER]
    assert exported["In the LMS roster"] == "No"


# --- Filtering and sorting ---------------------------------------------------------------------


def test_the_list_is_filtered_by_state(live, activity):
    submitted(launch(live, OTHER_LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    page = instructor.get(PAGE, state="submitted")
    assert listed(page.text) == {OTHER_LEARNER: "submitted"}
    # The counts stay those of everyone.
    assert counts(page.text)["not_started"] == 2
    assert [r["Email"] for r in csv_rows(instructor.get(CSV, state="submitted").content)] == [
        OTHER_LEARNER
    ]
    assert "Nobody is at “Earned”" in instructor.get(PAGE, state="earned").text


def test_sorting_by_state_follows_the_way_through(live, activity):
    submitted(launch(live, OTHER_LEARNER, activity))
    start_work(launch(live, LEARNER, activity), HINGE)
    page = launch(live, INSTRUCTOR, activity).get(PAGE, sort="state")
    states = re.findall(r'data-state="(\w+)"', page.text)
    assert states == ["not_started", "draft", "submitted"]
    assert 'aria-sort="ascending"><a href="/activity/progress?sort=state' in page.text


@pytest.mark.parametrize(("name", "value"), [("state", "finished"), ("sort", "shoe size")])
def test_an_unknown_filter_is_a_400_that_says_the_choices(live, activity, name, value):
    refused = launch(live, INSTRUCTOR, activity).get(PAGE, **{name: value})
    assert refused.status_code == 400
    assert "Not started" in refused.text or "Submitted" in refused.text


# --- The roster kept briefly -------------------------------------------------------------------


def test_reloading_the_page_reuses_the_roster_and_refresh_reads_it_again(live, activity):
    instructor = launch(live, INSTRUCTOR, activity)
    assert instructor.get(PAGE).status_code == 200
    newcomer = enrol_learners(live, 1)[0]
    assert newcomer not in instructor.get(PAGE).text
    assert newcomer not in instructor.get(CSV).text
    refreshed = instructor.get(PAGE, refresh="1")
    assert listed(refreshed.text)[newcomer] == "not_started"


# --- CSV -----------------------------------------------------------------------------------------


def test_the_csv_has_a_bom_a_header_and_one_row_per_learner(live, activity):
    submitted(launch(live, OTHER_LEARNER, activity))
    response = launch(live, INSTRUCTOR, activity).get(CSV)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="progress-{HINGE}-'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.content.startswith(b"\xef\xbb\xbf")
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("Name,Given name,Family name,Email,LMS user id,Roles")
    assert response.content.count(b"\r\n") == 4  # the header and three learners
    rows = {r["Email"]: r for r in csv_rows(response.content)}
    assert rows[OTHER_LEARNER]["State"] == "Submitted"
    assert rows[LEARNER]["State"] == "Not started" and rows[LEARNER]["Attempt"] == ""
    assert rows[LEARNER]["Roles"] == "Learner" and rows[LEARNER]["Enrolment"] == "Active"


def test_csv_cells_that_look_like_formulas_are_made_text(live, activity):
    """CSV injection (OWASP): a name the LMS holds must not run in the instructor's spreadsheet."""
    with get_db(live.devlms).begin() as session:
        session.execute(
            update(DevUser)
            .where(DevUser.email == LEARNER)
            .values(given_name='=HYPERLINK("https://evil.example","x")', family_name="+1-2")
        )
        session.execute(
            update(DevUser).where(DevUser.email == OTHER_LEARNER).values(family_name="@Dupont")
        )
        session.execute(update(DevUser).where(DevUser.email == TA).values(given_name="-Sam"))
    body = launch(live, INSTRUCTOR, activity).get(CSV).content
    rows = {r["Email"]: r for r in csv_rows(body)}
    assert rows[LEARNER]["Given name"] == '\'=HYPERLINK("https://evil.example","x")'
    assert rows[LEARNER]["Family name"] == "'+1-2"
    assert rows[LEARNER]["Name"].startswith("'=HYPERLINK")
    assert rows[OTHER_LEARNER]["Family name"] == "'@Dupont"
    assert rows[TA]["Given name"] == "'-Sam"
    assert rows[TA]["Family name"] == "Okafor"


# --- Who may see it ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [PAGE, CSV])
def test_a_learner_is_refused_with_a_message(live, activity, path):
    refused = launch(live, LEARNER, activity).get(path)
    assert refused.status_code == 403
    assert "Only the course's instructors and teaching assistants" in unescape(refused.text)
    assert OTHER_LEARNER not in refused.text


def test_the_activity_page_links_to_the_progress_page_for_teachers_only(live, activity):
    instructor = launch(live, INSTRUCTOR, activity)
    assert 'href="/activity/progress?lt=' in instructor.page.text
    assert "/activity/progress" not in launch(live, LEARNER, activity).page.text


def test_an_activity_without_a_credential_has_no_progress_to_show(live):
    instructor = launch(live, INSTRUCTOR, "Microcred: welcome")  # a link with no credential
    refused = instructor.get(PAGE)
    assert refused.status_code == 404
    assert "does not stand for a micro-credential yet" in refused.text


# --- Without the roster --------------------------------------------------------------------------


def test_without_the_roster_service_the_people_who_opened_it_are_listed(live, activity):
    withdraw_roster_service(live)
    submitted(launch(live, OTHER_LEARNER, activity))
    page = launch(live, INSTRUCTOR, activity).get(PAGE)
    assert page.status_code == 200
    assert listed(page.text) == {OTHER_LEARNER: "submitted"}
    text = unescape(page.text)
    assert "did not share this course's roster" in text
    # The development LMS behaves like Moodle by default: the note says where Moodle's switch is.
    assert "IMS LTI Names and Role Provisioning" in text
    assert "Refresh" not in text


def test_when_the_lms_fails_the_roster_request_the_page_still_shows_who_opened_it(live, activity):
    submitted(launch(live, OTHER_LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    with get_db(live.tool).begin() as session:
        session.execute(update(Registration).values(auth_token_url="http://127.0.0.1:1/token"))
    page = instructor.get(PAGE)
    assert page.status_code == 200
    assert listed(page.text) == {OTHER_LEARNER: "submitted"}
    text = unescape(page.text)
    assert "The LMS did not give Microcred the course roster just now" in text
    assert "refused or failed the tool's access token request: ConnectionError" in text
    assert instructor.get(CSV).status_code == 200


def test_each_learners_gradebook_state_is_shown_and_exported(live, activity):
    from tests.grading.gradebook_support import run_worker

    submitted(launch(live, OTHER_LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    assert "Waiting to be sent" in instructor.get(PAGE).text
    run_worker(live)
    assert "In the gradebook" in instructor.get(PAGE).text
    assert "In the gradebook" in instructor.get(CSV).text


@pytest.mark.parametrize(
    ("who", "path"),
    [(LEARNER, "/catalog"), (LEARNER, "/my/badges"), (INSTRUCTOR, "/review")],
)
def test_pages_a_launch_reaches_lead_back_to_its_activity(live, activity, who, path):
    """Issue 28 item 7: inside the LMS's frame there is no Back button to count on."""
    person = launch(live, who, activity)
    page = person.get(path)
    assert page.status_code == 200, page.text[:300]
    back = re.search(r'<a class="back" href="([^"]+)">Back to the activity</a>', page.text)
    assert back, "no way back to the activity"
    assert unescape(back.group(1)).startswith("/activity?")
    landing = person.get(unescape(back.group(1)))
    assert landing.status_code == 200
    assert "Back to the activity" not in landing.text  # the activity itself needs none

"""The outcome on the educator's pages, over real launches from the development LMS (issue 9,
"Outcome"): the decision with per-criterion feedback, "not yet" inviting resubmission, the
previous attempt's feedback beside each part while revising, the course activity's summary, and
a workspace whose statement count does not grow with the attempts behind it."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import event

from app.db import get_db
from app.evidence.models import Attempt
from tests.evidence.support import (
    ASSESSOR_NAME,
    HINGE,
    HINGE_NOT_YET,
    LEARNER,
    Session,
    add_activity,
    attempt_id,
    attempts,
    decide,
    launch,
    start,
)
from tests.support.catalog import seed_sample_catalog

FEEDBACK = "Your hinge question is strong. Two things to **add** before it is ready."
ALL_MET = {key: {"met": True, "comment": ""} for key in HINGE_NOT_YET}


@pytest.fixture
def activity(live) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)


@pytest.fixture
def educator(live, activity) -> Session:
    return launch(live, LEARNER, activity)


def _submitted(educator: Session) -> int:
    """Start, fill every required part and submit; return the attempt's id."""
    attempt = attempt_id(start(educator, HINGE).text)
    _fill(educator, attempt)
    done = educator.post(f"/work/attempts/{attempt}/submit")
    assert done.status_code == 200 and "Submitted" in done.text
    return attempt


def _fill(educator: Session, attempt: int, version: int = 0) -> None:
    for part, text in (("overview", "My class and the hinge."), ("reflection", "What I saw.")):
        saved = educator.put_json(
            f"/work/attempts/{attempt}/answers/{part}", {"text": text, "version": version}
        )
        assert saved.status_code == 200, saved.text
    if version:
        return  # links carried over from the previous attempt
    for part in ("lesson-plan", "response-evidence"):
        added = educator.post(
            f"/work/attempts/{attempt}/links",
            part=part,
            url="https://docs.example.org/plan",
            title="My plan",
        )
        assert added.status_code == 200, added.text[:500]


def _not_yet(live, educator: Session) -> int:
    attempt = _submitted(educator)
    decide(live, attempt, Attempt.NOT_YET, HINGE_NOT_YET, FEEDBACK)
    return attempt


def _next(educator: Session, attempt: int) -> int:
    page = educator.post(f"/work/attempts/{attempt}/next", note="Whole-class photo added.")
    assert page.status_code == 200 and "attempt" in page.text
    return attempt_id(page.text)


def _workspace(educator: Session) -> str:
    page = educator.get(f"/work/{HINGE}")
    assert page.status_code == 200
    return page.text


def _section(html: str, element_id: str) -> str:
    found = re.search(rf'<(\w+)[^>]* id="{re.escape(element_id)}"', html)
    assert found, f"no element #{element_id}"
    start_at = found.start()
    end = html.find(f"</{found.group(1)}>", start_at)
    # Sections and details nest lists, not themselves: the first closing tag of its own kind
    # after any nested one of the same name is the end.
    depth = html.count(f"<{found.group(1)}", start_at + 1, end)
    while depth:
        end = html.find(f"</{found.group(1)}>", end + 1)
        depth -= 1
    return html[start_at:end]


# --- The decision on the attempt ------------------------------------------------------------


def test_not_yet_shows_the_overall_feedback_and_each_criterions_comment(live, educator):
    _not_yet(live, educator)
    decision = _section(_workspace(educator), "decision")
    assert "Decision on attempt 1" in decision
    assert "<strong>add</strong>" in decision  # the feedback as Markdown, as answers are
    for judged in HINGE_NOT_YET.values():
        if judged["comment"]:
            assert judged["comment"] in unescape(decision)
    assert "2 of 5" in decision and "criteria are not met yet" in decision


def test_one_criterion_not_met_reads_as_one(live, educator):
    attempt = _submitted(educator)
    one_not_met = {**HINGE_NOT_YET, "next-steps": {"met": True, "comment": ""}}
    decide(live, attempt, Attempt.NOT_YET, one_not_met, FEEDBACK)
    decision = _section(_workspace(educator), "decision")
    assert "1 of 5" in decision and "criteria is not met yet" in decision


def test_each_criterion_says_met_or_not_yet_in_words(live, educator):
    _not_yet(live, educator)
    decision = _section(_workspace(educator), "decision")
    assert decision.count("</svg> Not yet</span>") == 2
    assert decision.count("</svg> Met</span>") == 3


def test_not_yet_lists_the_criteria_that_need_work_first(live, educator):
    _not_yet(live, educator)
    decision = _section(_workspace(educator), "decision")
    order = re.findall(r'id="verdict-([\w-]+)"', decision)
    assert order == [
        "every-student-responds",
        "next-steps",
        "diagnostic-question",
        "planned-decision-rule",
        "responsive-adjustment",
    ]


def test_not_yet_invites_resubmission_naming_how_many_criteria_need_work(live, educator):
    _not_yet(live, educator)
    page = _workspace(educator)
    form = page.split('class="next-attempt"', 1)[1]
    assert "invited to revise your evidence and submit it again" in form
    assert "2 criteria need work" in form
    assert page.index('id="decision"') < page.index("Start attempt 2 of 3")


def test_the_assessor_is_never_named(live, educator):
    _not_yet(live, educator)
    page = _workspace(educator)
    assert ASSESSOR_NAME not in page and "q.blackwood" not in page
    assert "The assessor\u2019s feedback" in page


def test_earned_shows_every_criterion_met_and_no_next_attempt(live, educator):
    attempt = _submitted(educator)
    decide(live, attempt, Attempt.EARNED, ALL_MET, "Well evidenced throughout.")
    page = _workspace(educator)
    decision = _section(page, "decision")
    assert "<strong>Earned.</strong>" in decision and "Well evidenced throughout." in decision
    assert decision.count("</svg> Met</span>") == 5 and "Not yet" not in decision
    assert "Start attempt" not in page


def test_a_not_yet_without_a_recorded_decision_still_offers_the_next_attempt(live, educator):
    from tests.evidence.support import set_state

    attempt = _submitted(educator)
    set_state(live, attempt, Attempt.NOT_YET)
    page = _workspace(educator)
    assert 'id="decision"' not in page and "Start attempt 2 of 3" in page


# --- Revising: attempt n + 1 ----------------------------------------------------------------


def test_the_next_attempt_shows_the_previous_feedback_collapsed(live, educator):
    _next(educator, _not_yet(live, educator))
    page = _workspace(educator)
    previous = _section(page, "previous-decision")
    assert previous.startswith("<details") and " open" not in previous.split(">", 1)[0]
    assert "Feedback on attempt 1" in previous
    assert HINGE_NOT_YET["next-steps"]["comment"] in previous
    assert 'id="decision"' not in page


def test_each_part_shows_the_comments_of_its_criteria_not_met(live, educator):
    _next(educator, _not_yet(live, educator))
    page = _workspace(educator)
    evidence = _section(page, "part-feedback-response-evidence")
    assert HINGE_NOT_YET["every-student-responds"]["comment"] in unescape(evidence)
    assert "Every student responds" in evidence and "Not yet" in evidence
    reflection = _section(page, "part-feedback-reflection")
    assert HINGE_NOT_YET["next-steps"]["comment"] in reflection
    # Met criteria leave their parts alone, and their comments stay in the collapsed feedback.
    assert 'id="part-feedback-overview"' not in page
    assert 'id="part-feedback-lesson-plan"' not in page
    reflection_part = _section(page, "part-reflection")
    assert HINGE_NOT_YET["responsive-adjustment"]["comment"] not in reflection_part


def test_the_feedback_stays_beside_the_parts_once_the_next_attempt_is_submitted(live, educator):
    second = _next(educator, _not_yet(live, educator))
    _fill(educator, second, version=1)
    assert educator.post(f"/work/attempts/{second}/submit").status_code == 200
    page = _workspace(educator)
    assert "Feedback on attempt 1" in page and 'id="part-feedback-reflection"' in page


def test_a_decided_next_attempt_shows_only_its_own_decision(live, educator):
    second = _next(educator, _not_yet(live, educator))
    _fill(educator, second, version=1)
    educator.post(f"/work/attempts/{second}/submit")
    decide(live, second, Attempt.EARNED, ALL_MET, "Now complete.")
    page = _workspace(educator)
    assert "Decision on attempt 2" in page and "Now complete." in page
    assert "Feedback on attempt 1" not in page and "part-feedback-" not in page


# --- The course activity's summary ----------------------------------------------------------


def test_the_activity_page_points_to_the_assessors_feedback(live, educator, activity):
    _not_yet(live, educator)
    page = launch(live, LEARNER, activity).page.text
    assert "<strong>Not yet</strong> — see the assessor\u2019s feedback." in page
    assert re.search(rf'href="/work/{HINGE}\?[^"]*#decision"', page)


def test_the_activity_page_says_earned(live, educator, activity):
    decide(live, _submitted(educator), Attempt.EARNED, ALL_MET)
    page = launch(live, LEARNER, activity).page.text
    assert "<strong>Earned</strong>." in page
    assert re.search(rf'href="/work/{HINGE}\?[^"]*#decision"', page)


def test_the_catalog_page_points_to_the_assessors_feedback(live, educator):
    _not_yet(live, educator)
    page = educator.get(f"/catalog/credentials/{HINGE}").text
    assert "<strong>Not yet</strong> — see the assessor\u2019s feedback." in page


# --- Statements -----------------------------------------------------------------------------


def _statements(live, educator: Session) -> int:
    """Statements one workspace request sends (after a warm-up request)."""
    sent = [0]

    def count(*_args: Any) -> None:
        sent[0] += 1

    engine = get_db(live.tool).engine
    client = live.tool.test_client()
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(2):
            sent[0] = 0
            response = client.get(f"/work/{HINGE}", query_string={"lt": educator.token})
            assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return sent[0]


def test_the_workspace_sends_as_many_statements_whatever_the_attempts_and_decisions(live, educator):
    counts = {}
    first = _submitted(educator)
    counts["submitted"] = _statements(live, educator)
    decide(live, first, Attempt.NOT_YET, HINGE_NOT_YET, FEEDBACK)
    counts["not yet"] = _statements(live, educator)
    second = _next(educator, first)
    counts["revising once"] = _statements(live, educator)
    _fill(educator, second, version=1)
    educator.post(f"/work/attempts/{second}/submit")
    counts["second submitted"] = _statements(live, educator)
    decide(live, second, Attempt.NOT_YET, HINGE_NOT_YET, FEEDBACK)
    counts["second not yet"] = _statements(live, educator)
    _next(educator, second)
    counts["revising twice"] = _statements(live, educator)
    assert [a.number for a in attempts(live)] == [1, 2, 3]
    # A waiting attempt's page also says where its review stands and how long reviews take (a
    # few statements more); each kind of page costs the same however many attempts came before.
    waiting = {counts.pop("submitted"), counts.pop("second submitted")}
    assert len(waiting) == 1 and len(set(counts.values())) == 1, (waiting, counts)

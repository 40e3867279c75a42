"""Reviewing over real launches from the development LMS (issue 9): who may review, the queue,
claims, drafts, the decision with its outbox event, blind review, second and lead reviews, and
every refusal as a 4xx with a message."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from sqlalchemy import select, update

from app.db import get_db, utcnow
from app.evidence.models import Attempt
from app.grading.models import Decision, Review
from app.outbox.models import OutboxEvent
from tests.evidence.support import (
    HINGE,
    INSTRUCTOR,
    OTHER_LEARNER,
    Session,
    add_activity,
    launch,
    other_platform_attempt,
)
from tests.grading.support import (
    claim,
    decide,
    draft,
    form_of,
    judgement,
    make_role,
    review_ids,
    reviews,
    set_review,
    state_of,
    submitted,
    text_of,
)


def events(live, attempt: int) -> list[OutboxEvent]:
    with get_db(live.tool).begin() as session:
        found = list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.attempt_id == attempt)
                .order_by(OutboxEvent.id)
            )
        )
        session.expunge_all()
        return found


# --- Who reviews ----------------------------------------------------------------------------


def test_a_learner_cannot_open_the_queue(live, educator):
    refused = educator.get("/review")
    assert refused.status_code == 403
    assert "instructors and teaching assistants" in refused.text


def test_a_learner_cannot_claim_a_submission(live, educator, activity):
    attempt = submitted(educator)
    other = launch(live, OTHER_LEARNER, activity)
    assert claim(other, attempt).status_code == 403
    assert state_of(live, attempt) == "submitted"


def test_the_instructor_sees_the_courses_submission_in_the_queue(live, educator, instructor):
    attempt = submitted(educator)
    page = instructor.get("/review")
    assert page.status_code == 200
    assert f'data-attempt="{attempt}"' in page.text
    assert "Jordan Lee" in page.text and "Ready to review" in page.text


def test_a_draft_is_not_in_the_queue(live, educator, instructor):
    from tests.evidence.support import attempt_id, start

    attempt = attempt_id(start(educator, HINGE).text)
    assert f'data-attempt="{attempt}"' not in instructor.get("/review").text
    assert instructor.get(f"/review/attempts/{attempt}").status_code == 404


def test_an_instructor_of_another_course_does_not_see_it(live, educator, activity):
    from tests.evidence.support import second_course

    attempt = submitted(educator)
    other_course = second_course(live, "Another course")
    elsewhere = add_activity(live, HINGE, course=other_course)
    teacher = launch(live, INSTRUCTOR, elsewhere)
    # Jordan is enrolled there too but never opened that course's link: not its submission.
    assert f'data-attempt="{attempt}"' not in teacher.get("/review").text
    assert teacher.get(f"/review/attempts/{attempt}").status_code == 404


def test_nobody_reviews_their_own_submission(live, activity):
    """An instructor who also submitted (e.g. a coach earning it) does not see their own."""
    teacher = launch(live, INSTRUCTOR, activity)
    attempt = submitted(teacher)
    assert f'data-attempt="{attempt}"' not in teacher.get("/review").text
    assert claim(teacher, attempt).status_code == 404
    assert state_of(live, attempt) == "submitted"


def test_another_platforms_submission_is_not_found(live, educator, instructor):
    """Every review route that takes an id, with another platform's ids (tests/test_tenancy)."""
    from tests.test_tenancy import TENANT_ROUTES

    _, theirs = other_platform_attempt(live, submitted(educator))
    with get_db(live.tool).begin() as session:
        session.execute(
            update(Attempt)
            .where(Attempt.id == theirs)
            .values(state="submitted", submitted_at=utcnow())
        )
    for endpoint, build in TENANT_ROUTES.items():
        if not endpoint.startswith("grading."):
            continue
        path = build({"attempt": theirs})
        if endpoint in ("grading.review_page", "grading.confirm", "grading.submission"):
            response = instructor.get(path)
        elif endpoint == "grading.save_draft_json":
            response = draft(instructor, theirs, 1, 1, {})
        else:
            response = instructor.post(path, review="1", version="1")
        assert response.status_code == 404, (endpoint, response.status_code)
    assert reviews(live, theirs) == []


# --- Claims ---------------------------------------------------------------------------------


def test_claiming_opens_the_review_and_marks_the_attempt_in_review(live, educator, instructor):
    attempt = submitted(educator)
    page = claim(instructor, attempt)
    assert page.status_code == 200
    assert "You are reviewing this submission" in page.text
    assert state_of(live, attempt) == "in_review"
    [review] = reviews(live, attempt)
    assert review.state == Review.CLAIMED and review.round == Review.FIRST


def test_two_assessors_claiming_at_once_one_wins(live, educator, instructor, assistant):
    attempt = submitted(educator)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def press(who: Session) -> None:
        barrier.wait()
        response = requests.post(
            f"{live.tool_url}/review/attempts/{attempt}/claim",
            data={"lt": who.token},
            cookies=who.user.http.cookies,
            timeout=30,
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=press, args=(who,)) for who in (instructor, assistant)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 409]
    assert len(reviews(live, attempt)) == 1


def test_a_claimed_submission_tells_the_other_assessor_who_has_it(
    live, educator, instructor, assistant
):
    attempt = submitted(educator)
    claim(instructor, attempt)
    refused = claim(assistant, attempt)
    assert refused.status_code == 409
    assert "Maria Alvarez is reviewing this submission" in refused.text
    queue = assistant.get("/review").text
    row = queue.split(f'data-attempt="{attempt}"')[1].split("</tr>")[0]
    assert "Being reviewed by someone else" in row


def test_an_expired_claim_can_be_taken_over_and_its_draft_goes(
    live, educator, instructor, assistant
):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    assert draft(instructor, attempt, review, version, judgement({"next-steps": False}, "Mine")).ok
    with get_db(live.tool).begin() as session:
        session.execute(update(Review).where(Review.id == review).values(expires_at=utcnow()))
    page = claim(assistant, attempt)
    assert page.status_code == 200
    assert "Mine" not in page.text
    [row] = reviews(live, attempt)
    assert row.criteria == {} and row.state == Review.CLAIMED
    lost = draft(instructor, attempt, review, version + 1, judgement())
    assert lost.status_code == 409
    assert "is reviewing this submission" in lost.json()["error"]["message"]


def test_reopening_ones_own_expired_claim_keeps_the_draft(live, educator, instructor):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    assert draft(instructor, attempt, review, version, judgement(), "Before lunch").ok
    with get_db(live.tool).begin() as session:
        session.execute(update(Review).where(Review.id == review).values(expires_at=utcnow()))
    page = claim(instructor, attempt)
    assert page.status_code == 200 and "Before lunch" in page.text
    [row] = reviews(live, attempt)
    assert row.feedback == "Before lunch" and row.expires_at > utcnow()


def test_giving_a_submission_back_frees_it(live, educator, instructor, assistant):
    attempt = submitted(educator)
    claim(instructor, attempt)
    back = instructor.post(f"/review/attempts/{attempt}/release")
    assert back.status_code == 200 and "back to the queue" in back.text
    assert state_of(live, attempt) == "submitted"
    assert claim(assistant, attempt).status_code == 200


def test_review_the_next_submission_takes_the_oldest_free_one(
    live, educator, instructor, assistant, activity
):
    first = submitted(educator)
    second = submitted(launch(live, OTHER_LEARNER, activity))
    claim(instructor, first)
    page = assistant.post("/review/next")
    assert page.status_code == 200
    assert f"/review/attempts/{second}" in page.url


# --- Drafts ---------------------------------------------------------------------------------


def test_a_draft_autosaves_and_comes_back(live, educator, instructor):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    saved = draft(
        instructor,
        attempt,
        review,
        version,
        judgement({"next-steps": False}, "Plan the next lesson."),
        "Good start",
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["version"] == version + 1 and body["judged"] == 5 and body["outcome"] == "not_yet"
    page = instructor.get(f"/review/attempts/{attempt}").text
    assert "Plan the next lesson." in page and "Good start" in page
    assert re.search(r'name="met-next-steps" value="not_yet" checked', page)


def test_a_stale_draft_is_a_409_and_changes_nothing(live, educator, instructor):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    assert draft(instructor, attempt, review, version, judgement(), "first").ok
    stale = draft(instructor, attempt, review, version, judgement(), "second")
    assert stale.status_code == 409
    assert stale.json()["version"] == version + 1
    [row] = reviews(live, attempt)
    assert row.feedback == "first"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("not json", "Send the review as JSON"),
        ({"review": "x", "version": 1, "criteria": {}}, "which review and version"),
        ({"version": 1, "criteria": {}}, "which review and version"),
        ({"review": 1, "version": 1, "criteria": []}, "Send the review as JSON"),
    ],
)
def test_a_malformed_draft_is_a_400_with_a_message(live, educator, instructor, body, words):
    attempt = submitted(educator)
    claim(instructor, attempt)
    response = instructor.user.http.post(
        f"{live.tool_url}/review/attempts/{attempt}/draft",
        **({"data": body} if isinstance(body, str) else {"json": body}),
        headers={
            "Authorization": f"Bearer {instructor.token}",
            "Accept": "application/json",
            **({"Content-Type": "application/json"} if isinstance(body, str) else {}),
        },
        timeout=30,
    )
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]


def test_an_unknown_criterion_or_a_bad_mark_is_refused(live, educator, instructor):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    unknown = draft(instructor, attempt, review, version, {"made-up": {"met": True}})
    assert (
        unknown.status_code == 400 and "no criterion made-up" in unknown.json()["error"]["message"]
    )
    bad = draft(instructor, attempt, review, version, {"next-steps": {"met": "yes"}})
    assert bad.status_code == 400 and "met or not yet" in bad.json()["error"]["message"]


def test_a_comment_too_long_is_refused_and_the_form_keeps_the_text(live, educator, instructor):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    criteria = judgement({"next-steps": False}, "x" * 5000)
    refused = instructor.post(
        f"/review/attempts/{attempt}/save",
        review=str(review),
        version=str(version),
        action="save",
        **form_of(criteria, "Kept feedback"),
    )
    assert refused.status_code == 400
    assert "at most 4000 characters" in refused.text and "Kept feedback" in refused.text
    assert reviews(live, attempt)[0].feedback == ""


# --- The decision ---------------------------------------------------------------------------


def test_continuing_with_a_criterion_unjudged_shows_what_is_missing(live, educator, instructor):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    criteria = judgement()
    criteria["next-steps"]["met"] = None
    page = instructor.post(
        f"/review/attempts/{attempt}/save",
        review=str(review),
        version=str(version),
        action="decide",
        **form_of(criteria),
    )
    assert page.status_code == 400
    assert "mark every criterion met or not yet" in page.text
    assert state_of(live, attempt) == "in_review"


def test_not_yet_without_a_comment_cannot_be_decided(live, educator, instructor):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    page = instructor.post(
        f"/review/attempts/{attempt}/save",
        review=str(review),
        version=str(version),
        action="decide",
        **form_of(judgement({"next-steps": False}, comment="")),
    )
    assert page.status_code == 400
    assert "say what is missing" in page.text


def test_the_confirmation_page_shows_the_outcome_before_anything_is_final(
    live, educator, instructor
):
    attempt = submitted(educator)
    review, version = review_ids(claim(instructor, attempt).text)
    page = instructor.post(
        f"/review/attempts/{attempt}/save",
        review=str(review),
        version=str(version),
        action="decide",
        **form_of(judgement({"next-steps": False}, "Name the next step.")),
    )
    assert page.status_code == 200 and "/decide" in page.url
    assert "Confirm: not yet" in page.text
    assert state_of(live, attempt) == "in_review" and events(live, attempt)[-1].kind == "submitted"


def test_a_decision_sets_the_outcome_and_writes_its_event(live, educator, instructor):
    attempt = submitted(educator)
    done = decide(
        instructor, attempt, judgement({"next-steps": False}, "Name the next step."), "Close."
    )
    assert done.status_code == 200 and "Decision recorded: not yet" in done.text
    assert state_of(live, attempt) == "not_yet"
    with get_db(live.tool).begin() as session:
        decision = session.scalars(select(Decision).where(Decision.attempt_id == attempt)).one()
        assert decision.outcome == "not_yet" and decision.feedback == "Close."
        assert decision.criteria["next-steps"] == {"met": False, "comment": "Name the next step."}
    kinds = [(e.kind, e.payload.get("outcome")) for e in events(live, attempt)]
    assert kinds == [("submitted", None), ("decided", "not_yet")]


def test_all_met_earns(live, educator, instructor):
    attempt = submitted(educator)
    done = decide(instructor, attempt, judgement())
    assert "Decision recorded: earned" in done.text
    assert state_of(live, attempt) == "earned"


def test_a_decided_submission_cannot_be_claimed_again(live, educator, instructor, assistant):
    attempt = submitted(educator)
    decide(instructor, attempt, judgement())
    again = claim(assistant, attempt)
    assert again.status_code == 409 and "decided already" in again.text
    page = assistant.get(f"/review/attempts/{attempt}")
    assert page.status_code == 200 and "Decided: earned" in page.text


def test_the_educator_can_resubmit_after_not_yet_and_the_new_attempt_is_queued(
    live, educator, instructor
):
    attempt = submitted(educator)
    decide(instructor, attempt, judgement({"next-steps": False}, "Name the next step."))
    nxt = educator.post(f"/work/attempts/{attempt}/next", note="Added next steps.")
    assert nxt.status_code == 200
    from tests.evidence.support import attempt_id

    second = attempt_id(nxt.text)
    assert educator.post(f"/work/attempts/{second}/submit").status_code == 200
    page = claim(instructor, second).text
    assert "The previous attempt was “not yet”" in page and "Added next steps." in page


# --- Blind review ---------------------------------------------------------------------------


def test_blind_review_never_shows_the_educators_name_email_or_course(
    live, educator, instructor, activity
):
    set_review(live, blind=True)
    attempt = submitted(educator)
    secrets = ("Jordan", "Lee", "jordan.lee", "Teaching", activity)
    queue = instructor.get("/review").text
    page = claim(instructor, attempt).text
    review, version = review_ids(page)
    saved = draft(instructor, attempt, review, version, judgement()).text
    # The queue's heading names the reviewer's own course; the rows must not name any.
    row = queue.split(f'data-attempt="{attempt}"')[1].split("</tr>")[0]
    for body in (row, page, saved):
        visible = text_of(body)
        for secret in secrets:
            assert secret not in visible, secret
    assert "Hidden" in queue


def test_blind_review_in_the_organisation_hides_names_too(live, educator, instructor):
    set_review(live, blind=False, organisation_blind=True)
    submitted(educator)
    assert "Jordan Lee" not in instructor.get("/review").text


# --- Second and lead reviews ----------------------------------------------------------------


def test_with_a_second_review_the_first_does_not_decide(live, educator, instructor, assistant):
    set_review(live, second_review=True)
    attempt = submitted(educator)
    done = decide(instructor, attempt, judgement())
    assert "waits for a second, independent review" in done.text
    assert state_of(live, attempt) == "in_review"
    row = instructor.get("/review").text.split(f'data-attempt="{attempt}"')[1].split("</tr>")[0]
    assert "waiting for a second reviewer" in row
    assert claim(instructor, attempt).status_code == 409


def test_the_second_reviewer_does_not_see_the_first_judgement(
    live, educator, instructor, assistant
):
    set_review(live, second_review=True)
    attempt = submitted(educator)
    decide(
        instructor,
        attempt,
        judgement({"next-steps": False}, "First reviewer's words"),
        "First feedback",
    )
    page = claim(assistant, attempt).text
    assert "Second review" in page
    assert "First reviewer's words" not in page and "First feedback" not in page


def test_two_agreeing_reviews_decide_with_both_comments(live, educator, instructor, assistant):
    set_review(live, second_review=True)
    attempt = submitted(educator)
    decide(instructor, attempt, judgement({"next-steps": False}, "Add a next step."))
    done = decide(assistant, attempt, judgement({"next-steps": False}, "Say what comes next."))
    assert "Decision recorded: not yet" in done.text
    with get_db(live.tool).begin() as session:
        decision = session.scalars(select(Decision).where(Decision.attempt_id == attempt)).one()
        assert (
            decision.criteria["next-steps"]["comment"] == "Add a next step.\n\nSay what comes next."
        )


def test_disagreeing_reviews_go_to_a_lead_who_decides(
    live, educator, instructor, assistant, activity
):
    set_review(live, second_review=True)
    attempt = submitted(educator)
    decide(assistant, attempt, judgement())
    done = decide(instructor, attempt, judgement({"next-steps": False}, "Missing."))
    assert "a lead reviewer will settle it" in done.text
    assert state_of(live, attempt) == "in_review"
    # The lead must be someone who made neither review: a third teacher.
    make_role(live, OTHER_LEARNER, "Instructor")
    lead = launch(live, OTHER_LEARNER, activity)
    page = claim(lead, attempt)
    assert page.status_code == 200 and "Lead review" in page.text
    assert "Review 1:" in page.text and "Missing." in page.text
    final = decide(lead, attempt, judgement())
    assert "Decision recorded: earned" in final.text
    assert [r.round for r in reviews(live, attempt)] == [1, 2, 3]


def test_a_teaching_assistant_is_not_a_lead(live, educator, instructor, assistant, activity):
    set_review(live, second_review=True)
    attempt = submitted(educator)
    decide(instructor, attempt, judgement())
    make_role(live, OTHER_LEARNER, "TeachingAssistant")
    third = launch(live, OTHER_LEARNER, activity)
    decide(third, attempt, judgement({"next-steps": False}, "No."))
    refused = claim(assistant, attempt)
    assert refused.status_code == 409 and "waiting for a lead reviewer" in refused.text

"""The tool's AGS client (LTI-CHECKLIST G, J): scores against the development LMS over HTTP
(Moodle-strict), and the answers it does not give (429, 5xx, Canvas's 422, 403) from a small
real HTTP server on loopback."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import delete, update

from app.db import get_db
from app.devlms.models import DevLineItem
from app.lti import USER_AGENT
from app.lti.ags import (
    LINE_ITEM_GONE,
    NOT_GRADABLE,
    SCORE_SCOPES,
    Answer,
    ScoreSend,
    Throttled,
    next_page_url,
    results_url,
    retry_after_seconds,
    scores_url,
    with_query,
)
from app.lti.models import Registration
from app.lti.platform_services import PlatformServiceError
from app.lti.platforms import SCOPE_SCORE, plugin
from tests.support.ags import (
    Canned,
    ags_client,
    canned_server,
    demo_gradebook,
    grade,
    in_threads,
    issued_tokens,
    revoke_tokens,
    run_together,
    score,
    score_log,
    seconds_ago,
    token_cache,
)

JORDAN = "jordan.lee@example.edu"
PRIYA = "priya.natarajan@example.edu"
SAMUEL = "samuel.okafor@example.edu"
MARIA = "maria.alvarez@example.edu"  # the course's instructor


# --- URLs, bodies, headers (no server) ----------


@pytest.mark.parametrize(
    ("line_item", "expected"),
    [
        ("https://lms.example/ags/7/lineitem", "https://lms.example/ags/7/lineitem/scores"),
        ("https://lms.example/ags/7/lineitem/", "https://lms.example/ags/7/lineitem/scores"),
        (
            "https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem?type_id=3",
            "https://moodle.example/mod/lti/services.php/2/lineitems/5/lineitem/scores?type_id=3",
        ),
        (
            "https://lms.example/ags/7/lineitem/?type_id=3&x=a%20b",
            "https://lms.example/ags/7/lineitem/scores?type_id=3&x=a%20b",
        ),
    ],
)
def test_scores_url_goes_before_the_query_string(line_item, expected):
    assert scores_url(line_item) == expected


def test_results_url_goes_before_the_query_string():
    assert (
        results_url("https://lms.example/lineitems/5/lineitem?type_id=3")
        == "https://lms.example/lineitems/5/lineitem/results?type_id=3"
    )
    assert results_url("https://lms.example/items/5/") == "https://lms.example/items/5/results"


def test_query_parameters_join_an_existing_query_string():
    assert (
        with_query("https://lms.example/lineitems?type_id=3", {"tag": "a b", "limit": 2})
        == "https://lms.example/lineitems?type_id=3&tag=a+b&limit=2"
    )
    assert with_query("https://lms.example/lineitems", {"tag": "x", "resource_id": None}) == (
        "https://lms.example/lineitems?tag=x"
    )
    assert with_query("https://lms.example/lineitems?a=1", {"tag": None}) == (
        "https://lms.example/lineitems?a=1"
    )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://lms.example/items?page=2>; rel="next"', "https://lms.example/items?page=2"),
        (
            '<https://lms.example/items?page=1>; rel="first", '
            '<https://lms.example/items?page=3>; rel="last", '
            '<https://lms.example/items?page=2>; rel="next"',
            "https://lms.example/items?page=2",
        ),
        ("<https://lms.example/items?page=2>; rel=next", "https://lms.example/items?page=2"),
        (
            '<https://lms.example/a,b?page=2>; title="x; y, z"; rel="next last"',
            "https://lms.example/a,b?page=2",
        ),
        ('</items?page=2>; REL="Next"', "https://lms.example/items?page=2"),
        ('<https://lms.example/items?page=3>; rel="last"', None),
        ('<https://lms.example/items?page=0>; rel="prev"', None),
        ("", None),
        (None, None),
    ],
)
def test_next_page_is_read_from_the_link_header(header, expected):
    assert next_page_url(header, "https://lms.example/items?page=1") == expected


def test_score_body_has_the_ags_fields_and_a_millisecond_utc_timestamp():
    moment = datetime(2026, 11, 23, 11, 0, 0, 123456, tzinfo=UTC) + timedelta(hours=0)
    body = ScoreSend(
        user_id="u1",
        timestamp=moment.astimezone(datetime.now().astimezone().tzinfo),
        activity_progress="Completed",
        grading_progress="FullyGraded",
        score_given=8,
        score_maximum=10,
        comment="Good.",
    ).to_json()
    assert body == {
        "userId": "u1",
        "timestamp": "2026-11-23T11:00:00.123Z",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": 8,
        "scoreMaximum": 10,
        "comment": "Good.",
    }


def test_submitted_score_carries_no_score_or_comment():
    body = ScoreSend(
        user_id="u1",
        timestamp=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        activity_progress="Submitted",
        grading_progress="PendingManual",
    ).to_json()
    assert body["timestamp"] == "2026-11-23T10:00:00.000Z"
    assert not {"scoreGiven", "scoreMaximum", "comment"} & set(body)


def test_extensions_are_top_level_members():
    canvas = "https://canvas.instructure.com/lti/submission"
    body = ScoreSend(
        user_id="u1",
        timestamp=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        activity_progress="Submitted",
        grading_progress="PendingManual",
        extensions={canvas: {"new_submission": True}},
    ).to_json()
    assert body[canvas] == {"new_submission": True}


def test_score_given_without_score_maximum_is_a_programming_error():
    with pytest.raises(ValueError):
        ScoreSend("u1", datetime.now(UTC), "Completed", "FullyGraded", score_given=3)


def test_naive_timestamp_is_a_programming_error():
    with pytest.raises(ValueError):
        ScoreSend("u1", datetime(2026, 1, 1), "Completed", "FullyGraded")


def test_retry_after_in_seconds_and_as_an_http_date():
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds(None, now) is None


# --- scores against the development LMS ----------


@pytest.fixture
def gradebook(live):
    return demo_gradebook(live)


@pytest.fixture
def tokens(live):
    return token_cache(live)


@pytest.fixture
def ags(live, tokens):
    client = ags_client(live, tokens)
    yield client
    client.close()


def test_score_reaches_the_lms_gradebook(live, gradebook, ags):
    jordan = gradebook.subs[JORDAN]
    outcome = ags.send_score(gradebook.registration_id, gradebook.line_item_url, score(jordan))
    assert outcome.answer is Answer.DELIVERED and outcome.status == 204
    cell = grade(live, gradebook.line_item_id, jordan)
    assert cell.score_given == 80 and cell.comment == "Well evidenced."
    [sent] = score_log(live, gradebook.line_item_id)
    assert sent["timestamp"].endswith("Z") and len(sent["timestamp"]) == 24


def test_scores_reach_a_moodle_line_item_whose_url_has_a_query_string(live, gradebook, ags):
    assert "?type_id=" in gradebook.line_item_url
    outcome = ags.send_score(
        gradebook.registration_id, gradebook.line_item_url, score(gradebook.subs[PRIYA], 55)
    )
    assert outcome.answer is Answer.DELIVERED
    assert grade(live, gradebook.line_item_id, gradebook.subs[PRIYA]).score_given == 55


def test_older_timestamp_than_the_lms_holds_is_stale(live, gradebook, ags):
    jordan = gradebook.subs[JORDAN]
    send = ags.send_score
    assert send(gradebook.registration_id, gradebook.line_item_url, score(jordan, 90)).answer == (
        Answer.DELIVERED
    )
    older = score(jordan, 10, at=seconds_ago(60))
    outcome = send(gradebook.registration_id, gradebook.line_item_url, older)
    assert outcome.answer is Answer.STALE and outcome.status == 409
    assert outcome.reason.startswith("The LMS already holds a newer score for this person.")
    assert grade(live, gradebook.line_item_id, jordan).score_given == 90


def test_score_for_a_non_learner_is_permanent_with_a_plain_reason(gradebook, ags):
    outcome = ags.send_score(
        gradebook.registration_id, gradebook.line_item_url, score(gradebook.subs[MARIA])
    )
    assert outcome.answer is Answer.PERMANENT and outcome.status == 400
    assert outcome.reason == f"{NOT_GRADABLE} (HTTP 400: Incorrect score received)"


def test_score_for_a_deleted_line_item_is_permanent(live, gradebook, ags):
    column = ags.create_line_item(
        gradebook.registration_id, gradebook.lineitems_url, label="Soon gone", score_maximum=10
    )
    with get_db(live.devlms).begin() as session:
        session.execute(delete(DevLineItem).where(DevLineItem.label == "Soon gone"))
    outcome = ags.send_score(gradebook.registration_id, column.url, score(gradebook.subs[JORDAN]))
    assert outcome.answer is Answer.PERMANENT and outcome.status == 404
    assert outcome.reason.startswith(LINE_ITEM_GONE)


def test_revoked_token_is_replaced_within_one_call(live, gradebook, tokens, ags):
    jordan = gradebook.subs[JORDAN]
    first = score(jordan, 70, at=seconds_ago(10))
    assert ags.send_score(gradebook.registration_id, gradebook.line_item_url, first).answer == (
        Answer.DELIVERED
    )
    revoke_tokens(live)
    outcome = ags.send_score(gradebook.registration_id, gradebook.line_item_url, score(jordan))
    assert outcome.answer is Answer.DELIVERED
    assert tokens.requests_made == 2
    assert issued_tokens(live) == 1  # the one issued after the revocation
    assert grade(live, gradebook.line_item_id, jordan).score_given == 80


def test_many_scores_from_many_threads_need_one_token(live, gradebook, tokens, ags):
    columns = [
        ags.create_line_item(
            gradebook.registration_id, gradebook.lineitems_url, label=f"C{n}", score_maximum=100
        )
        for n in range(8)
    ]
    learners = [gradebook.subs[e] for e in (JORDAN, PRIYA, SAMUEL)]
    sends = [
        lambda column=column, sub=sub: ags.send_score(
            gradebook.registration_id, column.url, score(sub)
        )
        for column in columns
        for sub in learners
    ]
    outcomes = run_together(sends)
    assert [o.answer for o in outcomes] == [Answer.DELIVERED] * 24
    assert issued_tokens(live, SCOPE_SCORE) == 1


def test_unreachable_lms_is_retry_never_an_exception(gradebook, ags):
    nowhere = "http://127.0.0.1:1/api/lti/courses/1/lineitems/1/lineitem?type_id=1"
    outcome = ags.send_score(gradebook.registration_id, nowhere, score(gradebook.subs[JORDAN]))
    assert outcome.answer is Answer.RETRY and outcome.status is None
    assert "could not reach the LMS (ConnectionError)" in outcome.reason


def test_refused_token_request_is_retry_naming_the_token_error(live, gradebook, ags):
    with get_db(live.tool).begin() as session:
        session.execute(update(Registration).values(client_id="not-registered"))
    outcome = ags.send_score(
        gradebook.registration_id, gradebook.line_item_url, score(gradebook.subs[JORDAN])
    )
    assert outcome.answer is Answer.RETRY and outcome.status is None
    assert outcome.reason.startswith("The tool could not get access to the LMS:")
    assert "HTTP 401: invalid_client" in outcome.reason


def test_deactivated_registration_is_permanent(live, gradebook, ags):
    with get_db(live.tool).begin() as session:
        session.execute(update(Registration).values(is_active=False))
    outcome = ags.send_score(
        gradebook.registration_id, gradebook.line_item_url, score(gradebook.subs[JORDAN])
    )
    assert outcome.answer is Answer.PERMANENT


# --- line items and results against the development LMS ----------


def test_created_line_item_is_described_as_the_lms_stored_it(gradebook, ags):
    column = ags.create_line_item(
        gradebook.registration_id,
        gradebook.lineitems_url,
        label="Reflection",
        score_maximum=10,
        resource_id="cred-7",
        resource_link_id="link-1",
        tag="microcredential",
    )
    assert "?type_id=" in column.url
    assert (column.label, column.score_maximum) == ("Reflection", 10)
    assert (column.resource_id, column.resource_link_id, column.tag) == (
        "cred-7",
        "link-1",
        "microcredential",
    )


def test_line_items_are_read_across_pages(gradebook, ags):
    for n in range(5):
        ags.create_line_item(
            gradebook.registration_id,
            gradebook.lineitems_url,
            label=f"Paged {n}",
            score_maximum=1,
            tag="paged",
        )
    found = ags.line_items(gradebook.registration_id, gradebook.lineitems_url, tag="paged", limit=2)
    assert [c.label for c in found] == [f"Paged {n}" for n in range(5)]


def test_line_items_are_filtered_by_resource_link(gradebook, ags):
    for link in ("link-a", "link-b"):
        ags.create_line_item(
            gradebook.registration_id,
            gradebook.lineitems_url,
            label=link,
            score_maximum=1,
            resource_link_id=link,
        )
    found = ags.line_items(
        gradebook.registration_id, gradebook.lineitems_url, resource_link_id="link-b"
    )
    assert [c.label for c in found] == ["link-b"]


def test_results_are_read_across_pages(gradebook, ags):
    for email, given in ((JORDAN, 80), (PRIYA, 60), (SAMUEL, 40)):
        ags.send_score(
            gradebook.registration_id, gradebook.line_item_url, score(gradebook.subs[email], given)
        )
    found = ags.results(gradebook.registration_id, gradebook.line_item_url, limit=1)
    assert {(r.user_id, r.result_score, r.result_maximum) for r in found} == {
        (gradebook.subs[JORDAN], 80, 100),
        (gradebook.subs[PRIYA], 60, 100),
        (gradebook.subs[SAMUEL], 40, 100),
    }


def test_results_for_one_person(gradebook, ags):
    for email in (JORDAN, PRIYA):
        ags.send_score(
            gradebook.registration_id, gradebook.line_item_url, score(gradebook.subs[email])
        )
    [result] = ags.results(
        gradebook.registration_id, gradebook.line_item_url, user_id=gradebook.subs[PRIYA]
    )
    assert result.user_id == gradebook.subs[PRIYA] and result.comment == "Well evidenced."


def test_line_items_of_a_missing_course_raise_a_platform_service_error(live, gradebook, ags):
    missing = f"{live.devlms_url}/api/lti/courses/999/lineitems"
    with pytest.raises(PlatformServiceError) as refused:
        ags.line_items(gradebook.registration_id, missing)
    assert "HTTP 404: No course 999." in refused.value.message


def test_line_items_of_an_unreachable_lms_raise_a_platform_service_error(gradebook, ags):
    with pytest.raises(PlatformServiceError) as refused:
        ags.line_items(gradebook.registration_id, "http://127.0.0.1:1/lineitems")
    assert "could not reach the LMS" in refused.value.message


# --- answers the development LMS does not give, from a real server on loopback ----------


@pytest.fixture
def lms():
    """A stand-in LMS whose answers each test sets (``lms.answers[path] = Canned(...)``)."""
    with canned_server({}) as server:
        yield server


def send_to(ags, gradebook, lms, path):
    return ags.send_score(
        gradebook.registration_id, f"{lms.url}{path}", score(gradebook.subs[JORDAN])
    )


def test_throttled_score_is_throttled_with_the_lms_retry_after(gradebook, ags, lms):
    lms.answers["/busy/scores"] = Canned(429, headers=(("Retry-After", "7"),))
    outcome = send_to(ags, gradebook, lms, "/busy")
    assert outcome.answer is Answer.THROTTLED and outcome.status == 429
    assert outcome.retry_after == 7
    assert outcome.reason == (
        "The LMS asked the tool to slow down (HTTP 429); the tool will send fewer scores at "
        "once and this one again shortly."
    )


def test_throttled_score_with_an_http_date_retry_after(gradebook, ags, lms):
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    lms.answers["/busy/scores"] = Canned(429, headers=(("Retry-After", later),))
    outcome = send_to(ags, gradebook, lms, "/busy")
    assert 100 < outcome.retry_after <= 120


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_failing_lms_is_retry(gradebook, ags, lms, status):
    lms.answers["/failing/scores"] = Canned(status, b"<html>Service Unavailable</html>")
    outcome = send_to(ags, gradebook, lms, "/failing")
    assert outcome.answer is Answer.RETRY and outcome.retry_after is None
    assert outcome.reason == (
        f"The LMS is busy or failing (HTTP {status}); the tool will try again."
    )


def test_canvas_refusal_of_a_non_student_is_permanent_with_its_message(gradebook, ags, lms):
    body = {"errors": [{"message": "User not found in course or is not a student"}]}
    lms.answers["/canvas/scores"] = Canned(422, json.dumps(body).encode())
    outcome = send_to(ags, gradebook, lms, "/canvas")
    assert outcome.answer is Answer.PERMANENT and outcome.status == 422
    assert outcome.reason.startswith("The LMS would not take a grade for this person")
    assert outcome.reason.endswith("(HTTP 422: User not found in course or is not a student)")


def test_canvas_refusal_of_an_older_timestamp_is_stale(gradebook, ags, lms):
    message = (
        "Provided timestamp of 2026-11-23T10:00:00.000Z before last updated timestamp of "
        "2026-11-23T10:00:01.000Z"
    )
    body = {"errors": {"type": "bad_request", "message": message}}
    lms.answers["/canvas/scores"] = Canned(400, json.dumps(body).encode())
    outcome = send_to(ags, gradebook, lms, "/canvas")
    assert outcome.answer is Answer.STALE and outcome.status == 400


def test_canvas_error_object_is_read_too(gradebook, ags, lms):
    body = {"errors": {"type": "unprocessable_entity", "message": "Course not available"}}
    lms.answers["/canvas/scores"] = Canned(422, json.dumps(body).encode())
    outcome = send_to(ags, gradebook, lms, "/canvas")
    assert outcome.reason.endswith("(HTTP 422: Course not available)")


def test_moodle_reason_in_the_status_line_is_recognised(gradebook, ags, lms):
    """Moodle puts "Incorrect score received" in the status line, with no body."""
    lms.answers["/moodle/scores"] = Canned(400, reason="Incorrect score received")
    outcome = send_to(ags, gradebook, lms, "/moodle")
    assert outcome.answer is Answer.PERMANENT
    assert outcome.reason == f"{NOT_GRADABLE} (HTTP 400: Incorrect score received)"


def test_scope_not_granted_is_permanent(gradebook, ags, lms):
    lms.answers["/closed/scores"] = Canned(403, b'{"error": "insufficient_scope"}')
    outcome = send_to(ags, gradebook, lms, "/closed")
    assert outcome.answer is Answer.PERMANENT and outcome.status == 403
    assert outcome.reason.startswith("The LMS does not let the tool send grades")


RATE_LIMITED = Canned(
    403,
    b"403 Forbidden (Rate Limit Exceeded)\n",
    (("Content-Type", "text/plain; charset=utf-8"), ("X-Rate-Limit-Remaining", "50.0")),
)


def send_to_canvas(ags, gradebook, lms, path):
    return ags.send_score(
        gradebook.registration_id,
        f"{lms.url}{path}",
        score(gradebook.subs[JORDAN]),
        plugin("canvas"),
    )


def test_canvas_s_rate_limit_is_throttled_never_permanent(gradebook, ags, lms):
    """Canvas refuses a throttled request with 403 and no Retry-After
    (app/middleware/request_throttle.rb); its remaining quota can still be above 0."""
    lms.answers["/canvas/scores"] = RATE_LIMITED
    outcome = send_to_canvas(ags, gradebook, lms, "/canvas")
    assert outcome.answer is Answer.THROTTLED and outcome.status == 403
    assert outcome.retry_after is None and outcome.remaining == 50
    assert "HTTP 403: 403 Forbidden (Rate Limit Exceeded)" in outcome.reason


def test_a_canvas_403_with_no_quota_left_is_throttled(gradebook, ags, lms):
    lms.answers["/canvas/scores"] = Canned(403, headers=(("X-Rate-Limit-Remaining", "0.0"),))
    assert send_to_canvas(ags, gradebook, lms, "/canvas").answer is Answer.THROTTLED


def test_a_canvas_403_for_a_missing_scope_is_still_permanent(gradebook, ags, lms):
    lms.answers["/canvas/scores"] = Canned(
        403,
        b'{"errors": [{"message": "Insufficient scope"}]}',
        (("X-Rate-Limit-Remaining", "550.0"),),
    )
    outcome = send_to_canvas(ags, gradebook, lms, "/canvas")
    assert outcome.answer is Answer.PERMANENT and outcome.remaining == 550


def test_a_delivered_canvas_score_carries_the_remaining_quota(gradebook, ags, lms):
    lms.answers["/canvas/scores"] = Canned(200, b"{}", (("X-Rate-Limit-Remaining", "549.99"),))
    outcome = send_to_canvas(ags, gradebook, lms, "/canvas")
    assert outcome.answer is Answer.DELIVERED and outcome.remaining == 549.99


def test_a_throttled_line_item_request_raises_throttled(gradebook, ags, lms):
    lms.answers["/canvas/lineitems"] = RATE_LIMITED
    with pytest.raises(Throttled) as raised:
        ags.line_items(
            gradebook.registration_id, f"{lms.url}/canvas/lineitems", platform=plugin("canvas")
        )
    assert "asked the tool to slow down" in raised.value.message


def test_second_401_in_one_call_is_retry_after_one_new_token(gradebook, tokens, ags, lms):
    lms.answers["/revoked/scores"] = Canned(401, b'{"error": "invalid_token"}')
    outcome = send_to(ags, gradebook, lms, "/revoked")
    assert outcome.answer is Answer.RETRY and outcome.status == 401
    assert tokens.requests_made == 2
    assert len(lms.received) == 2


def test_slow_lms_is_retry_after_the_timeout(live, gradebook, tokens, lms):
    lms.answers["/slow/scores"] = Canned(204, delay=2)
    client = ags_client(live, tokens, timeout=0.5)
    outcome = send_to(client, gradebook, lms, "/slow")
    client.close()
    assert outcome.answer is Answer.RETRY and outcome.status is None
    assert outcome.reason == "The LMS did not answer within 0.5 seconds; the tool will try again."


def test_score_goes_through_the_proxy_the_environment_names(
    live, gradebook, tokens, lms, monkeypatch
):
    """A school's egress proxy (``HTTP_PROXY``) is used for scores as for every other call:
    the stand-in here is the proxy, and receives the score for the LMS by its absolute URL."""
    tokens.token(gradebook.registration_id, SCORE_SCOPES)  # before the proxy is named
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", lms.url)
    target = "http://lms.invalid/api/lti/courses/1/lineitems/1/lineitem"
    lms.answers[f"{target}/scores"] = Canned(204)
    client = ags_client(live, tokens)
    try:
        outcome = client.send_score(
            gradebook.registration_id, target, score(gradebook.subs[JORDAN])
        )
    finally:
        client.close()
    assert outcome.answer is Answer.DELIVERED
    [(method, path, _headers, body)] = lms.received
    assert (method, path) == ("POST", f"{target}/scores")
    assert json.loads(body)["userId"] == gradebook.subs[JORDAN]


def test_score_request_is_what_ags_asks_for(gradebook, ags, lms):
    lms.answers["/ok/scores"] = Canned(200)
    assert send_to(ags, gradebook, lms, "/ok").answer is Answer.DELIVERED
    [(method, path, headers, body)] = lms.received
    assert (method, path) == ("POST", "/ok/scores")
    assert headers["Content-Type"] == "application/vnd.ims.lis.v1.score+json"
    assert headers["User-Agent"] == USER_AGENT  # Canvas refuses requests without one
    assert headers["Authorization"].startswith("Bearer ")
    assert json.loads(body)["userId"] == gradebook.subs[JORDAN]


def test_reason_never_carries_the_token(gradebook, ags, lms):
    def echo_token(received):
        return received[-1][2]["Authorization"].removeprefix("Bearer ")

    lms.answers["/warm/scores"] = Canned(204)
    send_to(ags, gradebook, lms, "/warm")
    token = echo_token(lms.received)
    lms.answers["/echo/scores"] = Canned(400, json.dumps({"error_description": token}).encode())
    outcome = send_to(ags, gradebook, lms, "/echo")
    assert token not in outcome.reason


def test_line_items_follow_relative_next_links_in_any_order(gradebook, ags, lms):
    first = [{"id": f"{lms.url}/items/1", "label": "One", "scoreMaximum": 1}]
    second = [{"id": f"{lms.url}/items/2", "label": "Two", "scoreMaximum": 2}]
    lms.answers["/items?type_id=4&tag=t"] = Canned(
        200,
        json.dumps(first).encode(),
        headers=(("Link", '</items?page=9>; rel="last", </items?page=2>; rel="next"'),),
    )
    lms.answers["/items?page=2"] = Canned(200, json.dumps(second).encode())
    found = ags.line_items(gradebook.registration_id, f"{lms.url}/items?type_id=4", tag="t")
    assert [c.label for c in found] == ["One", "Two"]


def test_line_item_pages_that_never_end_raise(gradebook, ags, lms):
    lms.answers["/loop"] = Canned(200, b"[]", headers=(("Link", '<{base}/loop>; rel="next"'),))
    with pytest.raises(PlatformServiceError) as refused:
        ags.line_items(gradebook.registration_id, f"{lms.url}/loop")
    assert "do not end" in refused.value.message


def test_line_items_answer_that_is_not_a_list_raises(gradebook, ags, lms):
    lms.answers["/object"] = Canned(200, b'{"id": "x"}')
    with pytest.raises(PlatformServiceError):
        ags.line_items(gradebook.registration_id, f"{lms.url}/object")


def test_thirty_two_threads_share_the_client_and_its_connections(
    live, gradebook, tokens, ags, lms, caplog
):
    lms.answers["/ok/scores"] = Canned(204, delay=0.2)
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        outcomes = in_threads(32, lambda: send_to(ags, gradebook, lms, "/ok"))
    assert [o.answer for o in outcomes] == [Answer.DELIVERED] * 32, {o.reason for o in outcomes}
    assert "Connection pool is full" not in caplog.text
    assert tokens.requests_made == 1
    assert issued_tokens(live, SCOPE_SCORE) == 1

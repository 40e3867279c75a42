"""Assignment and Grade Services on the development LMS, with Moodle's strictness
(LTI-CHECKLIST G and J: required fields, scoreMaximum, 409 on stale timestamps, 400 for a
non-learner, no grade unless FullyGraded)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevGrade, DevLineItem, DevUser
from app.devlms.platform import SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT, SCOPE_SCORE
from tests.support.tokens import access_token, demo_tool

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


@pytest.fixture
def ags(live):
    token = access_token(live, [SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT])
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    with get_db(live.devlms).begin() as session:
        item = session.scalars(select(DevLineItem)).one()
        users = {u.email: u.sub for u in session.scalars(select(DevUser))}
    tool = demo_tool(live)
    base = f"{live.devlms_url}/api/lti/courses/{item.course_id}/lineitems"
    return {
        "http": http,
        "item_id": item.id,
        "users": users,
        "tool": tool,
        "lineitems": f"{base}?type_id={tool.id}",
        "lineitem": f"{base}/{item.id}/lineitem?type_id={tool.id}",
        "scores": f"{base}/{item.id}/lineitem/scores?type_id={tool.id}",
        "results": f"{base}/{item.id}/lineitem/results?type_id={tool.id}",
    }


def stamp(offset_seconds: float = 0) -> str:
    when = datetime.now(UTC) + timedelta(seconds=offset_seconds)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def post_score(ags, **body):
    return ags["http"].post(
        ags["scores"], json=body, headers={"Content-Type": SCORE_TYPE}, timeout=30
    )


def score(ags, email="jordan.lee@example.edu", **changes):
    body = {
        "userId": ags["users"][email],
        "timestamp": stamp(),
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "scoreGiven": 80,
        "scoreMaximum": 100,
        "comment": "Well evidenced.",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def grade(live, ags, email="jordan.lee@example.edu"):
    with get_db(live.devlms).begin() as session:
        user = session.scalars(select(DevUser).where(DevUser.email == email)).one()
        return session.scalars(
            select(DevGrade).where(
                DevGrade.user_id == user.id, DevGrade.line_item_id == ags["item_id"]
            )
        ).first()


def test_fully_graded_score_reaches_the_gradebook(live, ags):
    response = post_score(ags, **score(ags))
    assert response.status_code == 204, response.text
    cell = grade(live, ags)
    assert cell.score_given == 80
    assert cell.comment == "Well evidenced."
    results = ags["http"].get(ags["results"], timeout=30).json()
    assert results[0]["resultScore"] == 80
    assert results[0]["userId"] == ags["users"]["jordan.lee@example.edu"]


def test_score_given_without_score_maximum_is_refused(live, ags):
    response = post_score(ags, **score(ags, scoreMaximum=None))
    assert response.status_code == 400
    assert "scoreMaximum" in response.json()["error_description"]
    assert grade(live, ags) is None


@pytest.mark.parametrize("missing", ["userId", "timestamp", "activityProgress", "gradingProgress"])
def test_score_without_a_required_field_is_refused(ags, missing):
    response = post_score(ags, **score(ags, **{missing: None}))
    assert response.status_code == 400
    assert missing in response.json()["error_description"]


def test_malformed_timestamp_is_refused(ags):
    response = post_score(ags, **score(ags, timestamp="23/11/2026 10:00"))
    assert response.status_code == 400
    assert "ISO 8601" in response.json()["error_description"]


def test_stale_timestamp_is_refused_with_409(live, ags):
    assert post_score(ags, **score(ags, timestamp=stamp(0))).status_code == 204
    older = post_score(ags, **score(ags, timestamp=stamp(-60), scoreGiven=10))
    assert older.status_code == 409
    assert "earlier timestamp" in older.json()["error_description"]
    assert grade(live, ags).score_given == 80


def test_second_score_in_the_same_second_is_refused_like_moodle(ags):
    """Moodle compares timestamps in whole seconds (LTI-CHECKLIST J)."""
    second_start = datetime.now(UTC).replace(microsecond=0)
    first = (second_start + timedelta(milliseconds=100)).isoformat().replace("+00:00", "Z")
    second = (second_start + timedelta(milliseconds=900)).isoformat().replace("+00:00", "Z")
    assert post_score(ags, **score(ags, timestamp=first)).status_code == 204
    assert post_score(ags, **score(ags, timestamp=second)).status_code == 409


def test_canvas_refuses_only_a_strictly_earlier_timestamp_with_400_to_the_millisecond(live, ags):
    """Canvas compares to the millisecond and refuses only an earlier timestamp, with 400 "…
    before last updated timestamp …" (lti/ims/scores_controller.rb), not 409 by the second."""
    from tests.support.lms import set_flavour

    set_flavour(live, "canvas")
    second_start = datetime.now(UTC).replace(microsecond=0)

    def at(milliseconds: int) -> str:
        when = second_start + timedelta(milliseconds=milliseconds)
        return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    assert post_score(ags, **score(ags, timestamp=at(400))).status_code == 200
    assert post_score(ags, **score(ags, timestamp=at(400), scoreGiven=81)).status_code == 200
    assert post_score(ags, **score(ags, timestamp=at(900), scoreGiven=82)).status_code == 200
    older = post_score(ags, **score(ags, timestamp=at(899), scoreGiven=10))
    assert older.status_code == 400
    message = older.json()["errors"]["message"]
    assert message.startswith(f"Provided timestamp of {at(899)} before last updated timestamp")
    assert grade(live, ags).score_given == 82


def test_score_for_a_non_learner_is_refused(ags):
    response = post_score(ags, **score(ags, email="maria.alvarez@example.edu"))
    assert response.status_code == 400
    assert response.json()["error_description"] == "Incorrect score received"


def test_score_for_an_unknown_user_is_refused(ags):
    response = post_score(ags, **dict(score(ags), userId="nobody"))
    assert response.status_code == 400


def test_pending_manual_score_leaves_no_grade_like_moodle(live, ags):
    assert post_score(ags, **score(ags, timestamp=stamp(-5))).status_code == 204
    pending = score(
        ags,
        activityProgress="Submitted",
        gradingProgress="PendingManual",
        scoreGiven=None,
        scoreMaximum=None,
        comment=None,
    )
    assert post_score(ags, **pending).status_code == 204
    cell = grade(live, ags)
    assert cell.score_given is None
    assert cell.grading_progress == "PendingManual"


def test_score_with_wrong_content_type_is_refused(ags):
    response = ags["http"].post(ags["scores"], json=score(ags), timeout=30)
    assert response.status_code == 415


def test_score_without_a_token_is_refused(ags):
    response = requests.post(
        ags["scores"], json=score(ags), headers={"Content-Type": SCORE_TYPE}, timeout=30
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_without_score_scope_cannot_post_scores(live, ags):
    token = access_token(live, [SCOPE_LINEITEM_READONLY])
    response = requests.post(
        ags["scores"],
        json=score(ags),
        timeout=30,
        headers={"Content-Type": SCORE_TYPE, "Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


def test_line_items_create_get_update_delete(ags):
    http = ags["http"]
    created = http.post(
        ags["lineitems"],
        json={
            "label": "Reflection",
            "scoreMaximum": 10,
            "resourceId": "cred-7",
            "tag": "microcredential",
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["id"].endswith(f"?type_id={ags['tool'].id}")
    assert http.get(item["id"], timeout=30).json()["label"] == "Reflection"
    updated = http.put(
        item["id"], json={"label": "Reflection (v2)", "scoreMaximum": 20}, timeout=30
    )
    assert updated.json()["scoreMaximum"] == 20
    assert http.delete(item["id"], timeout=30).status_code == 204
    assert http.get(item["id"], timeout=30).status_code == 404


def test_line_item_without_score_maximum_is_refused(ags):
    response = ags["http"].post(ags["lineitems"], json={"label": "No max"}, timeout=30)
    assert response.status_code == 400
    assert "scoreMaximum" in response.json()["error_description"]


def test_line_items_are_paged_with_link_headers(ags):
    http = ags["http"]
    for n in range(4):
        http.post(ags["lineitems"], json={"label": f"Item {n}", "scoreMaximum": 1}, timeout=30)
    seen, url, pages = [], ags["lineitems"] + "&limit=2", 0
    while url:
        response = http.get(url, timeout=30)
        assert response.status_code == 200
        seen += [i["label"] for i in response.json()]
        pages += 1
        url = response.links.get("next", {}).get("url")
    assert pages == 3
    assert len(seen) == 5 and len(set(seen)) == 5


def test_line_items_filter_by_resource_id(ags):
    http = ags["http"]
    http.post(
        ags["lineitems"], json={"label": "Other", "scoreMaximum": 5, "resourceId": "x"}, timeout=30
    )
    found = http.get(ags["lineitems"] + "&resource_id=x", timeout=30).json()
    assert [i["label"] for i in found] == ["Other"]


def test_gradebook_page_shows_the_score_comment_and_progress(live, ags):
    assert post_score(ags, **score(ags)).status_code == 204
    instructor = requests.Session()
    with get_db(live.devlms).begin() as session:
        maria = session.scalars(
            select(DevUser).where(DevUser.email == "maria.alvarez@example.edu")
        ).one()
        item = session.get(DevLineItem, ags["item_id"])
        course_id = item.course_id
    instructor.post(f"{live.devlms_url}/act-as", data={"user_id": maria.id}, timeout=30)
    page = instructor.get(f"{live.devlms_url}/courses/{course_id}/gradebook", timeout=30)
    assert page.status_code == 200
    assert "Jordan Lee" in page.text and "Well evidenced." in page.text
    assert "Completed · FullyGraded" in page.text
    assert "Maria Alvarez</th>" not in page.text  # instructors are not gradebook rows


def test_learners_cannot_open_the_gradebook(live, ags):
    learner = requests.Session()
    with get_db(live.devlms).begin() as session:
        jordan = session.scalars(
            select(DevUser).where(DevUser.email == "jordan.lee@example.edu")
        ).one()
        course_id = session.get(DevLineItem, ags["item_id"]).course_id
    learner.post(f"{live.devlms_url}/act-as", data={"user_id": jordan.id}, timeout=30)
    assert (
        learner.get(f"{live.devlms_url}/courses/{course_id}/gradebook", timeout=30).status_code
        == 403
    )

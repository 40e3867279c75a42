"""Bad input at the routes where the robustness run found each class of it (issue 25): a 4xx
that names what was wrong, never a 500. ``test_bad_input_walk.py`` sends the same classes to
every route."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.db import get_db
from app.lti import registration_links
from app.lti.models import RegistrationLink
from tests.evidence.support import HINGE
from tests.security.bad_input import DEEP, INT4_MAX, World, json_with

pytestmark = pytest.mark.usefixtures("world")


def error_of(response) -> dict:
    assert response.is_json, response.text[:300]
    return response.get_json()["error"]


# --- 1. Integers the database cannot hold ------------------------------------------------------


@pytest.mark.parametrize("number", [2**31, 2**63, 10**40])
def test_an_id_beyond_the_databases_integer_is_not_found(world: World, number):
    """Ids are PostgreSQL ``integer`` columns: a larger one names nothing (404), on every
    database, public pages and signed-in ones alike."""
    for caller, path in (
        (world.nobody, f"/achievements/{HINGE}/{number}"),
        (world.nobody, f"/ob2/badges/{HINGE}/{number}"),
        (world.nobody, f"/issuers/lakemont-itl/status/{number}"),
        (world.instructor, f"/review/attempts/{number}"),
        (world.learner, f"/submissions/{number}"),
        (world.operator, f"/admin/assessors/{number}/revoke"),
    ):
        assert caller.request("GET", path).status_code == 404, path
    answer = world.drafting.request("GET", f"/api/evidence/files/{number}")
    assert answer.status_code == 404
    assert error_of(answer)["title"]  # the API's usual error form


def test_the_largest_id_the_database_holds_is_an_ordinary_unknown_id(world: World):
    assert world.learner.request("GET", f"/submissions/{INT4_MAX}").status_code == 404
    assert world.drafting.request("GET", f"/api/evidence/files/{INT4_MAX}").status_code == 404


@pytest.mark.parametrize("number", [2**31, 2**63])
def test_a_version_beyond_the_databases_integer_is_refused_naming_it(world: World, number):
    answer = world.drafting.request(
        "PUT",
        f"/work/attempts/{world.draft_attempt}/answers/overview",
        body=json.dumps({"text": "My plan.", "version": number}),
    )
    assert answer.status_code == 400
    assert "version" in error_of(answer)["message"]
    draft = world.instructor.request(
        "POST",
        f"/review/attempts/{world.submitted_attempt}/draft",
        body=json.dumps({"review": world.review, "version": number, "criteria": {}}),
    )
    assert draft.status_code == 400
    assert "version" in error_of(draft)["message"]


@pytest.mark.parametrize("value", [str(2**63), "²", "٣"])
def test_a_gradebook_delivery_that_is_not_a_small_ascii_number_is_refused(world: World, value):
    """Classes 1 and 2: ``²`` passes ``str.isdigit()`` and then fails ``int()``."""
    answer = world.instructor.request("POST", "/gradebook/retry", form={"delivery": value})
    assert answer.status_code == 400
    assert "delivery" in answer.text
    console = world.operator.request("POST", "/admin/gradebook/retry", form={"delivery": value})
    assert console.status_code == 400
    assert "delivery" in console.text


@pytest.mark.parametrize("value", [str(2**63), "²"])
def test_a_console_platform_that_is_not_a_platform_number_is_refused(world: World, value):
    listed = world.operator.request("GET", "/admin/gradebook", query={"platform": value})
    assert listed.status_code == 400
    assert "platform" in listed.text
    granted = world.operator.request(
        "POST",
        "/admin/assessors",
        form={"organisation": "lakemont-itl", "platform": value, "email": "a@example.edu"},
    )
    assert granted.status_code == 400
    assert "Choose the platform" in granted.text


# --- 2. Digits that are not ASCII ---------------------------------------------------------------


def test_a_path_id_in_other_scripts_digits_names_nothing(world: World):
    """``int("٣")`` is 3: an id written in Arabic-Indic digits must not open record 3."""
    ascii_id = str(world.submitted_attempt)
    arabic = "".join(chr(0x0660 + int(d)) for d in ascii_id)
    assert world.instructor.request("GET", f"/review/attempts/{ascii_id}").status_code == 200
    assert world.instructor.request("GET", f"/review/attempts/{arabic}").status_code == 404


# --- 3. JSON nested too deeply -----------------------------------------------------------------


DEEP_LIST = "[" * DEEP + "]" * DEEP


def test_json_nested_too_deeply_is_refused_where_json_is_read(world: World):
    for caller, method, path, body in (
        (
            world.drafting,
            "PUT",
            f"/work/attempts/{world.draft_attempt}/answers/overview",
            json_with({"text": DEEP_LIST, "version": "0"}),
        ),
        (
            world.drafting,
            "POST",
            f"/api/evidence/attempts/{world.draft_attempt}/parts/lesson-plan/files",
            json_with({"name": '"a.txt"', "size": DEEP_LIST}),
        ),
        (
            world.instructor,
            "POST",
            f"/review/attempts/{world.submitted_attempt}/draft",
            json_with({"review": str(world.review), "version": "1", "criteria": DEEP_LIST}),
        ),
        (world.drafting, "PUT", f"/work/attempts/{world.draft_attempt}/answers/x", DEEP_LIST),
    ):
        answer = caller.request(method, path, body=body)
        assert answer.status_code == 400, path
        assert "nested" in error_of(answer)["message"], path


def test_json_a_little_nested_is_still_read(world: World):
    draft = world.instructor.request(
        "POST",
        f"/review/attempts/{world.submitted_attempt}/draft",
        body=json.dumps(
            {
                "review": world.review,
                "version": world.review_version,
                "criteria": {"next-steps": {"met": True, "comment": "Clear."}},
                "feedback": "",
            }
        ),
    )
    assert draft.status_code in (200, 409), draft.text[:300]


# --- 4. Text that is not valid Unicode ---------------------------------------------------------


@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\udfffb"', '"a\\u0000b"'])
def test_an_answer_with_a_lone_surrogate_or_nul_is_refused_naming_the_field(world, text):
    answer = world.drafting.request(
        "PUT",
        f"/work/attempts/{world.draft_attempt}/answers/overview",
        body=json_with({"text": text, "version": "0"}),
    )
    assert answer.status_code == 400
    assert "text" in error_of(answer)["message"]


def test_review_feedback_with_a_lone_surrogate_is_refused_naming_the_field(world: World):
    draft = world.instructor.request(
        "POST",
        f"/review/attempts/{world.submitted_attempt}/draft",
        body=json_with(
            {
                "review": str(world.review),
                "version": str(world.review_version),
                "criteria": "{}",
                "feedback": '"\\ud800"',
            }
        ),
    )
    assert draft.status_code == 400
    assert "feedback" in error_of(draft)["message"]


def test_a_form_field_with_nul_is_refused_naming_it(world: World):
    answer = world.drafting.request(
        "POST",
        f"/work/attempts/{world.draft_attempt}/links",
        form={"part": "lesson-plan", "url": "https://example.org/a", "title": "a\x00b"},
    )
    assert answer.status_code == 400
    assert "title" in answer.text


# --- 5. Numbers that are not finite -------------------------------------------------------------


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity"])
def test_a_review_draft_version_that_is_not_finite_is_refused(world: World, number):
    draft = world.instructor.request(
        "POST",
        f"/review/attempts/{world.submitted_attempt}/draft",
        body=json_with({"review": str(world.review), "version": number, "criteria": "{}"}),
    )
    assert draft.status_code == 400
    assert "finite" in error_of(draft)["message"] or "version" in error_of(draft)["message"]


# --- 6. A registration token that cannot go in a header ----------------------------------------


def _registration(world: World) -> tuple[str, str, str]:
    """A fresh one-time link, and the values the development LMS would add to it."""
    with get_db(world.live.tool).begin() as session:
        issued = registration_links.issue(session, label="Another LMS", created_by="test")
    configuration = f"{world.live.devlms_url}/.well-known/openid-configuration"
    return issued.token, configuration, issued.link.token_digest


@pytest.mark.parametrize(
    "registration_token",
    ["тест-token", "a" * 100_000, "two words", "a\x00b"],
    ids=["not Latin-1", "100 KB", "a space", "NUL"],
)
def test_a_registration_token_that_cannot_be_a_bearer_token_is_refused_first(
    world: World, registration_token: str
):
    """The token goes into ``Authorization: Bearer`` on the LMS request: it must be an RFC 6750
    token of a sensible length, checked before the link is claimed or the LMS is called."""
    token, configuration, digest = _registration(world)
    for method in ("GET", "POST"):
        values = {"openid_configuration": configuration, "registration_token": registration_token}
        answer = world.nobody.request(
            method,
            f"/lti/register/{token}",
            query=values if method == "GET" else None,
            form=values if method == "POST" else None,
        )
        assert answer.status_code == 400, answer.text[:300]
        assert "registration_token" in answer.text
    with get_db(world.live.tool).begin() as session:
        link = session.scalars(
            select(RegistrationLink).where(RegistrationLink.token_digest == digest)
        ).one()
        assert link.used_at is None and link.registration_id is None


# --- 7. A long value echoed into a redirect ----------------------------------------------------


def test_a_long_queue_filter_is_refused_not_echoed_into_the_redirect(world: World):
    answer = world.instructor.request("POST", "/review/next", form={"stack": "s" * 100_000})
    assert answer.status_code == 400
    assert "stack" in answer.text
    assert len(answer.headers.get("Location", "")) < 8192


def test_a_queue_filter_of_a_sensible_length_still_comes_back_in_the_redirect(world: World):
    answer = world.instructor.request("POST", "/review/next", form={"stack": "no-such-stack"})
    assert answer.status_code == 303
    assert "stack=no-such-stack" in answer.headers["Location"]


# --- Request bodies ---------------------------------------------------------------------------


def test_a_form_or_json_body_over_the_limit_is_refused_as_too_large(world: World):
    big = "x" * (3 * 1024 * 1024)
    answer = world.drafting.request(
        "PUT",
        f"/work/attempts/{world.draft_attempt}/answers/overview",
        body=json.dumps({"text": big, "version": 0}),
    )
    assert answer.status_code == 413
    form = world.drafting.request(
        "POST", f"/work/attempts/{world.draft_attempt}/answers/overview", form={"text": big}
    )
    assert form.status_code == 413


def test_an_upload_chunk_may_be_larger_than_a_form(world: World):
    size = 3 * 1024 * 1024
    started = world.drafting.request(
        "POST",
        f"/api/evidence/attempts/{world.draft_attempt}/parts/response-evidence/files",
        body=json.dumps({"name": "big.txt", "size": size}),
    )
    assert started.status_code == 201, started.text[:300]
    sent = world.drafting.request(
        "PUT",
        f"/api/evidence/files/{started.get_json()['id']}/content?offset=0",
        body=b"a" * size,
        content_type="application/octet-stream",
    )
    assert sent.status_code == 200, sent.text[:300]
    assert sent.get_json()["received"] == size

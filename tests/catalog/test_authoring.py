"""Authoring in the console: a credential's draft edited field by field and list by list,
published into an immutable version, a new draft started from it, the credential retired; and
who may do it — an author of one organisation never touches another's credentials (issue 6)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.admin.models import Operator
from app.audit.models import AuditEvent
from app.catalog import services as catalog
from app.catalog.models import Author, Credential
from app.db import get_db
from tests.catalog.authoring_support import (
    CRITERION,
    PART,
    account,
    add_item,
    add_organisation,
    create,
    draft,
    post,
    publish,
    ready_draft,
    revision,
    save_details,
    text_of,
    versions,
)


@pytest.fixture
def orgs(app):
    add_organisation(app, "lakemont", "Lakemont Institute")
    add_organisation(app, "riverbend", "Riverbend Network")


@pytest.fixture
def operator(app, orgs):
    return account(app, "olive@example.org", operator=True)


@pytest.fixture
def lakemont_author(app, orgs):
    return account(app, "lena@lakemont.example.org", memberships={"lakemont": "author"})


def _catalog_titles(app) -> list[str]:
    with get_db(app).begin() as session:
        return [entry.title for entry in catalog.search(session).entries]


# --- A draft, field by field --------------------------------------------------------------------


def test_a_new_credential_starts_as_an_empty_draft_version_1(app, lakemont_author):
    response = create(lakemont_author, "lakemont", "Hinge questions")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        "/admin/catalog/credentials/hinge-questions/details?done=created"
    )
    assert versions(app, "hinge-questions") == [(1, "draft")]
    assert draft(app, "hinge-questions").content == {"title": "Hinge questions"}
    assert _catalog_titles(app) == []  # nothing reaches educators before publishing


def test_a_taken_address_is_refused_with_a_message(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    again = create(lakemont_author, "lakemont", "Hinge questions again", "hinge-questions")
    assert again.status_code == 400
    assert "There is already a credential with the address “hinge-questions”" in text_of(again.text)


def test_details_are_saved_and_empty_optional_fields_are_left_out(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    response = save_details(
        app,
        lakemont_author,
        "hinge-questions",
        credit_amount="1.5",
        credit_unit="CEUs",
        attempt_limit="",
    )
    assert response.status_code == 303
    content = draft(app, "hinge-questions").content
    assert content["tags"] == ["assessment", "questioning"]
    assert content["estimated_hours"] == 8
    assert content["credit"] == {"amount": 1.5, "unit": "CEUs"}
    assert "attempt_limit" not in content and "passing_rule" not in content
    assert draft(app, "hinge-questions").short_description.startswith("Plan a hinge")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Give the credential a title: educators see it in the catalog"),
        ("estimated_hours", "eight", "Estimated hours must be a number"),
        ("estimated_hours", "0", "Estimated hours must be more than 0."),
        ("attempt_limit", "50", "Attempts allowed must be at most 20."),
        ("short_description", "Too short", "Short description must be at least 10 characters."),
        ("credit_amount", "2", "Give both the credit's amount and its unit, or neither."),
        ("passing_kind", "at_least", "Say how many criteria must be met."),
    ],
)
def test_a_bad_field_is_named_and_nothing_is_saved(app, lakemont_author, field, value, message):
    create(lakemont_author, "lakemont", "Hinge questions")
    before = draft(app, "hinge-questions")
    response = save_details(app, lakemont_author, "hinge-questions", **{field: value})
    assert response.status_code == 400
    page = text_of(response.text)
    assert "There is a problem" in page and message in page
    assert 'aria-invalid="true"' in response.text
    # What the author typed is still in the form.
    assert "A diagnostic question at the lesson's turning point." in page
    after = draft(app, "hinge-questions")
    assert (after.content, after.revision) == (before.content, before.revision)


def test_a_save_from_a_stale_page_is_refused_and_keeps_the_typed_text(app, lakemont_author):
    """Two authors (or two tabs) on one draft: the second save never overwrites the first."""
    create(lakemont_author, "lakemont", "Hinge questions")
    opened = revision(app, "hinge-questions")
    assert save_details(app, lakemont_author, "hinge-questions").status_code == 303
    stale = post(
        lakemont_author,
        "/admin/catalog/credentials/hinge-questions/details",
        {"title": "My other title", "revision": opened},
    )
    assert stale.status_code == 409
    assert "Someone saved this draft after you opened it" in text_of(stale.text)
    assert 'value="My other title"' in stale.text
    assert draft(app, "hinge-questions").title == "Hinge questions"


# --- Lists: parts, criteria and the rest ---------------------------------------------------------


def _keys(app, slug, list_name):
    return [
        item.get("key") or item.get("title") for item in draft(app, slug).content.get(list_name, [])
    ]


def test_parts_are_added_with_keys_from_their_titles_and_reordered(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    add_item(app, lakemont_author, "hinge-questions", "parts", PART)
    add_item(
        app,
        lakemont_author,
        "hinge-questions",
        "parts",
        {**PART, "title": "Reflection", "evidence_kinds": ["text"], "word_limit": "500"},
    )
    assert _keys(app, "hinge-questions", "parts") == ["lesson-plan", "reflection"]
    moved = post(
        lakemont_author,
        "/admin/catalog/credentials/hinge-questions/lists/parts/2/move",
        {"direction": "up", "revision": revision(app, "hinge-questions")},
    )
    assert moved.status_code == 303
    assert _keys(app, "hinge-questions", "parts") == ["reflection", "lesson-plan"]
    reflection = draft(app, "hinge-questions").content["parts"][0]
    assert reflection["word_limit"] == 500 and reflection["evidence_kinds"] == ["text"]


def test_a_part_needs_at_least_one_kind_of_evidence(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    response = add_item(
        app, lakemont_author, "hinge-questions", "parts", {**PART, "evidence_kinds": []}
    )
    assert response.status_code == 400
    assert (
        "Tick at least one kind of accepted evidence: a written answer, a file upload or a link."
        in text_of(response.text)
    )


def test_criteria_can_only_judge_a_part_that_exists(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    none_yet = lakemont_author.get("/admin/catalog/credentials/hinge-questions/lists/criteria/new")
    assert none_yet.status_code == 409
    assert "Add a part under “What to submit” first" in text_of(none_yet.text)
    add_item(app, lakemont_author, "hinge-questions", "parts", PART)
    wrong = add_item(
        app, lakemont_author, "hinge-questions", "criteria", {**CRITERION, "part": "nope"}
    )
    assert wrong.status_code == 400
    assert (
        "Under “Judges the part”, choose the part of the submission this criterion judges."
        in text_of(wrong.text)
    )
    assert (
        add_item(app, lakemont_author, "hinge-questions", "criteria", CRITERION).status_code == 303
    )


def test_renaming_a_part_key_moves_the_criteria_that_judge_it(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    add_item(app, lakemont_author, "hinge-questions", "parts", PART)
    add_item(app, lakemont_author, "hinge-questions", "criteria", CRITERION)
    renamed = post(
        lakemont_author,
        "/admin/catalog/credentials/hinge-questions/lists/parts/1",
        {**PART, "key": "plan", "revision": revision(app, "hinge-questions")},
    )
    assert renamed.status_code == 303
    assert draft(app, "hinge-questions").content["criteria"][0]["part"] == "plan"


def test_a_part_judged_by_a_criterion_cannot_be_removed(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    add_item(app, lakemont_author, "hinge-questions", "parts", PART)
    add_item(app, lakemont_author, "hinge-questions", "criteria", CRITERION)
    confirm = lakemont_author.get("/admin/catalog/credentials/hinge-questions/lists/parts/1/delete")
    assert confirm.status_code == 200 and "Remove part 1?" in confirm.text
    refused = post(
        lakemont_author,
        "/admin/catalog/credentials/hinge-questions/lists/parts/1/delete",
        {"revision": revision(app, "hinge-questions")},
    )
    assert refused.status_code == 400
    assert "is judged by the rubric's “Planned question”" in text_of(refused.text)
    post(
        lakemont_author,
        "/admin/catalog/credentials/hinge-questions/lists/criteria/1/delete",
        {"revision": revision(app, "hinge-questions")},
    )
    removed = post(
        lakemont_author,
        "/admin/catalog/credentials/hinge-questions/lists/parts/1/delete",
        {"revision": revision(app, "hinge-questions")},
    )
    assert removed.status_code == 303
    assert "parts" not in draft(app, "hinge-questions").content


def test_research_links_must_be_web_addresses(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    bad = add_item(
        app,
        lakemont_author,
        "hinge-questions",
        "research",
        {
            "citation": "Wiliam, D. (2011). Embedded formative assessment.",
            "url": "javascript:alert(1)",
        },
    )
    assert bad.status_code == 400
    assert "Enter a full web address starting with https://." in text_of(bad.text)


# --- Preview, publish, new draft, retire ---------------------------------------------------------


def test_the_preview_shows_the_draft_as_educators_will_and_runs_no_script(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    save_details(
        app,
        lakemont_author,
        "hinge-questions",
        competency='Acts on answers. <script>alert("x")</script> [x](javascript:alert(1))',
    )
    preview = lakemont_author.get("/admin/catalog/credentials/hinge-questions/preview")
    assert preview.status_code == 200
    assert "exactly as educators will see it once it is published" in text_of(preview.text)
    assert ">Competency<" in preview.text and "Acts on answers." in preview.text
    # The only scripts are the page's own files (the one that shows times), none of the author's.
    scripts = re.findall(r"<script[^>]*>", preview.text)
    assert all(re.fullmatch(r'<script src="/static/[\w.-]+\.js" defer>', s) for s in scripts)
    assert 'href="javascript:' not in preview.text
    assert "&lt;script&gt;" in preview.text  # shown as text, never run


def test_publishing_says_what_is_missing(app, lakemont_author):
    create(lakemont_author, "lakemont", "Hinge questions")
    response = publish(app, lakemont_author, "hinge-questions")
    assert response.status_code == 400
    page = text_of(response.text)
    for missing in (
        "Competency: fill it in.",
        "Key method: fill it in.",
        "What to submit: add at least one part.",
        "Rubric: add at least one criterion.",
        "Badge image: upload a PNG or SVG for the badge.",
    ):
        assert missing in page
    assert versions(app, "hinge-questions") == [(1, "draft")]


def test_publishing_makes_an_immutable_version_that_educators_find(app, lakemont_author):
    ready_draft(app, lakemont_author, "lakemont", "hinge-questions")
    confirm = lakemont_author.get("/admin/catalog/credentials/hinge-questions/publish")
    assert "It can never change afterwards" in text_of(confirm.text)
    response = publish(app, lakemont_author, "hinge-questions")
    assert response.status_code == 303
    assert versions(app, "hinge-questions") == [(1, "published")]
    assert _catalog_titles(app) == ["Hinge questions"]
    # A published version has no forms: there is nothing to edit.
    assert (
        lakemont_author.get("/admin/catalog/credentials/hinge-questions/details").status_code == 404
    )
    late = save_details(app, lakemont_author, "hinge-questions", title="Changed")
    assert late.status_code == 404
    with get_db(app).begin() as session:
        events = session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == "credential:hinge-questions")
        ).all()
    assert events == ["credential.created", "credential.image_changed", "credential.published"]


def test_a_new_draft_copies_the_latest_version_while_educators_keep_the_published_one(
    app, lakemont_author
):
    ready_draft(app, lakemont_author, "lakemont", "hinge-questions")
    publish(app, lakemont_author, "hinge-questions")
    started = post(lakemont_author, "/admin/catalog/credentials/hinge-questions/drafts")
    assert started.status_code == 303
    assert versions(app, "hinge-questions") == [(1, "published"), (2, "draft")]
    v2 = draft(app, "hinge-questions")
    assert v2.content["parts"][0]["key"] == "lesson-plan" and v2.image_id is not None
    save_details(app, lakemont_author, "hinge-questions", title="Hinge questions, revised")
    assert _catalog_titles(app) == ["Hinge questions"]
    twice = post(lakemont_author, "/admin/catalog/credentials/hinge-questions/drafts")
    assert twice.status_code == 400 and "already has a draft" in text_of(twice.text)
    publish(app, lakemont_author, "hinge-questions")
    assert versions(app, "hinge-questions") == [(1, "published"), (2, "published")]
    assert _catalog_titles(app) == ["Hinge questions, revised"]


def test_retiring_needs_a_reason_and_takes_the_credential_out_of_the_catalog(app, lakemont_author):
    ready_draft(app, lakemont_author, "lakemont", "hinge-questions")
    publish(app, lakemont_author, "hinge-questions")
    no_reason = post(
        lakemont_author, "/admin/catalog/credentials/hinge-questions/retire", {"reason": " "}
    )
    assert no_reason.status_code == 400
    assert "Say why the credential is retired." in text_of(no_reason.text)
    assert _catalog_titles(app) == ["Hinge questions"]
    retired = post(
        lakemont_author,
        "/admin/catalog/credentials/hinge-questions/retire",
        {"reason": "Replaced by Questioning 2.0"},
    )
    assert retired.status_code == 303
    assert versions(app, "hinge-questions") == [(1, "retired")]
    assert _catalog_titles(app) == []
    with get_db(app).begin() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "credential.retired")
        ).one()
    assert event.details == {"versions": [1], "reason": "Replaced by Questioning 2.0"}


# --- Who may author ------------------------------------------------------------------------------


def test_an_author_of_one_organisation_cannot_touch_anothers_credentials(
    app, operator, lakemont_author
):
    ready_draft(app, operator, "riverbend", "riverbend-talk")
    before = draft(app, "riverbend-talk")
    base = "/admin/catalog/credentials/riverbend-talk"
    for path in (
        base,
        f"{base}/details",
        f"{base}/lists/parts",
        f"{base}/preview",
        f"{base}/publish",
    ):
        response = lakemont_author.get(path)
        assert response.status_code == 403, path
        assert "your account does not write for it" in text_of(response.text)
    for path, data in (
        (f"{base}/details", {"title": "Taken over", "revision": before.revision}),
        (f"{base}/lists/parts/new", {**PART, "revision": before.revision}),
        (f"{base}/lists/parts/1/delete", {"revision": before.revision}),
        (f"{base}/publish", {"revision": before.revision}),
        (f"{base}/retire", {"reason": "mine now"}),
        (f"{base}/drafts", {}),
    ):
        assert post(lakemont_author, path, data).status_code == 403, path
    after = draft(app, "riverbend-talk")
    assert (after.content, after.revision, after.status) == (
        before.content,
        before.revision,
        "draft",
    )
    listing = text_of(lakemont_author.get("/admin/catalog/").text)
    assert "riverbend-talk" not in listing


def test_an_author_cannot_create_a_credential_for_another_organisation(app, lakemont_author):
    response = create(lakemont_author, "riverbend", "Not mine")
    assert response.status_code in (400, 403)
    with get_db(app).begin() as session:
        assert session.scalars(select(Credential)).all() == []


def test_an_author_sees_only_the_authoring_pages(app, lakemont_author):
    assert lakemont_author.get("/admin/").headers["Location"].endswith("/admin/catalog/")
    for path in (
        "/admin/platforms",
        "/admin/keys",
        "/admin/audit",
        "/admin/catalog/organisations/new",
    ):
        response = lakemont_author.get(path)
        assert response.status_code == 403, path
    nav = lakemont_author.get("/admin/catalog/").text
    assert "Credentials" in nav and "Platforms" not in nav


def test_someone_not_signed_in_cannot_author(app, orgs):
    client = app.test_client()
    page = client.get("/admin/catalog/new")
    assert page.status_code == 303 and "/admin/sign-in" in page.headers["Location"]
    api = client.post(
        "/admin/catalog/new",
        data={"organisation": "lakemont", "title": "X" * 5},
        headers={"Accept": "application/json"},
    )
    assert api.status_code == 401
    with get_db(app).begin() as session:
        assert session.scalars(select(Credential)).all() == []


def test_an_organisation_admin_adds_an_author_who_is_not_an_operator(app, orgs):
    admin = account(app, "ana@lakemont.example.org", memberships={"lakemont": "admin"})
    response = post(
        admin,
        "/admin/catalog/organisations/lakemont/authors",
        {
            "author_email": "Nia@Lakemont.example.org",
            "author_name": "Nia Okafor",
            "author_role": "author",
            "author_password": "a long first password",
        },
    )
    assert response.status_code == 303
    with get_db(app).begin() as session:
        nia = session.scalars(
            select(Operator).where(Operator.email == "nia@lakemont.example.org")
        ).one()
        assert nia.is_operator is False
        assert (
            session.scalars(select(Author.role).where(Author.operator_id == nia.id)).one()
            == "author"
        )
    # A plain author cannot manage authors.
    from tests.admin.console import sign_in

    nia_client = app.test_client()
    sign_in(nia_client, "nia@lakemont.example.org", "a long first password")
    refused = post(
        nia_client,
        "/admin/catalog/organisations/lakemont/authors",
        {
            "author_email": "someone@example.org",
            "author_name": "Someone",
            "author_role": "admin",
            "author_password": "another long password",
        },
    )
    assert refused.status_code == 403


def test_a_new_author_without_a_first_password_is_refused_with_a_message(app, orgs, operator):
    response = post(
        operator,
        "/admin/catalog/organisations/lakemont/authors",
        {
            "author_email": "new@example.org",
            "author_name": "New",
            "author_role": "author",
            "author_password": "",
        },
    )
    assert response.status_code == 400
    assert "give a first password" in text_of(response.text)
    with get_db(app).begin() as session:
        assert (
            session.scalars(select(Operator).where(Operator.email == "new@example.org")).first()
            is None
        )


# --- The badge image -----------------------------------------------------------------------------


def test_a_jpeg_badge_is_refused_whatever_its_name(app, lakemont_author):
    from tests.catalog.authoring_support import upload_image

    create(lakemont_author, "lakemont", "Hinge questions")
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
    response = upload_image(app, lakemont_author, "hinge-questions", jpeg, "badge.png")
    assert response.status_code == 400
    assert "is a JPEG image; upload a PNG or an SVG." in text_of(response.text)
    assert draft(app, "hinge-questions").image_id is None


def test_an_oversized_badge_is_refused_before_it_is_read(app, lakemont_author):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from tests.catalog.authoring_support import token

    create(lakemont_author, "lakemont", "Hinge questions")
    fields = {
        "csrf_token": token(lakemont_author),
        "revision": str(revision(app, "hinge-questions")),
        "image": FileStorage(BytesIO(b"\x89PNG" + b"0" * 2_000_000), filename="big.png"),
    }
    boundary, body = encode_multipart(fields)
    # The body as a stream in memory (the test client would spool a body this size to a file).
    response = lakemont_author.post(
        "/admin/catalog/credentials/hinge-questions/image",
        input_stream=BytesIO(body),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers={"Content-Length": str(len(body))},
    )
    assert response.status_code == 413, text_of(response.text)
    assert "the limit is 1 MB" in text_of(response.text)
    assert draft(app, "hinge-questions").image_id is None


def test_an_svg_badge_is_stored_without_its_script(app, lakemont_author):
    from app.catalog.models import Image
    from tests.catalog.authoring_support import upload_image
    from tests.support.images import svg

    create(lakemont_author, "lakemont", "Hinge questions")
    hostile = svg(
        '<circle r="50"/><script>alert(1)</script>',
        attributes='width="200" height="200" onload="alert(2)"',
    )
    response = upload_image(app, lakemont_author, "hinge-questions", hostile, "badge.svg")
    assert response.status_code == 303
    with get_db(app).begin() as session:
        stored = session.get(Image, draft(app, "hinge-questions").image_id)
        assert stored.media_type == "image/svg+xml"
        assert b"script" not in stored.data and b"onload" not in stored.data
        assert b"circle" in stored.data

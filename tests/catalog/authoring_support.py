"""Builders for the authoring tests: organisations, console accounts signed in as operators or
as authors, and a credential draft filled in far enough to publish."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.admin import services as accounts
from app.catalog.models import Author, Credential, CredentialVersion, Organisation
from app.db import get_db
from tests.admin.console import csrf_from, sign_in
from tests.support.images import png

PASSWORD = "correct horse battery staple"


def add_organisation(app: Flask, slug: str, name: str) -> int:
    with get_db(app).begin() as session:
        organisation = Organisation(
            slug=slug, name=name, url=f"https://{slug}.example.org", email=f"badges@{slug}.org"
        )
        session.add(organisation)
        session.flush()
        return organisation.id


def account(
    app: Flask,
    email: str,
    *,
    operator: bool = False,
    memberships: dict[str, str] | None = None,
) -> FlaskClient:
    """A test client signed in as a new console account (an author unless ``operator``)."""
    with get_db(app).begin() as session:
        created = accounts.create_operator(
            session,
            accounts.CLI_ACTOR,
            email=email,
            name=email.split("@")[0].title(),
            password=PASSWORD,
            is_operator=operator,
        )
        for slug, role in (memberships or {}).items():
            organisation_id = session.scalars(
                select(Organisation.id).where(Organisation.slug == slug)
            ).one()
            session.add(Author(operator_id=created.id, organisation_id=organisation_id, role=role))
    client = app.test_client()
    response = sign_in(client, email, PASSWORD)
    assert response.status_code == 303, response.text
    return client


def token(client: FlaskClient, path: str = "/admin/catalog/") -> str:
    """The session's CSRF token, from a page the account may open."""
    return csrf_from(client.get(path).text)


def post(client: FlaskClient, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST a console form with the session's CSRF token."""
    return client.post(path, data={"csrf_token": token(client), **(data or {})}, **kw)


def revision(app: Flask, slug: str) -> int:
    return draft(app, slug).revision


def draft(app: Flask, slug: str) -> CredentialVersion:
    with get_db(app).begin() as session:
        credential = session.scalars(select(Credential).where(Credential.slug == slug)).one()
        latest = credential.versions[-1]
        session.expunge(latest)
        return latest


def versions(app: Flask, slug: str) -> list[tuple[int, str]]:
    with get_db(app).begin() as session:
        credential = session.scalars(select(Credential).where(Credential.slug == slug)).one()
        return [(v.number, v.status) for v in credential.versions]


def create(client: FlaskClient, organisation: str, title: str, slug: str = "") -> Any:
    return post(
        client,
        "/admin/catalog/new",
        {"organisation": organisation, "title": title, "slug": slug},
    )


DETAILS = {
    "title": "Hinge questions",
    "short_description": "Plan a hinge question and act on what the answers show.",
    "competency": "The educator plans a **hinge question** and acts on the answers.",
    "key_method": "A diagnostic question at the lesson's turning point.",
    "tags": "assessment, questioning",
    "estimated_hours": "8",
    "passing_kind": "all",
}

PART = {
    "title": "Lesson plan",
    "key": "",
    "guidance": "Upload the plan with the hinge question marked.",
    "evidence_kinds": ["file", "link"],
    "required": "1",
}

CRITERION = {
    "title": "Planned question",
    "key": "",
    "part": "lesson-plan",
    "pass_descriptor": "The plan places the question where the lesson turns.",
}


def save_details(app: Flask, client: FlaskClient, slug: str, **changes: Any) -> Any:
    data = {**DETAILS, **changes, "revision": revision(app, slug)}
    return post(client, f"/admin/catalog/credentials/{slug}/details", data)


def add_item(app: Flask, client: FlaskClient, slug: str, list_name: str, item: dict) -> Any:
    data = {**item, "revision": revision(app, slug)}
    return post(client, f"/admin/catalog/credentials/{slug}/lists/{list_name}/new", data)


def upload_image(app: Flask, client: FlaskClient, slug: str, data: bytes, name: str) -> Any:
    from io import BytesIO

    return client.post(
        f"/admin/catalog/credentials/{slug}/image",
        data={
            "csrf_token": token(client),
            "revision": str(revision(app, slug)),
            "image": (BytesIO(data), name),
        },
        content_type="multipart/form-data",
    )


def ready_draft(app: Flask, client: FlaskClient, organisation: str, slug: str) -> None:
    """A credential whose draft can be published: details, a part, a criterion, an image."""
    assert create(client, organisation, DETAILS["title"], slug).status_code == 303
    assert save_details(app, client, slug).status_code == 303
    assert add_item(app, client, slug, "parts", PART).status_code == 303
    assert add_item(app, client, slug, "criteria", CRITERION).status_code == 303
    assert upload_image(app, client, slug, png(400, 400), "badge.png").status_code == 303


def publish(app: Flask, client: FlaskClient, slug: str) -> Any:
    return post(
        client,
        f"/admin/catalog/credentials/{slug}/publish",
        {"revision": revision(app, slug)},
    )


def text_of(html: str) -> str:
    """The page's text, tags removed and entities decoded, for reading messages."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))

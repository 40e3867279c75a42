"""Small builders for the console tests: an operator, a signed-in test client, platforms and
pending deployments, and a strict-enough HTML check."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.admin import services
from app.admin.schemas import PlatformValues
from app.audit.models import AuditEvent
from app.db import get_db
from app.lti import registrations
from app.lti.models import Deployment, Registration

EMAIL = "ada@example.org"
PASSWORD = "correct horse battery staple"

MOODLE_FORM = {
    "name": "District Moodle",
    "issuer": "https://moodle.example.edu",
    "client_id": "AbC123",
    "auth_login_url": "https://moodle.example.edu/mod/lti/auth.php",
    "auth_token_url": "https://moodle.example.edu/mod/lti/token.php",
    "auth_audience": "",
    "key_set_url": "https://moodle.example.edu/mod/lti/certs.php",
    "platform_family": "moodle",
    "deployment_ids": "",
}


def create_operator(app: Flask, email: str = EMAIL, password: str = PASSWORD) -> int:
    with get_db(app).begin() as session:
        operator = services.create_operator(
            session, services.CLI_ACTOR, email=email, name="Ada Lovelace", password=password
        )
        return operator.id


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: FlaskClient, email: str = EMAIL, password: str = PASSWORD) -> Any:
    page = client.get("/admin/sign-in")
    return client.post(
        "/admin/sign-in",
        data={"csrf_token": csrf_from(page.text), "email": email, "password": password},
    )


def signed_in_client(app: Flask) -> FlaskClient:
    create_operator(app)
    client = app.test_client()
    response = sign_in(client)
    assert response.status_code == 303, response.text
    return client


def csrf(client: FlaskClient) -> str:
    """The signed-in session's CSRF token, as any console page carries it."""
    return csrf_from(client.get("/admin/").text)


def add_platform(
    app: Flask, *, issuer: str = "https://moodle.example.edu", client_id: str = "AbC123"
) -> str:
    values = PlatformValues(
        name="District Moodle",
        issuer=issuer,
        client_id=client_id,
        auth_login_url=f"{issuer}/mod/lti/auth.php",
        auth_token_url=f"{issuer}/mod/lti/token.php",
        key_set_url=f"{issuer}/mod/lti/certs.php",
        auth_audience=None,
        platform_family="moodle",
    )
    with get_db(app).begin() as session:
        return services.add_platform(session, services.CLI_ACTOR, values).uuid


def add_pending_deployment(app: Flask, registration_uuid: str, deployment_id: str) -> None:
    """What a launch from an unseen deployment leaves behind."""
    with get_db(app).begin() as session:
        registration = registrations.find_by_uuid(session, registration_uuid)
        assert registration is not None
        registrations.set_deployment_status(
            session, registration, deployment_id, Deployment.PENDING
        )


def registration(app: Flask, registration_uuid: str) -> Registration:
    with get_db(app).begin() as session:
        row = registrations.find_by_uuid(session, registration_uuid)
        assert row is not None
        return row


def deployment_status(app: Flask, registration_uuid: str, deployment_id: str) -> str:
    with get_db(app).begin() as session:
        row = registrations.find_by_uuid(session, registration_uuid)
        assert row is not None
        found = registrations.find_deployment(session, row, deployment_id)
        assert found is not None
        return found.status


def events(app: Flask, action: str | None = None) -> list[AuditEvent]:
    """Audit events, oldest first (optionally of one action)."""
    with get_db(app).begin() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


# --- HTML ---------------------------------------------------------------------------------------

VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}  # fmt: skip


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, int]] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.label_targets: list[str] = []
        self.described_by: list[str] = []
        self.fragment_links: list[str] = []
        self.h1 = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "label" and "for" in a:
            self.label_targets.append(a["for"])
        if "aria-describedby" in a:
            self.described_by.extend(a["aria-describedby"].split())
        if tag == "a" and a.get("href", "").startswith("#"):
            self.fragment_links.append(a["href"][1:])
        if tag == "h1":
            self.h1 += 1
        if tag not in VOID:
            self.stack.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack:
            self.problems.append(f"line {self.getpos()[0]}: </{tag}> closes nothing")
            return
        open_tag, line = self.stack.pop()
        if open_tag != tag:
            self.problems.append(
                f"line {self.getpos()[0]}: </{tag}> closes <{open_tag}> opened on line {line}"
            )


def check_html(html: str) -> None:
    """Fail unless the page parses with every element closed in order, ids unique, every label
    and aria-describedby pointing at an element that exists, and exactly one h1."""
    checker = _Checker()
    checker.feed(html)
    checker.close()
    problems = list(checker.problems)
    problems += [f"<{tag}> from line {line} is never closed" for tag, line in checker.stack]
    duplicates = {i for i in checker.ids if checker.ids.count(i) > 1}
    if duplicates:
        problems.append(f"duplicate ids: {sorted(duplicates)}")
    ids = set(checker.ids)
    for kind, targets in (
        ("label for", checker.label_targets),
        ("aria-describedby", checker.described_by),
        ("link to #", checker.fragment_links),
    ):
        problems += [f"{kind} {t!r}: no element has that id" for t in targets if t not in ids]
    if checker.h1 != 1:
        problems.append(f"{checker.h1} <h1> elements, not one")
    assert not problems, "\n".join(problems)

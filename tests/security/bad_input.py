"""Builders for the bad-input tests (issue 25): one world with something of every kind a route
can name (attempts, files, links, reviews, badges, platforms, keys, registration links,
grants, catalog entries), the people who can reach them (a learner, an instructor, an
instructor adding content by Deep Linking, the operator, nobody), and the bad values of each
class the robustness run found.

Requests go through the tool's test client, in this process, while the tool and the
development LMS serve on loopback for what crosses between them (launches, registration,
scores): one request costs a few milliseconds instead of a socket round trip, which keeps the
walk over every route fast enough to run on every change."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from app.badges.models import Award, IssuerKey, StatusList
from app.catalog.models import Organisation, Stack
from app.db import get_db
from app.evidence.models import EvidenceFile, EvidenceLink
from app.grading.models import AssessorGrant
from app.lti import registration_links
from app.lti.models import LtiUser, ToolKey
from tests.admin.console import add_platform, create_operator, csrf_from
from tests.badges.support import decide_attempt, process
from tests.evidence.support import (
    HINGE,
    INSTRUCTOR,
    LEARNER,
    OTHER_LEARNER,
    Session,
    add_activity,
    attempt_id,
    launch,
    start,
)
from tests.grading.support import claim, review_ids, set_review, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.live import LiveServers
from tests.support.lms import LmsUser

INT4_MAX = 2**31 - 1
"""PostgreSQL's ``integer``, the type of every id column."""

# --- The bad values ---------------------------------------------------------------------------

HUGE_INTEGERS = {
    "2^31 (past PostgreSQL's integer)": str(2**31),
    "2^63 (past SQLite's INTEGER)": str(2**63),
    "10^40": "1" + "0" * 40,
}
NON_ASCII_DIGITS = {
    "superscript two (isdigit, not int)": "²",
    "Arabic-Indic three (int() takes it)": "٣",
}
PATH_INTEGERS = {**HUGE_INTEGERS, **NON_ASCII_DIGITS, "negative": "-1"}
"""Values for an integer path segment (already percent-encoded where needed)."""
PATH_STRINGS = {
    "NUL": "%00",
    "encoded lone surrogate": "%ED%A0%80",
    "invalid UTF-8": "%FF",
    "5000 characters": "a" * 5000,
    "control character": "%1B",
}
"""Values for a string path segment (percent-encoded)."""

LONG_TEXT = "x" * 100_000
FIELD_VALUES = {
    "2^31 (past PostgreSQL's integer)": str(2**31),
    "2^63 (past SQLite's INTEGER)": str(2**63),
    **NON_ASCII_DIGITS,
    "negative": "-1",
    "not finite": "1e999",
    "NUL": "a\x00b",
    "100 KB": LONG_TEXT,
}
"""Values for a form field or a query argument (fewer than for a path: each costs a view)."""

DEEP = 100_000
JSON_VALUES = {
    "2^63": str(2**63),
    "2^31": str(2**31),
    "negative": "-1",
    "not finite (1e999)": "1e999",
    "NaN literal": "NaN",
    "lone surrogate": '"\\ud800"',
    "NUL": '"a\\u0000b"',
    "non-ASCII digits": '"²"',
    "nested 100 000 deep": "[" * DEEP + "]" * DEEP,
    "100 KB string": json.dumps(LONG_TEXT),
    "list": "[]",
    "object": "{}",
    "null": "null",
    "true": "true",
    "fraction": "1.5",
}
"""Raw JSON texts for a JSON field."""
JSON_BODIES = {
    "nested 100 000 deep": "[" * DEEP + "]" * DEEP,
    "objects nested 5 000 deep": '{"a":' * 5000 + "1" + "}" * 5000,
    "lone surrogate in a key": '{"\\udc00": 1}',
    "not finite": '{"a": 1e999}',
    "a 5 000-digit number": '{"a": ' + "9" * 5000 + "}",
    "not JSON": "{'a': 1",
    "a list": "[1, 2]",
    "invalid UTF-8": b'{"a": "\xff"}',
}
"""Whole JSON bodies that are wrong as a whole."""


def json_with(fields: dict[str, str]) -> str:
    """A JSON object text from raw member texts (so that values JSON cannot make stay raw)."""
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}"


# --- The people --------------------------------------------------------------------------------


@dataclass
class Caller:
    """Someone calling the tool: a test client, and what they send with every request."""

    name: str
    client: FlaskClient
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    """Fields every form of theirs carries (the console's CSRF token)."""

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        body: str | bytes | None = None,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        """Send one request; ``path`` is percent-encoded already."""
        if query:
            path += ("&" if "?" in path else "?") + "&".join(
                f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items()
            )
        kwargs: dict[str, Any] = {
            "method": method,
            "base_url": self.base_url,
            "headers": {**self.headers, **(headers or {})},
        }
        if body is not None:
            kwargs["data"] = body
            kwargs["content_type"] = content_type or "application/json"
        elif method not in ("GET", "HEAD", "DELETE"):
            kwargs["data"] = {**self.form, **(form or {})}
        return self.client.open(path, **kwargs)


def lti_caller(name: str, session: Session, world_client: FlaskClient, base_url: str) -> Caller:
    """A launched person: their launch session token in ``Authorization: Bearer``."""
    return Caller(name, world_client, base_url, {"Authorization": f"Bearer {session.token}"})


def token_of(html_or_url: str) -> str:
    found = re.search(r"[?&](?:amp;)?lt=([A-Za-z0-9_.\-]+)", html_or_url) or re.search(
        r'name="lt" value="([A-Za-z0-9_.\-]+)"', html_or_url
    )
    assert found, "no session token"
    return found.group(1)


@dataclass
class World:
    """Everything the bad-input tests reach for, made once."""

    live: LiveServers
    learner: Caller
    drafting: Caller
    """A second learner with a draft attempt that has a file and a link."""
    instructor: Caller
    linking: Caller
    """An instructor inside a Deep Linking launch (the picker)."""
    operator: Caller
    nobody: Caller
    submitted_attempt: int
    draft_attempt: int
    review: int
    review_version: int
    file_id: int
    link_id: int
    public_id: str
    platform_uuid: str
    registration_token: str
    registration_link_id: int
    path_values: dict[str, list[str]]
    """For each path parameter's name, values that name something that exists; a key
    ``"<name> <path part>"`` gives the values for rules whose path has that part."""

    def values_for(self, rule: str, name: str) -> list[str]:
        """The values for parameter ``name`` of ``rule`` (its path with placeholders)."""
        for key, values in self.path_values.items():
            wanted, _, part = key.partition(" ")
            if wanted == name and part and part in rule:
                return values
        return self.path_values.get(name, ["1"])

    @property
    def callers(self) -> list[Caller]:
        return [
            self.operator,
            self.instructor,
            self.linking,
            self.learner,
            self.drafting,
            self.nobody,
        ]

    def sign_in_operator(self) -> None:
        """Sign the operator in (again, after the walk signed them out)."""
        client = self.operator.client
        page = client.get("/admin/sign-in", base_url=self.operator.base_url)
        answer = client.post(
            "/admin/sign-in",
            base_url=self.operator.base_url,
            data={
                "csrf_token": csrf_from(page.text),
                "email": OPERATOR_EMAIL,
                "password": OPERATOR_PASSWORD,
            },
        )
        assert answer.status_code == 303, answer.text
        self.operator.form = {
            "csrf_token": csrf_from(client.get("/admin/", base_url=self.operator.base_url).text)
        }

    def operator_signed_in(self) -> bool:
        page = self.operator.client.get("/admin/", base_url=self.operator.base_url)
        return page.status_code == 200


OPERATOR_EMAIL = "ada@example.org"
OPERATOR_PASSWORD = "correct horse battery staple"


def build_world(live: LiveServers) -> World:
    """Seed the sample catalog, put the hinge credential in the demo course, and make one of
    everything: a submitted attempt claimed by the instructor, a second learner's draft with a
    file and a link, an earned badge, a platform, a registration link, an assessor grant."""
    tool = live.tool
    base = live.tool_url
    with get_db(tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    activity = add_activity(live, HINGE)

    educator = launch(live, LEARNER, activity)
    attempt = submitted(educator)
    second = launch(live, OTHER_LEARNER, activity)
    draft = attempt_id(start(second, HINGE).text)
    teacher = launch(live, INSTRUCTOR, activity)
    page = claim(teacher, attempt)
    assert page.status_code == 200, page.text[:300]
    review, version = review_ids(page.text)

    client = tool.test_client()
    drafting = lti_caller("learner with a draft", second, client, base)
    added = drafting.request(
        "POST",
        f"/work/attempts/{draft}/links",
        form={"part": "lesson-plan", "url": "https://docs.example.org/a", "title": "A"},
    )
    assert added.status_code == 303, added.text[:300]
    started = drafting.request(
        "POST",
        f"/api/evidence/attempts/{draft}/parts/lesson-plan/files",
        body=json.dumps({"name": "plan.txt", "size": 5}),
    )
    assert started.status_code == 201, started.text[:300]
    file_id = started.get_json()["id"]
    sent = drafting.request(
        "PUT",
        f"/api/evidence/files/{file_id}/content?offset=0",
        body=b"hello",
        content_type="application/octet-stream",
    )
    assert sent.status_code == 200, sent.text[:300]

    linking_user = LmsUser(live, INSTRUCTOR)
    picker = linking_user.deep_link()
    assert picker.status_code == 200, picker.text[:300]

    with get_db(tool).begin() as session:
        learner_id = session.scalars(
            select(LtiUser.id).where(LtiUser.sub == educator.user.sub)
        ).one()
    decide_attempt(tool, learner_id, "feedback-that-moves-learning-forward")
    process(tool)

    create_operator(tool, OPERATOR_EMAIL, OPERATOR_PASSWORD)
    platform_uuid = add_platform(tool, issuer="https://walk.example.edu")
    with get_db(tool).begin() as session:
        issued = registration_links.issue(session, label="Walk LMS", created_by=OPERATOR_EMAIL)
        token, registration_link_id = issued.token, issued.link.id
        organisation = session.scalars(select(Organisation)).first()
        assert organisation is not None
        session.add(
            AssessorGrant(
                registration_id=session.scalars(select(LtiUser.registration_id)).first(),
                organisation_id=organisation.id,
                user_id=learner_id,
                granted_by=OPERATOR_EMAIL,
            )
        )

    operator = Caller("operator", tool.test_client(), base)
    world = World(
        live=live,
        learner=lti_caller("learner", educator, client, base),
        drafting=drafting,
        instructor=lti_caller("instructor", teacher, client, base),
        linking=Caller(
            "instructor adding content",
            client,
            base,
            {"Authorization": f"Bearer {token_of(picker.text)}"},
        ),
        operator=operator,
        nobody=Caller("nobody", tool.test_client(), base),
        submitted_attempt=attempt,
        draft_attempt=draft,
        review=review,
        review_version=version,
        file_id=file_id,
        link_id=0,
        public_id="",
        platform_uuid=platform_uuid,
        registration_token=token,
        registration_link_id=registration_link_id,
        path_values={},
    )
    world.sign_in_operator()
    started_draft = operator.request("POST", f"/admin/catalog/credentials/{HINGE}/drafts")
    assert started_draft.status_code == 303, started_draft.text[:300]
    world.path_values = _path_values(world)
    world.link_id = int(world.path_values["link_id"][0])
    world.public_id = world.path_values["public_id"][0]
    return world


def _path_values(world: World) -> dict[str, list[str]]:
    tool = world.live.tool
    with get_db(tool).begin() as session:
        award = session.scalars(select(Award).execution_options(all_platforms=True)).one()
        organisations = [o.slug for o in session.scalars(select(Organisation))]
        stack = session.scalars(select(Stack.slug)).first()
        kid = session.scalars(select(ToolKey.kid)).first()
        link = session.scalars(
            select(EvidenceLink.id).where(EvidenceLink.attempt_id == world.draft_attempt)
        ).first()
        grant = session.scalars(select(AssessorGrant.id)).first()
        issuer_key = session.scalars(select(IssuerKey)).first()
        status_list = session.scalars(select(StatusList.id)).first()
        file_row = session.get(EvidenceFile, world.file_id)
        assert file_row is not None
        from app.admin.models import Operator

        account = session.scalars(select(Operator.id)).first()
    return {
        "attempt_id": [str(world.draft_attempt), str(world.submitted_attempt)],
        "attempt_id /review": [str(world.submitted_attempt)],
        "attempt_id /submissions": [str(world.submitted_attempt)],
        "file_id": [str(world.file_id)],
        "link_id": [str(link), str(world.registration_link_id)],
        "part_key": ["lesson-plan", "overview"],
        "slug": [HINGE],
        "slug /organisations/": organisations,
        "slug /issuers/": organisations,
        "slug /ob2/issuers/": organisations,
        "slug /stacks/": [str(stack)],
        "list_name": ["parts", "criteria"],
        "number": ["1"],
        "public_id": [award.public_id],
        "registration_uuid": [world.platform_uuid],
        "kid": [str(kid)],
        "token": [world.registration_token],
        "grant_id": [str(grant)],
        "account_id": [str(account)],
        "multibase": [issuer_key.public_multibase if issuer_key else "z"],
        "list_id": [str(status_list)],
        "digest": ["0" * 64],
        "ext": ["png", "svg"],
        "filename": ["app.css"],
    }

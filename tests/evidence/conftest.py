"""Evidence fixtures: the S3-compatible server, stores of both kinds, and a launched educator
with a draft attempt (made directly: starting attempts is the workspace's service)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from app.catalog.exchange import import_catalog
from app.catalog.models import Credential, CredentialVersion
from app.db import get_db
from app.evidence.models import Attempt, EvidenceFile
from app.evidence.storage import EvidenceStore, LocalStore, S3Store
from app.lti.models import LtiUser
from tests.catalog.test_exchange import catalog
from tests.support.live import LiveServers
from tests.support.lms import LmsUser
from tests.support.s3 import S3Server

FILE_PART = "artifact"
TEXT_PART = "overview"


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    """Each store implementation in turn: the same contract holds for both."""
    if request.param == "local":
        return LocalStore(tmp_path / "evidence")
    server: S3Server = request.getfixturevalue("s3_server")
    return S3Store(server.client(), server.new_bucket())


@dataclass
class Educator:
    """A launched educator with a draft attempt, calling the files API like the page's script."""

    live: LiveServers
    http: requests.Session
    token: str
    attempt_id: int
    user_id: int

    @property
    def base(self) -> str:
        return self.live.tool_url

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json", **extra}

    def start(
        self, name: str, size: int, part: str = FILE_PART, attempt_id: int | None = None
    ) -> requests.Response:
        return self.http.post(
            f"{self.base}/api/evidence/attempts/{attempt_id or self.attempt_id}/parts/{part}/files",
            json={"name": name, "size": size},
            headers=self.headers(),
            timeout=30,
        )

    def put(self, file_id: int, offset: int, data: bytes) -> requests.Response:
        return self.http.put(
            f"{self.base}/api/evidence/files/{file_id}/content",
            params={"offset": offset},
            data=data,
            headers=self.headers(**{"Content-Type": "application/octet-stream"}),
            timeout=60,
        )

    def status(self, file_id: int) -> requests.Response:
        return self.http.get(
            f"{self.base}/api/evidence/files/{file_id}", headers=self.headers(), timeout=30
        )

    def complete(self, file_id: int) -> requests.Response:
        return self.http.post(
            f"{self.base}/api/evidence/files/{file_id}/complete", headers=self.headers(), timeout=60
        )

    def delete(self, file_id: int) -> requests.Response:
        return self.http.delete(
            f"{self.base}/api/evidence/files/{file_id}", headers=self.headers(), timeout=30
        )

    def download(self, file_id: int, **headers: str) -> requests.Response:
        return self.http.get(
            f"{self.base}/evidence/files/{file_id}/download",
            params={"lt": self.token},
            headers=headers,
            timeout=60,
        )

    def upload(self, name: str, content: bytes, chunk: int) -> dict[str, Any]:
        """Upload ``content`` whole through the API; return the completed file's status."""
        started = self.start(name, len(content))
        assert started.status_code == 201, started.text
        file_id = started.json()["id"]
        for offset in range(0, len(content), chunk):
            answer = self.put(file_id, offset, content[offset : offset + chunk])
            assert answer.status_code == 200, answer.text
        done = self.complete(file_id)
        assert done.status_code == 200, done.text
        body: dict[str, Any] = done.json()
        return body


def launch_token(user: LmsUser) -> str:
    page = user.launch()
    assert page.status_code == 200, page.text
    match = re.search(r"[?&](?:amp;)?lt=([A-Za-z0-9_.\-]+)", page.text)
    assert match, "the launch page carries a session token"
    return unescape(match.group(1))


def make_attempt(
    live: LiveServers, sub: str, state: str = Attempt.DRAFT, number: int = 1
) -> tuple[int, int]:
    """Create an attempt at the test catalog's credential for the user ``sub``; return its id
    and the user's id."""
    with get_db(live.tool).begin() as session:
        if session.scalars(select(Credential)).first() is None:
            import_catalog(session, catalog())
            session.flush()
        user = session.scalars(select(LtiUser).where(LtiUser.sub == sub)).one()
        credential = session.scalars(
            select(Credential).where(Credential.slug == "formative-questioning")
        ).one()
        version = session.scalars(
            select(CredentialVersion).where(CredentialVersion.credential_id == credential.id)
        ).one()
        attempt = Attempt(
            registration_id=user.registration_id,
            user_id=user.id,
            credential_id=credential.id,
            version_id=version.id,
            number=number,
            state=state,
        )
        session.add(attempt)
        session.flush()
        return attempt.id, user.id


def launched(live: LiveServers, email: str) -> Educator:
    user = LmsUser(live, email)
    token = launch_token(user)
    attempt_id, user_id = make_attempt(live, user.sub)
    return Educator(live, user.http, token, attempt_id, user_id)


@pytest.fixture
def educator(live: LiveServers) -> Educator:
    return launched(live, "jordan.lee@example.edu")


@pytest.fixture
def other_educator(live: LiveServers, educator: Educator) -> Educator:
    return launched(live, "priya.natarajan@example.edu")


def set_state(live: LiveServers, attempt_id: int, state: str) -> None:
    with get_db(live.tool).begin() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        attempt.state = state


def file_row(live: LiveServers, file_id: int) -> EvidenceFile | None:
    with get_db(live.tool).begin() as session:
        return session.get(EvidenceFile, file_id)


def evidence_root(live: LiveServers) -> Path:
    root: Path = live.tool.config["MICROCRED_SETTINGS"].evidence_path
    return root

"""Forged and altered launches for the security tests.

A real login initiation and a real authorization step give a genuine state, nonce and
id_token from the development LMS; the test then changes the claims or the header and signs
again with the platform's own key (or a foreign one), and posts the result to the tool.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from app.db import Base, get_db
from app.devlms.models import DevPlatformKey
from tests.support.lms import LmsUser, bridge_data, forms, submit, with_landing_address

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def foreign_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass
class PendingLaunch:
    """A login the tool started and the LMS answered: ready to post, or to alter first."""

    user: LmsUser
    action: str
    state: str
    id_token: str

    @property
    def claims(self) -> dict[str, Any]:
        return dict(jwt.decode(self.id_token, options={"verify_signature": False}))

    @property
    def header(self) -> dict[str, Any]:
        return dict(jwt.get_unverified_header(self.id_token))

    def post(
        self,
        id_token: str | None = None,
        state: str | None = None,
        http: requests.Session | None = None,
    ) -> requests.Response:
        return with_landing_address(
            (http or self.user.http).post(
                self.action,
                data={"id_token": id_token or self.id_token, "state": state or self.state},
                timeout=30,
            )
        )


class Forge:
    def __init__(self, live: Any, email: str = "jordan.lee@example.edu") -> None:
        self.live = live
        self.email = email

    def start(self, link_title: str = "Microcred: welcome") -> PendingLaunch:
        user = LmsUser(self.live, self.email)
        initiation = user.initiation(f"/launch/link/{user.link_id(link_title)}")
        login_page = submit(user.http, self.live.devlms_url, initiation)
        auth_page = user.http.get(bridge_data(login_page.text)["next"], timeout=30)
        form = forms(auth_page.text)[0]
        return PendingLaunch(
            user=user,
            action=form.action,
            state=form.fields["state"],
            id_token=form.fields["id_token"],
        )

    def platform_key(self) -> tuple[str, str]:
        with get_db(self.live.devlms).begin() as session:
            key = session.scalars(select(DevPlatformKey)).one()
            return key.kid, key.private_pem

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key_pem: str | None = None,
        kid: str | None = None,
        alg: str = "RS256",
        headers: dict[str, Any] | None = None,
    ) -> str:
        platform_kid, platform_pem = self.platform_key()
        header = {"kid": kid or platform_kid, **(headers or {})}
        return jwt.encode(claims, key_pem or platform_pem, algorithm=alg, headers=header)

    def sign_payload(self, payload: bytes, *, headers: dict[str, Any] | None = None) -> str:
        """Sign any bytes as the payload, JSON object or not, with the platform's own key."""
        kid, pem = self.platform_key()
        return jwt.api_jws.encode(
            payload, pem, algorithm="RS256", headers={"kid": kid, **(headers or {})}
        )

    def with_header(self, claims: dict[str, Any], header: bytes) -> str:
        """A token whose header is ``header`` (raw JSON, object or not), signed with the
        platform's key over that header, as a platform would."""
        _kid, pem = self.platform_key()
        private = serialization.load_pem_private_key(pem.encode(), password=None)
        signing_input = f"{_b64(header)}.{_b64(json.dumps(claims).encode())}"
        signature = jwt.get_algorithm_by_name("RS256").sign(signing_input.encode(), private)
        return f"{signing_input}.{_b64(signature)}"

    def rows(self) -> dict[str, set[str]]:
        """Every row of every table of the tool's database, to show a refusal wrote none."""
        with get_db(self.live.tool).begin() as session:
            return {
                table.name: {repr(tuple(row)) for row in session.execute(select(table))}
                for table in Base.metadata.sorted_tables
            }

    def assert_nothing_written(self, before: dict[str, set[str]]) -> None:
        """No row was added or changed since ``before`` (the login record may have been taken)."""
        after = self.rows()
        for table, rows in after.items():
            assert rows <= before[table], f"{table}: {rows - before[table]}"

    def unsigned(self, claims: dict[str, Any]) -> str:
        header = {"alg": "none", "typ": "JWT", "kid": self.platform_key()[0]}
        return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."

    def hs256_with_public_key(self, claims: dict[str, Any]) -> str:
        """The classic algorithm-confusion forgery: HMAC keyed with the platform's public key."""
        kid, pem = self.platform_key()
        public = serialization.load_pem_private_key(pem.encode(), password=None).public_key()
        secret = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}"

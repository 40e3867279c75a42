"""A stand-in LMS for Dynamic Registration *failure* cases: answers what a test tells it to
(errors, wrong issuers, non-JSON) and records what the tool sent. The working platform side is
the development LMS; this exists because a well-behaved LMS cannot be made to misbehave."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.serving import start_serving, stop_serving


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"


@dataclass
class FakePlatform:
    server: ThreadingHTTPServer
    base_url: str
    configuration: Answer = field(default_factory=Answer)
    registration: Answer = field(default_factory=Answer)
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def configuration_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    def good_configuration(self, family: str = "moodle") -> dict[str, Any]:
        base = self.base_url
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/auth",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "registration_endpoint": f"{base}/register",
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": family,
                "version": "4.5",
            },
        }

    def close(self) -> None:
        stop_serving(self.server)


def start_fake_platform() -> FakePlatform:
    holder: dict[str, FakePlatform] = {}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, answer: Answer) -> None:
            payload = answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            platform = holder["p"]
            platform.requests.append(
                {"method": "GET", "path": self.path, "authorization": self.headers["Authorization"]}
            )
            self._answer(platform.configuration)

        def do_POST(self) -> None:
            platform = holder["p"]
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
            platform.requests.append(
                {
                    "method": "POST",
                    "path": self.path,
                    "authorization": self.headers["Authorization"],
                    "body": body,
                }
            )
            self._answer(platform.registration)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    platform = FakePlatform(server=server, base_url=f"http://127.0.0.1:{server.server_port}")
    holder["p"] = platform
    platform.configuration = Answer(body=platform.good_configuration())
    platform.registration = Answer(
        body={
            "client_id": "fake-client-1",
            "https://purl.imsglobal.org/spec/lti-tool-configuration": {"deployment_id": "7"},
        }
    )
    start_serving(server)
    return platform

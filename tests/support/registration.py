"""Dynamic Registration against the development LMS: fresh registration tokens, a valid client
registration for the tool's real URLs, and the POST to the flavour's registration endpoint."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import requests

from app.db import get_db
from app.devlms.platform import ALL_SCOPES
from app.devlms.registration import FLAVOURS, issue_registration_token
from tests.support.live import LiveServers

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def registration_token(
    live: LiveServers, flavour: str, lifetime: timedelta | None = None
) -> tuple[str, str]:
    """Return ``(openid_configuration_url, registration_token)`` as the LMS's admin page would."""
    settings = live.devlms.config["MICROCRED_SETTINGS"]
    with get_db(live.devlms).begin() as session:
        if lifetime is None:
            return issue_registration_token(session, settings, flavour)
        return issue_registration_token(session, settings, flavour, lifetime=lifetime)


def registration_endpoint(live: LiveServers, flavour: str) -> str:
    """Moodle's is under its issuer; Canvas's on the school's domain (the account host)."""
    base = live.devlms_account_url if flavour == "canvas" else live.devlms_url
    return base + FLAVOURS[flavour].registration_path


def client_registration(live: LiveServers, **changes: Any) -> dict[str, Any]:
    """A client registration as the checklist (D) describes it, for the tool's real URLs."""
    tool = live.tool_url
    document: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": f"{tool}/lti/login",
        "redirect_uris": [f"{tool}/lti/launch"],
        "jwks_uri": f"{tool}/.well-known/jwks.json",
        "client_name": "Microcred",
        "logo_uri": f"{tool}/static/logo.svg",
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(ALL_SCOPES),
        TOOL_CONFIGURATION: {
            "domain": tool.split("://", 1)[1],
            "target_link_uri": f"{tool}/lti/launch",
            "claims": ["iss", "sub", "name", "given_name", "family_name", "email"],
            "messages": [
                {
                    "type": "LtiDeepLinkingRequest",
                    "target_link_uri": f"{tool}/lti/launch",
                    "label": "Add a micro-credential",
                    "placements": ["ContentArea"],
                }
            ],
        },
    }
    document = copy.deepcopy(document)
    for name, value in changes.items():
        if value is None:
            document.pop(name, None)
        else:
            document[name] = value
    return document


def tool_configuration(live: LiveServers, **changes: Any) -> dict[str, Any]:
    """The lti-tool-configuration object of ``client_registration`` with ``changes``."""
    config = dict(client_registration(live)[TOOL_CONFIGURATION])
    for name, value in changes.items():
        if value is None:
            config.pop(name, None)
        else:
            config[name] = value
    return config


def post_registration(
    live: LiveServers, flavour: str, document: Any, token: str | None
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        registration_endpoint(live, flavour), json=document, headers=headers, timeout=30
    )


def register(live: LiveServers, flavour: str, **changes: Any) -> dict[str, Any]:
    """Register a tool by Dynamic Registration from end to end; return the LMS's answer."""
    configuration_url, token = registration_token(live, flavour)
    configuration = requests.get(
        configuration_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    configuration.raise_for_status()
    response = requests.post(
        configuration.json()["registration_endpoint"],
        json=client_registration(live, **changes),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer

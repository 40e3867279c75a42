"""Security headers: framing limited to registered platforms, nosniff, referrer policy."""

from __future__ import annotations

import requests

from tests.support.forge import CLAIM, Forge
from tests.support.lms import LmsUser


def _directive(response, name):
    policy = response.headers["Content-Security-Policy"]
    return next(d for d in policy.split("; ") if d.startswith(name + " ")).split()[1:]


def test_launch_page_may_be_framed_only_by_registered_platforms(live):
    page = LmsUser(live, "jordan.lee@example.edu").launch()
    assert page.status_code == 200
    assert _directive(page, "frame-ancestors") == ["'self'", live.devlms_url]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]


def test_error_pages_carry_the_same_headers(live):
    page = requests.post(f"{live.tool_url}/lti/launch", data={}, timeout=30)
    assert page.status_code == 400
    assert live.devlms_url in _directive(page, "frame-ancestors")
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_origin_of_a_signed_return_url_is_learned(live):
    """Hosted Canvas: the course page is on the school's domain, not on the issuer's."""
    forge = Forge(live)
    pending = forge.start()
    claims = pending.claims
    claims[CLAIM + "launch_presentation"] = {
        "document_target": "iframe",
        "return_url": "https://school.example.edu/courses/5",
    }
    page = pending.post(forge.sign(claims))
    assert page.status_code == 200
    assert "https://school.example.edu" in _directive(page, "frame-ancestors")
    later = requests.get(f"{live.tool_url}/", timeout=30)
    assert "https://school.example.edu" in _directive(later, "frame-ancestors")


def test_unsigned_requests_teach_no_origins(live):
    requests.post(
        f"{live.tool_url}/lti/launch",
        timeout=30,
        data={"id_token": "x.y.z", "state": "s"},
        headers={"Referer": "https://attacker.example/"},
    )
    page = requests.get(f"{live.tool_url}/", timeout=30)
    assert "https://attacker.example" not in page.headers["Content-Security-Policy"]

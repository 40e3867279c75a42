"""Security headers: framing limited to registered platforms, nosniff, referrer policy."""

from __future__ import annotations

import requests

from tests.support.forge import CLAIM, Forge
from tests.support.lms import LmsUser, submit


def _directive(response, name):
    policy = response.headers["Content-Security-Policy"]
    return next(d for d in policy.split("; ") if d.startswith(name + " ")).split()[1:]


def _launch_signed_with_return_url(live, return_url: str) -> requests.Response:
    """A launch whose id_token, signed by the LMS, says its course page is at ``return_url``."""
    forge = Forge(live)
    pending = forge.start()
    claims = pending.claims
    claims[CLAIM + "launch_presentation"] = {"document_target": "iframe", "return_url": return_url}
    return pending.post(forge.sign(claims))


def test_launch_page_may_be_framed_only_by_registered_platforms(live):
    page = LmsUser(live, "jordan.lee@example.edu").launch()
    assert page.status_code == 200
    assert _directive(page, "frame-ancestors") == ["'self'", live.devlms_url]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]


def test_error_pages_carry_the_same_headers(live):
    page = requests.get(f"{live.tool_url}/home", timeout=30)  # no launch
    assert page.status_code == 401
    assert _directive(page, "frame-ancestors") == ["'self'", live.devlms_url]
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_origin_of_a_signed_return_url_is_learned(live):
    """Hosted Canvas: the course page is on the school's domain, not on the issuer's."""
    page = _launch_signed_with_return_url(live, "https://school.example.edu/courses/5")
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


def test_the_login_handshake_may_be_framed_by_any_page(live):
    """Hosted Canvas shows the course on the school's domain, which no registration names until
    a signed launch says so: the login and bridge pages, which show nothing of anyone's, must
    load in that frame, or the launch that would teach the origin never happens."""
    user = LmsUser(live, "jordan.lee@example.edu")
    initiation = user.initiation(f"/launch/link/{user.link_id('Microcred: welcome')}")
    login_page = submit(user.http, live.devlms_url, initiation)
    assert login_page.status_code == 200
    assert _directive(login_page, "frame-ancestors") == ["*"]
    refused = requests.get(f"{live.tool_url}/lti/login", timeout=30)  # no iss: an error page
    assert refused.status_code == 400
    assert _directive(refused, "frame-ancestors") == ["*"]
    home = requests.get(f"{live.tool_url}/", timeout=30)
    assert _directive(home, "frame-ancestors") == ["'self'", live.devlms_url]


def test_every_instance_frames_a_launch_for_the_page_its_lms_signed(live, settings_override):
    """With several instances, the one that answers the launch's next page may have read the
    platforms' origins before the launch taught a new one: the launch's own signed return_url
    still lets its page be framed there."""
    from app import create_app

    other = create_app(
        {
            **settings_override,
            "MICROCRED_BASE_URL": live.tool_url,
            "MICROCRED_DEVLMS_URL": live.devlms_url,
        }
    )
    try:
        before = other.test_client().get("/")
        assert "https://school.example.edu" not in _directive(before, "frame-ancestors")
        page = _launch_signed_with_return_url(live, "https://school.example.edu/courses/5")
        assert page.status_code == 200
        path = page.url.removeprefix(live.tool_url)
        again = other.test_client().get(path)
        assert again.status_code == 200, again.text[:300]
        assert "https://school.example.edu" in _directive(again, "frame-ancestors")
        elsewhere = other.test_client().get("/")  # no launch: what the cache knew
        assert "https://school.example.edu" not in _directive(elsewhere, "frame-ancestors")
    finally:
        other.extensions["db"].dispose()

"""The console's Keys and Registration links pages: each change audited with the operator as
actor; the issued link shown once; refusals explained."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import get_db
from app.lti import keys
from app.lti.models import RegistrationLink
from tests.admin.console import EMAIL, check_html, csrf, events


def _states(app):
    with get_db(app).begin() as session:
        return {s.kid: s.state for s in keys.key_states(session)}


def _first_key(app):
    with get_db(app).begin() as session:
        keys.ensure_active_key(session, app.extensions["lti"].cipher)
    return next(iter(_states(app)))


def test_keys_page_lists_the_schedule(app, operator_client):
    kid = _first_key(app)
    page = operator_client.get("/admin/keys")
    assert page.status_code == 200
    check_html(page.text)
    assert kid in page.text and "Signing" in page.text
    assert 'aria-current="page">Keys<' in page.text


def test_rotating_from_the_console_publishes_the_next_key_and_is_audited(app, operator_client):
    old = _first_key(app)
    response = operator_client.post(
        "/admin/keys/rotate", data={"csrf_token": csrf(operator_client), "overlap": "2d"}
    )
    assert response.status_code == 303
    states = _states(app)
    assert states[old] == "signing" and sorted(states.values()) == ["next", "signing"]
    page = operator_client.get(response.headers["Location"])
    assert "The next key is published" in page.text
    assert "Next: published, not signing yet" in page.text
    event = events(app)[-1]
    assert (event.actor, event.action) == (EMAIL, "key.rotation_scheduled")


def test_a_second_rotation_while_one_is_pending_is_refused_with_a_reason(app, operator_client):
    _first_key(app)
    token = csrf(operator_client)
    operator_client.post("/admin/keys/rotate", data={"csrf_token": token, "overlap": "2d"})
    again = operator_client.post("/admin/keys/rotate", data={"csrf_token": token, "overlap": "2d"})
    assert again.status_code == 409
    assert "Traceback" not in again.text
    assert len(_states(app)) == 2


def test_an_unknown_overlap_is_a_clear_400(app, operator_client):
    response = operator_client.post(
        "/admin/keys/rotate", data={"csrf_token": csrf(operator_client), "overlap": "forever"}
    )
    assert response.status_code == 400
    assert "Choose how long" in response.text


def test_retiring_a_next_key_asks_first_then_cancels_the_rotation(app, operator_client):
    _first_key(app)
    token = csrf(operator_client)
    operator_client.post("/admin/keys/rotate", data={"csrf_token": token, "overlap": "2d"})
    next_kid = next(k for k, state in _states(app).items() if state == "next")
    confirm = operator_client.get(f"/admin/keys/{next_kid}/retire")
    assert confirm.status_code == 200 and "cancels the rotation" in confirm.text
    check_html(confirm.text)
    done = operator_client.post(f"/admin/keys/{next_kid}/retire", data={"csrf_token": token})
    assert done.status_code == 303
    assert _states(app)[next_kid] == "retired"
    page = operator_client.get(done.headers["Location"])
    assert f"Key {next_kid} is retired" in page.text
    assert events(app)[-1].action == "key.retired"


def test_the_signing_key_cannot_be_retired(app, operator_client):
    kid = _first_key(app)
    response = operator_client.post(
        f"/admin/keys/{kid}/retire", data={"csrf_token": csrf(operator_client)}
    )
    assert response.status_code == 409
    assert _states(app)[kid] == "signing"


def test_unknown_key_is_a_404(operator_client):
    assert operator_client.get("/admin/keys/no-such-kid/retire").status_code == 404


def test_issuing_a_link_shows_it_once_and_stores_only_its_digest(app, operator_client):
    response = operator_client.post(
        "/admin/registration-links",
        data={
            "csrf_token": csrf(operator_client),
            "label": "Northside Moodle",
            "lifetime": "7",
            "auto_approve": "1",
        },
    )
    assert response.status_code == 200
    check_html(response.text)
    url = re.search(r'value="(http://127\.0\.0\.1:5000/lti/register/[\w-]+)"', response.text)
    assert url, "the issued link is on the page"
    token = url.group(1).rsplit("/", 1)[1]
    with get_db(app).begin() as session:
        link = session.scalars(select(RegistrationLink)).one()
        assert token not in link.token_digest and link.created_by == EMAIL
        assert link.auto_approve_deployments is True
    # Issue 28 item 12: a button copies it, and the form is ready for the next link.
    copy = r'<button type="button" class="copy[^"]*" data-copy="issued-url"'
    assert re.search(copy, response.text)
    assert "copy-buttons.js" in response.text
    label_field = re.search(r'<input[^>]*id="label"[^>]*>', response.text)
    assert label_field and "Northside Moodle" not in label_field.group(0)
    listing = operator_client.get("/admin/registration-links")
    assert token not in listing.text and "Northside Moodle" in listing.text
    event = events(app)[-1]
    assert (event.actor, event.action) == (EMAIL, "registration_link.issued")
    assert token not in str(event.details)


def test_a_link_without_a_label_is_explained_next_to_the_field(app, operator_client):
    response = operator_client.post(
        "/admin/registration-links",
        data={"csrf_token": csrf(operator_client), "label": "  ", "lifetime": "7"},
    )
    assert response.status_code == 400
    check_html(response.text)
    assert "There is a problem" in response.text and "Give the link a label" in response.text


def test_withdrawing_a_link(app, operator_client):
    token = csrf(operator_client)
    operator_client.post(
        "/admin/registration-links",
        data={"csrf_token": token, "label": "Canvas", "lifetime": "1"},
    )
    with get_db(app).begin() as session:
        link_id = session.scalars(select(RegistrationLink.id)).one()
    response = operator_client.post(
        f"/admin/registration-links/{link_id}/revoke", data={"csrf_token": token}
    )
    assert response.status_code == 303
    assert "Withdrawn" in operator_client.get("/admin/registration-links").text
    assert events(app)[-1].action == "registration_link.revoked"
    missing = operator_client.post(
        "/admin/registration-links/999/revoke", data={"csrf_token": token}
    )
    assert missing.status_code == 404

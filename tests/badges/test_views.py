"""The public badge documents and pages (issue 11): DID documents and keys, the signed status
list, the OB 2.0 hosted set, the verification page with JSON by content negotiation, the
downloads, and what revocation changes in each."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from app.admin.services import CLI_ACTOR
from app.badges import images, services, status
from app.badges.models import StatusList
from app.catalog.authoring import Rights
from app.db import get_db
from app.errors import Forbidden
from tests.badges.support import earn

BASE = "http://127.0.0.1:5000"
DID = "did:web:127.0.0.1%3A5000:issuers:lakemont-itl"
OPERATOR = Rights(actor=CLI_ACTOR, is_operator=True, roles={})


def _revoke(app, public_id: str, reason: str = "The evidence was not the educator's own.") -> None:
    with get_db(app).begin() as session:
        services.revoke(session, public_id, reason, OPERATOR)


def test_the_issuers_did_document_lists_its_key_for_assertions(app, client):
    award = earn(app)
    document = client.get("/issuers/lakemont-itl/did.json").get_json()
    assert document["id"] == DID
    method = award.credential_json["proof"]["verificationMethod"]
    assert [m["id"] for m in document["verificationMethod"]] == [method]
    assert document["assertionMethod"] == [method]
    assert document["verificationMethod"][0]["type"] == "Multikey"


def test_the_tools_did_document_names_the_issuers_it_hosts(app, client):
    earn(app)
    document = client.get("/.well-known/did.json").get_json()
    assert document["id"] == "did:web:127.0.0.1%3A5000"
    endpoints = [s["serviceEndpoint"] for s in document["service"]]
    assert f"{BASE}/issuers/lakemont-itl/did.json" in endpoints


def test_each_key_is_also_served_at_an_https_url(app, client):
    award = earn(app)
    multibase = award.credential_json["proof"]["verificationMethod"].split("#")[1]
    document = client.get(f"/issuers/lakemont-itl/keys/{multibase}").get_json()
    assert document["publicKeyMultibase"] == multibase
    assert document["controller"] == DID


def test_an_unknown_issuer_is_a_clear_404(app, client):
    response = client.get("/issuers/nobody/did.json", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "nobody" in response.get_data(as_text=True)


def test_the_status_list_is_a_signed_credential_with_the_revoked_bit_set(app, client):
    award = earn(app)
    url = award.credential_json["credentialStatus"]["statusListCredential"]
    before = client.get(url.removeprefix(BASE)).get_json()
    assert before["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert before["issuer"] == DID
    assert "proof" in before
    bits = status.decode(before["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == StatusList.SIZE
    assert not status.is_set(bits, award.status_index)
    _revoke(app, award.public_id)
    after = client.get(url.removeprefix(BASE)).get_json()
    assert status.is_set(
        status.decode(after["credentialSubject"]["encodedList"]), award.status_index
    )
    assert after["proof"]["proofValue"] != before["proof"]["proofValue"]


def test_the_ob2_assertion_badge_class_and_issuer_link_up(app, client):
    award = earn(app)
    assertion = client.get(f"/ob2/assertions/{award.public_id}").get_json()
    assert assertion["type"] == "Assertion"
    assert assertion["verification"] == {"type": "HostedBadge"}
    assert assertion["recipient"]["identity"] == award.recipient_hash
    badge = client.get(assertion["badge"].removeprefix(BASE)).get_json()
    assert badge["type"] == "BadgeClass"
    issuer = client.get(badge["issuer"].removeprefix(BASE)).get_json()
    assert issuer["type"] == "Issuer" and issuer["email"]


def test_a_revoked_ob2_assertion_answers_410_gone(app, client):
    award = earn(app)
    _revoke(app, award.public_id)
    response = client.get(f"/ob2/assertions/{award.public_id}")
    assert response.status_code == 410
    body = response.get_json()
    assert body["revoked"] is True
    assert body["id"] == f"{BASE}/ob2/assertions/{award.public_id}"


def test_the_badge_url_gives_the_credential_to_a_client_asking_for_json(app, client):
    award = earn(app)
    response = client.get(f"/badges/{award.public_id}", headers={"Accept": "application/ld+json"})
    assert response.get_json() == award.credential_json


def test_the_verification_page_says_verified_in_words(app, client):
    award = earn(app)
    html = client.get(f"/badges/{award.public_id}", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    assert "Verified" in html
    assert "Signature: passed." in html
    assert "Ana Teacher" in html
    assert 'property="og:title"' in html


HTTP_NOTE = "wallets and other verifiers cannot check it"


def test_a_badge_from_a_plain_http_server_says_a_wallet_cannot_check_it(app, client):
    """Issue 28 item 13: did:web is resolved over https only, so a badge whose issuer is
    served over http (the demo) verifies on its own page but never in a wallet. The page said
    "Verified" and nothing else."""
    award = earn(app)
    html = client.get(f"/badges/{award.public_id}", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    assert "Verified" in html
    assert HTTP_NOTE in html
    assert "https://" in html.split(HTTP_NOTE, 1)[1][:600]  # and what would make it checkable


def test_a_badge_from_an_https_server_has_no_such_note(app, client):
    award = earn(app)
    settings = app.config["MICROCRED_SETTINGS"]
    app.config["MICROCRED_SETTINGS"] = replace(settings, base_url="https://badges.example.edu")
    html = client.get(f"/badges/{award.public_id}", headers={"Accept": "text/html"}).get_data(
        as_text=True
    )
    assert HTTP_NOTE not in html


def test_the_verification_page_says_revoked_and_why(app, client):
    award = earn(app)
    _revoke(app, award.public_id, "Plagiarised evidence.")
    html = client.get(f"/badges/{award.public_id}").get_data(as_text=True)
    assert "Revoked" in html
    assert "Plagiarised evidence." in html
    assert "Verified" not in html


def test_a_changed_credential_fails_the_signature_check(app, client):
    award = earn(app)
    with get_db(app).begin() as session:
        from app.badges.models import Award

        row = session.get_one(Award, award.id, execution_options={"all_platforms": True})
        changed = json.loads(json.dumps(row.credential_json))
        changed["credentialSubject"]["achievement"]["name"] = "Something grander"
        row.credential_json = changed
    html = client.get(f"/badges/{award.public_id}").get_data(as_text=True)
    assert "Not verified" in html
    assert "Signature: failed." in html


def test_an_unknown_badge_is_a_404_with_a_hint(app, client):
    response = client.get("/badges/not-a-badge")
    assert response.status_code == 404
    assert "no badge at this address" in response.get_data(as_text=True)


def test_the_baked_png_carries_the_ob2_assertion_and_the_ob3_credential(app, client):
    award = earn(app)
    response = client.get(f"/badges/{award.public_id}/badge.png")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    baked = images.unbake_png(response.data)
    assert json.loads(baked["openbadgecredential"]) == award.credential_json
    assert json.loads(baked["openbadges"])["id"].endswith(f"/ob2/assertions/{award.public_id}")


def test_the_baked_svg_carries_both(app, client):
    award = earn(app)
    response = client.get(f"/badges/{award.public_id}/badge.svg")
    baked = images.unbake_svg(response.get_data(as_text=True))
    assert json.loads(baked["openbadgecredential"]) == award.credential_json
    assert baked["openbadges"].endswith(f"/ob2/assertions/{award.public_id}")


def test_the_credential_downloads_as_a_json_file(app, client):
    award = earn(app)
    response = client.get(f"/badges/{award.public_id}/credential.json")
    assert "attachment" in response.headers["Content-Disposition"]
    assert json.loads(response.data) == award.credential_json


def test_the_qr_code_is_an_svg_image(app, client):
    award = earn(app)
    response = client.get(f"/badges/{award.public_id}/qr.svg")
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert "<title>" in response.get_data(as_text=True)


def test_the_achievement_page_shows_the_competency_and_criteria(app, client):
    award = earn(app)
    url = award.credential_json["credentialSubject"]["achievement"]["id"]
    html = client.get(url.removeprefix(BASE)).get_data(as_text=True)
    assert 'id="competency"' in html and 'id="criteria"' in html


def test_evidence_stays_private_until_the_earner_chooses(app, client):
    award = earn(app)
    html = client.get(f"/badges/{award.public_id}").get_data(as_text=True)
    assert "kept their evidence private" in html
    assert "video.example.edu" not in html


def test_revoking_needs_a_reason(app):
    award = earn(app)
    with get_db(app).begin() as session, pytest.raises(services.RevocationRefused) as refused:
        services.revoke(session, award.public_id, "   ", OPERATOR)
    assert refused.value.status == 400
    assert "why" in refused.value.message


def test_an_author_who_is_not_the_issuers_admin_cannot_revoke(app):
    award = earn(app)
    author = Rights(actor=CLI_ACTOR, is_operator=False, roles={award.organisation_id: "author"})
    with get_db(app).begin() as session, pytest.raises(Forbidden):
        services.revoke(session, award.public_id, "A reason.", author)


def test_the_consoles_badges_page_says_when_wallets_cannot_check_them(app):
    """Issue 28 item 13: the operator learns it where they manage badges, not from a wallet."""
    from tests.admin.console import signed_in_client

    client = signed_in_client(app)
    page = client.get("/admin/badges").get_data(as_text=True)
    assert "wallets and other verifiers cannot check the badges it issues" in page
    settings = app.config["MICROCRED_SETTINGS"]
    app.config["MICROCRED_SETTINGS"] = replace(settings, base_url="https://badges.example.edu")
    assert "cannot check" not in client.get("/admin/badges").get_data(as_text=True)

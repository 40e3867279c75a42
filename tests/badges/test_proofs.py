"""eddsa-rdfc-2022 Data Integrity proofs and Ed25519 Multikeys (LTI-CHECKLIST I; issue 11):
1EdTech's test vector, sign and verify, refusal of what verifiers would reject, the offline
context loader, and the Digital Credentials Consortium verifier on what ``sign`` produces."""

from __future__ import annotations

import base64
import copy
import dataclasses
import gzip
import hashlib
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from app.badges.proofs import (
    ISSUER_DEPENDENT_VOCAB,
    UnknownContext,
    UnsignableDocument,
    Verification,
    bundled_context_urls,
    load_document,
    multikey,
    public_key_from_multikey,
    resolve_did_key,
    sign,
    verify,
)
from tests.support.validators import verify_ob3

REPO = Path(__file__).resolve().parents[2]

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREATED = datetime(2026, 1, 15, 9, 30, 0, tzinfo=UTC)

# 1EdTech OB 3.0 Implementation Guide, "Linked Data Proof Test Vector for Open Badges 3.0"
# (https://www.imsglobal.org/spec/ob/v3p0/impl/#linked-data-proof-test-vector).
VECTOR_SEED = "6241a409e6707bb640a0140a8a32bc3d193c33a661747284d6adfa4ed4180be4"
VECTOR_MULTIKEY = "z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi"
VECTOR_PROOF_VALUE = (
    "z5x9aCBYovW3CQCbKdNyhEm7ffYSw1YpEdPywQJoNbzDD2gkzQDKJ1sYKJaWvqZtkMtSbz35HcbgXVEDYHxCzgkCr"
)
VECTOR_CREDENTIAL: dict[str, Any] = {
    "@context": [VC_V2, OB_V3],
    "id": "http://example.com/credentials/3527",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {
        "id": "https://example.edu/issuers/565049",
        "type": ["Profile"],
        "url": "https://www.imsglobal.org",
        "name": "Example Corp",
    },
    "validFrom": "2010-01-01T00:00:00Z",
    "name": "Teamwork Badge",
    "credentialSubject": {
        "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://example.com/achievements/21st-century-skills/teamwork",
            "type": ["Achievement"],
            "criteria": {
                "narrative": "Team members are nominated for this badge by their peers and "
                "recognized upon review by Example Corp management."
            },
            "description": "This badge recognizes the development of the capacity to "
            "collaborate within a group environment.",
            "name": "Teamwork",
        },
    },
}


def _key(seed: int = 1) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def _did_key(key: Ed25519PrivateKey) -> tuple[str, str]:
    """Return the did:key of a key and its verification method id."""
    encoded = multikey(key.public_key())
    return f"did:key:{encoded}", f"did:key:{encoded}#{encoded}"


def _credential(issuer: str) -> dict[str, Any]:
    """An OpenBadgeCredential shaped like the ones the tool issues (without credentialStatus,
    whose list would have to be served)."""
    return {
        "@context": [VC_V2, OB_V3],
        "id": "urn:uuid:0b6a1f2c-8d3e-4c8b-9f4a-2e7d5c1b3a90",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {
            "id": issuer,
            "type": ["Profile"],
            "name": "Example District PD Office",
            "url": "https://tool.example.org/",
            "email": "pd@example.org",
        },
        "validFrom": "2026-01-15T00:00:00Z",
        "name": "Formative Assessment: Questioning",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "emailAddress",
                    "hashed": True,
                    "identityHash": "sha256$097a6078409f17a0ec9796a428777262294c3799b2dc51e0d"
                    "6381e3fb459328c",
                    "salt": "c2FsdC0xMjM",
                }
            ],
            "achievement": {
                "id": "https://tool.example.org/achievements/formative-questioning",
                "type": ["Achievement"],
                "name": "Formative Assessment: Questioning",
                "description": "Uses higher-order questioning to elicit evidence of learning.",
                "criteria": {"narrative": "Every rubric criterion rated Yes."},
                "image": {"id": "https://tool.example.org/images/1.png", "type": "Image"},
            },
        },
        "evidence": [
            {
                "id": "https://tool.example.org/evidence/1",
                "type": ["Evidence"],
                "name": "Lesson plan",
                "narrative": "A lesson plan and a classroom video.",
            }
        ],
    }


def _signed(seed: int = 1) -> dict[str, Any]:
    key = _key(seed)
    did, method = _did_key(key)
    return sign(_credential(did), key, method, CREATED)


def _refusal(document: dict[str, Any]) -> UnsignableDocument:
    key = _key()
    _, method = _did_key(key)
    with pytest.raises(UnsignableDocument) as raised:
        sign(document, key, method, CREATED)
    return raised.value


# --- 1EdTech test vector ----------------------------------------------------------------------


def test_1edtech_test_vector_is_reproduced_byte_for_byte() -> None:
    """The proof over the OB 3.0 implementation guide's credential, with its key and time,
    is the guide's proof exactly."""
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(VECTOR_SEED))
    signed = sign(
        VECTOR_CREDENTIAL,
        key,
        f"https://example.edu/issuers/565049#{VECTOR_MULTIKEY}",
        datetime(2010, 1, 1, 19, 23, 24, tzinfo=UTC),
    )

    assert signed["proof"] == {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2010-01-01T19:23:24Z",
        "verificationMethod": f"https://example.edu/issuers/565049#{VECTOR_MULTIKEY}",
        "proofPurpose": "assertionMethod",
        "proofValue": VECTOR_PROOF_VALUE,
    }
    assert {k: v for k, v in signed.items() if k != "proof"} == VECTOR_CREDENTIAL


def test_1edtech_test_vector_key_encodes_to_its_multikey() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(VECTOR_SEED))

    assert multikey(key.public_key()) == VECTOR_MULTIKEY


def test_1edtech_test_vector_verifies() -> None:
    public_key = public_key_from_multikey(VECTOR_MULTIKEY)
    signed = {
        **VECTOR_CREDENTIAL,
        "proof": {
            "type": "DataIntegrityProof",
            "created": "2010-01-01T19:23:24Z",
            "verificationMethod": f"https://example.edu/issuers/565049#{VECTOR_MULTIKEY}",
            "cryptosuite": "eddsa-rdfc-2022",
            "proofPurpose": "assertionMethod",
            "proofValue": VECTOR_PROOF_VALUE,
        },
    }

    assert verify(signed, lambda method: public_key).ok


# --- sign -------------------------------------------------------------------------------------


def test_sign_returns_a_new_document_and_leaves_the_input_alone() -> None:
    key = _key()
    did, method = _did_key(key)
    credential = _credential(did)
    before = copy.deepcopy(credential)

    signed = sign(credential, key, method, CREATED)

    assert credential == before
    assert signed is not credential
    assert {k: v for k, v in signed.items() if k != "proof"} == credential


def test_proof_created_is_utc_to_the_second() -> None:
    key = _key()
    did, method = _did_key(key)
    created = datetime(2026, 1, 15, 11, 30, 5, 987654, tzinfo=timezone(timedelta(hours=2)))

    signed = sign(_credential(did), key, method, created)

    assert signed["proof"]["created"] == "2026-01-15T09:30:05Z"


def test_naive_created_time_is_refused() -> None:
    key = _key()
    did, method = _did_key(key)

    with pytest.raises(ValueError, match="timezone-aware"):
        sign(_credential(did), key, method, datetime(2026, 1, 15))


def test_signature_is_the_one_plain_pyld_canonicalisation_gives() -> None:
    """The module caches processed contexts inside pyld; the signature must not change for it.
    Ed25519 is deterministic, so the same hash gives the same proofValue."""
    key = _key()
    did, method = _did_key(key)
    documents = [
        _credential(did),
        _rich_credential(did),
        _status_list_credential(did),
        VECTOR_CREDENTIAL,
        _credential_with_own_term(did),
        _credential(did),
    ]
    for document in documents:
        signed = sign(document, key, method, CREATED)
        proof = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
        proof_config = {"@context": document["@context"], **proof}

        expected = key.sign(_plain_pyld_digest(proof_config) + _plain_pyld_digest(document))

        assert _base58_signature(signed["proof"]["proofValue"]) == expected


def test_undefined_term_is_refused_with_its_path() -> None:
    """pyld would drop the term and sign the rest; jsonld.js verifiers then fail the proof with
    "Safe mode validation error" (checked with the DCC verifier: credential-anchors §3.2)."""
    credential = _credential("did:example:issuer")
    credential["credentialSubject"]["assessorNotes"] = "Strong reflection."

    refusal = _refusal(credential)

    assert refusal.paths == ("credentialSubject.assessorNotes",)
    assert "credentialSubject.assessorNotes" in str(refusal)


def test_term_falling_to_the_issuer_dependent_vocabulary_is_refused() -> None:
    """A term that expands only through ``@vocab``
    ``https://www.w3.org/ns/credentials/issuer-dependent#`` is refused although it is an
    absolute IRI: the Open Badges validators treat it as undefined.

    The published VC 2.0 context (https://www.w3.org/ns/credentials/v2, as bundled by the DCC
    packages and pyld) no longer carries that ``@vocab``; an older draft did, and a document can
    still declare it itself, as here. What the DCC verifier (verifier-core 1.0.0-beta.11) does
    with such a credential, signed without this check: ``ok valid_signature`` — it accepts it,
    because safe mode only rejects terms that do not expand to an absolute IRI. The same term
    without the ``@vocab`` gives ``FATAL jsonld.ValidationError: Safe mode validation error.``
    So this refusal is stricter than the DCC verifier, on purpose."""
    credential = _credential("did:example:issuer")
    credential["@context"] = [VC_V2, OB_V3, {"@vocab": ISSUER_DEPENDENT_VOCAB}]
    credential["credentialSubject"]["assessorNotes"] = "Strong reflection."

    assert _refusal(credential).paths == ("credentialSubject.assessorNotes",)


def test_undefined_type_is_refused() -> None:
    """An undefined type stays a relative IRI; jsonld.js safe mode rejects it (checked with the
    DCC verifier: "Safe mode validation error")."""
    credential = _credential("did:example:issuer")
    credential["type"] = ["VerifiableCredential", "OpenBadgeCredential", "MicroCredential"]

    assert _refusal(credential).paths == ("type[2]",)


def test_relative_identifier_is_refused() -> None:
    """A relative IRI would be dropped from the signed statements with everything said about
    it; the DCC verifier rejects it ("Safe mode validation error")."""
    credential = _credential("did:example:issuer")
    credential["credentialSubject"]["achievement"]["image"]["id"] = "badge.png"

    assert _refusal(credential).paths == ("credentialSubject.achievement.image.id",)


def test_document_that_already_has_a_proof_is_refused() -> None:
    assert _refusal(_signed()).paths == ("proof",)


def test_document_without_context_is_refused() -> None:
    credential = _credential("did:example:issuer")
    del credential["@context"]

    assert "no @context" in str(_refusal(credential))


def test_invalid_json_ld_is_refused() -> None:
    credential = _credential("did:example:issuer")
    credential["@context"] = [VC_V2, OB_V3, 5]

    assert "not valid JSON-LD" in str(_refusal(credential))


def test_status_list_credential_round_trips() -> None:
    key = _key()
    did, method = _did_key(key)

    signed = sign(_status_list_credential(did), key, method, CREATED)

    assert verify(signed, resolve_did_key) == Verification(
        True, "The signature is valid and was made with the issuer's key."
    )


def test_signing_from_several_threads_gives_the_same_proofs() -> None:
    expected = _signed()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: _signed(), range(40)))

    assert all(result == expected for result in results)


# --- verify -----------------------------------------------------------------------------------


def test_signed_credential_verifies() -> None:
    assert verify(_signed(), resolve_did_key) == Verification(
        True, "The signature is valid and was made with the issuer's key."
    )


def test_changed_field_fails_verification() -> None:
    signed = _signed()
    signed["credentialSubject"]["achievement"]["name"] = "Something else"

    assert verify(signed, resolve_did_key) == Verification(
        False, "The signature does not match the credential's contents."
    )


def test_changed_proof_field_fails_verification() -> None:
    signed = _signed()
    signed["proof"]["created"] = "2027-01-15T09:30:00Z"

    assert not verify(signed, resolve_did_key).ok


def test_wrong_key_fails_verification() -> None:
    other_key = _key(2).public_key()

    result = verify(_signed(), lambda method: other_key)

    assert result == Verification(False, "The signature does not match the credential's contents.")


def test_unpublished_key_fails_verification() -> None:
    assert verify(_signed(), lambda method: None) == Verification(
        False, "The signing key is not published by the issuer."
    )


def test_key_of_another_issuer_fails_verification() -> None:
    """Signed with did:key A while naming issuer B: the key must be the issuer's own."""
    key = _key()
    _, method = _did_key(key)
    signed = sign(_credential("did:web:tool.example.org:orgs:7"), key, method, CREATED)

    assert verify(signed, resolve_did_key) == Verification(
        False, "The signing key does not belong to the credential's issuer."
    )


def test_credential_without_proof_fails_verification() -> None:
    assert verify(_credential("did:example:issuer"), resolve_did_key) == Verification(
        False, "The credential has no proof."
    )


def test_other_cryptosuite_fails_verification() -> None:
    signed = _signed()
    signed["proof"]["cryptosuite"] = "ecdsa-rdfc-2019"

    result = verify(signed, resolve_did_key)

    assert not result.ok
    assert "eddsa-rdfc-2022" in result.reason


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"proofPurpose": "authentication"}, "The proof was not made to assert the credential."),
        ({"verificationMethod": None}, "The proof does not name the key that signed it."),
        ({"type": "Ed25519Signature2020"}, "The proof is not a DataIntegrityProof with the "),
    ],
)
def test_proof_not_made_for_a_credential_fails_verification(
    change: dict[str, Any], reason: str
) -> None:
    signed = _signed()
    signed["proof"].update(change)

    result = verify(signed, resolve_did_key)

    assert not result.ok
    assert result.reason.startswith(reason)


def test_several_proofs_fail_verification() -> None:
    """Proof sets and chains are not what the tool issues; only one embedded proof is read."""
    signed = _signed()
    signed["proof"] = [signed["proof"], signed["proof"]]

    assert verify(signed, resolve_did_key) == Verification(
        False, "The credential has more than one proof, or a malformed one."
    )


def test_malformed_proof_value_fails_verification() -> None:
    signed = _signed()
    signed["proof"]["proofValue"] = "z0OIl"

    assert verify(signed, resolve_did_key) == Verification(
        False, "The proof's signature value is malformed."
    )


def test_proof_context_that_is_not_the_credentials_fails_verification() -> None:
    signed = _signed()
    signed["proof"]["@context"] = [OB_V3]

    assert verify(signed, resolve_did_key) == Verification(
        False, "The proof's @context does not match the credential's."
    )


def test_term_added_after_signing_fails_verification() -> None:
    """pyld alone would drop the added term from both sides and call the signature valid."""
    signed = _signed()
    signed["credentialSubject"]["assessorNotes"] = "Added later."

    result = verify(signed, resolve_did_key)

    assert not result.ok
    assert "credentialSubject.assessorNotes" in result.reason


def test_unknown_context_fails_verification() -> None:
    signed = _signed()
    signed["@context"] = [*signed["@context"], "https://example.org/contexts/extra.json"]

    result = verify(signed, resolve_did_key)

    assert not result.ok
    assert "https://example.org/contexts/extra.json" in result.reason


def test_verification_is_immutable() -> None:
    result = verify(_signed(), resolve_did_key)

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.ok = False


# --- context loader ---------------------------------------------------------------------------


def test_loader_serves_the_contexts_credentials_and_did_documents_need() -> None:
    assert {
        VC_V2,
        OB_V3,
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
        "https://w3id.org/security/data-integrity/v2",
    } <= bundled_context_urls()
    for url in bundled_context_urls():
        assert "@context" in load_document(url)["document"]


def test_loader_refuses_an_unknown_url_without_using_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)

    with pytest.raises(UnknownContext, match="not bundled"):
        load_document("https://example.org/contexts/extra.json")


def test_signing_with_an_unknown_context_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    key = _key()
    did, method = _did_key(key)
    credential = _credential(did)
    credential["@context"] = [VC_V2, OB_V3, "https://example.org/contexts/extra.json"]

    with pytest.raises(UnknownContext) as raised:
        sign(credential, key, method, CREATED)

    assert raised.value.url == "https://example.org/contexts/extra.json"


def test_did_document_terms_are_all_defined_by_the_bundled_contexts() -> None:
    """The DID documents the tool serves (did v1 + Multikey v1) expand without dropping a
    term, so a JSON-LD consumer reads every key of them."""
    key = _key()
    did = "did:web:tool.example.org:orgs:7"
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": f"{did}#key-1",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey(key.public_key()),
            }
        ],
        "assertionMethod": [f"{did}#key-1"],
    }
    dropped: list[str | None] = []

    jsonld.expand(document, {"documentLoader": load_document}, on_property_dropped=dropped.append)

    assert dropped == []


# --- Multikey ---------------------------------------------------------------------------------


def test_multikey_round_trips() -> None:
    public_key = _key(7).public_key()

    decoded = public_key_from_multikey(multikey(public_key))

    assert decoded.public_bytes_raw() == public_key.public_bytes_raw()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hwi", "starting with 'z'"),
        ("z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5hw0", "not valid base58btc"),
        ("zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", "not an Ed25519 public key"),
        ("z6MkjZRZv3aez3r18pB1RBFJR1kwUVJ5jHt92JmQwXbd5h", "not an Ed25519 public key"),
        ("", "starting with 'z'"),
    ],
)
def test_bad_multikey_is_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        public_key_from_multikey(value)


def test_did_key_resolves_to_its_own_key() -> None:
    key = _key(3)
    _, method = _did_key(key)

    resolved = resolve_did_key(method)

    assert isinstance(resolved, Ed25519PublicKey)
    assert resolved.public_bytes_raw() == key.public_key().public_bytes_raw()


@pytest.mark.parametrize(
    "method",
    [
        "did:web:tool.example.org#key-1",
        f"did:key:{VECTOR_MULTIKEY}#key-1",
        "did:key:z6Mkbad#z6Mkbad",
        f"https://example.edu/issuers/565049#{VECTOR_MULTIKEY}",
    ],
)
def test_other_verification_methods_are_not_did_keys(method: str) -> None:
    assert resolve_did_key(method) is None


# --- the DCC verifier -------------------------------------------------------------------------


def test_signed_credential_verifies_in_the_dcc_verifier(validators: Path) -> None:
    """The Digital Credentials Consortium's verifier-core (the Learner Credential Wallet's)
    accepts what ``sign`` produces, with a did:key issuer (resolved offline)."""
    result = verify_ob3(_signed())

    assert result.ok, result
    assert result.steps["valid_signature"] == "ok"


def test_signed_status_list_credential_verifies_in_the_dcc_verifier(validators: Path) -> None:
    key = _key()
    did, method = _did_key(key)

    result = verify_ob3(sign(_status_list_credential(did), key, method, CREATED))

    assert result.ok, result
    assert result.steps["valid_signature"] == "ok"


# --- helpers ----------------------------------------------------------------------------------


def _credential_with_own_term(issuer: str) -> dict[str, Any]:
    """A credential whose embedded context defines a term used inside typed nodes: the same
    type-scoped contexts then apply to an active context that differs from the usual one."""
    credential = _credential(issuer)
    credential["@context"] = [VC_V2, OB_V3, {"cohort": "https://tool.example.org/terms#cohort"}]
    credential["issuer"]["cohort"] = "2026 spring"
    credential["credentialSubject"]["achievement"]["cohort"] = "2026 spring"
    return credential


def _rich_credential(issuer: str) -> dict[str, Any]:
    """A credential with the same types at several depths (a Profile as issuer and as the
    achievement's creator; results and their descriptions), where each node's type-scoped
    context applies to a different active context."""
    credential = _credential(issuer)
    achievement = credential["credentialSubject"]["achievement"]
    achievement["creator"] = {
        "id": "https://tool.example.org/orgs/7",
        "type": ["Profile"],
        "name": "Assessment Partner",
        "email": "partner@example.org",
        "address": {"type": ["Address"], "addressCountry": "US"},
    }
    achievement["alignment"] = [
        {
            "type": ["Alignment"],
            "targetName": "ISTE 2.5.a",
            "targetUrl": "https://iste.org/standards/educators#2.5.a",
        }
    ]
    achievement["resultDescription"] = [
        {
            "id": "urn:uuid:7f3c1a8e-0000-4000-8000-000000000001",
            "type": ["ResultDescription"],
            "name": "Overall",
            "resultType": "Status",
        }
    ]
    achievement["creditsAvailable"] = 1.5
    credential["credentialSubject"]["result"] = [
        {
            "type": ["Result"],
            "resultDescription": "urn:uuid:7f3c1a8e-0000-4000-8000-000000000001",
            "status": "Completed",
        }
    ]
    credential["credentialSubject"]["creditsEarned"] = 1.5
    credential["awardedDate"] = "2026-01-15T00:00:00Z"
    credential["credentialStatus"] = {
        "id": "https://tool.example.org/status/1#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://tool.example.org/status/1",
    }
    return credential


def _status_list_credential(issuer: str) -> dict[str, Any]:
    """A BitstringStatusListCredential (https://www.w3.org/TR/vc-bitstring-status-list/)."""
    return {
        "@context": [VC_V2],
        "id": "https://tool.example.org/status/1",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-15T00:00:00Z",
        "credentialSubject": {
            "id": "https://tool.example.org/status/1#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            # 131 072 bits, none set: GZIP, then multibase base64url ("u").
            "encodedList": "u"
            + base64.urlsafe_b64encode(gzip.compress(bytes(16384), mtime=0)).decode().rstrip("="),
        },
    }


def _plain_pyld_digest(document: dict[str, Any]) -> bytes:
    """SHA-256 of the canonical N-Quads as pyld alone gives them, without this module's cache."""
    options = {"documentLoader": load_document, "algorithm": "URDNA2015"}
    nquads = jsonld.normalize(document, {**options, "format": "application/n-quads"})
    return hashlib.sha256(nquads.encode()).digest()


def _base58_signature(proof_value: str) -> bytes:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in proof_value[1:]:
        number = number * 58 + alphabet.index(char)
    return number.to_bytes(64, "big")

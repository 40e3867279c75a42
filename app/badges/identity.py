"""Issuer identities: each organisation's ``did:web`` DID, its Ed25519 keys and DID document.

did:web (https://w3c-ccg.github.io/did-method-web/) turns a DID into an HTTPS address:
``did:web:tool.example.org:issuers:lakemont`` is resolved by fetching
``https://tool.example.org/issuers/lakemont/did.json``. The tool hosts one DID per issuer
organisation there, and its own at ``/.well-known/did.json`` (a directory of the issuers it
hosts). Verifiers (the DCC verifier behind the Learner Credential Wallet) fetch the DID
document and check that the key named by a credential's proof is listed under
``assertionMethod``.

Keys: one active key per organisation signs; rotation keeps earlier keys published (earlier
credentials keep verifying); withdrawing a key unpublishes it (for a leaked key: what it signed
stops verifying). Every key is also served at an HTTPS URL as a Multikey document.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.badges import proofs
from app.badges.models import IssuerKey
from app.catalog.models import Organisation
from app.db import utcnow
from app.errors import AppError
from app.lti.keys import iso

DID_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


class IssuerKeyError(AppError):
    """A key change that cannot be made; the message says why."""

    status = 409
    code = "issuer_key_conflict"
    title = "The issuer's keys cannot be changed that way"


@dataclass(frozen=True)
class Site:
    """Where the tool is served: its public base URL, from which every id is made."""

    base_url: str

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")

    def url(self, path: str) -> str:
        """An absolute URL on the tool for a path that starts with ``/``."""
        return self.root + path

    @property
    def checkable_by_wallets(self) -> bool:
        """Whether a wallet can check what is issued here: it fetches did:web keys over https
        only (the demo's http badges are checked on their own pages alone)."""
        return self.base_url.startswith("https://")

    @property
    def did(self) -> str:
        """The tool's own did:web (host, port percent-encoded, then any path segments)."""
        parts = urlsplit(self.root)
        segments = [quote(parts.netloc, safe="")]
        segments += [quote(s, safe="") for s in parts.path.split("/") if s]
        return "did:web:" + ":".join(segments)

    def issuer_did(self, slug: str) -> str:
        return f"{self.did}:issuers:{slug}"

    def key_id(self, slug: str, multibase: str) -> str:
        """The verification method id of a key in the organisation's DID document."""
        return f"{self.issuer_did(slug)}#{multibase}"

    def key_url(self, slug: str, multibase: str) -> str:
        return self.url(f"/issuers/{slug}/keys/{multibase}")


def issuer_key_cipher(secret_key: str) -> Fernet:
    """Return the cipher that protects issuer private keys at rest, derived from the secret."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"microcred badge issuer keys"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _new_key(organisation_id: int, cipher: Fernet) -> IssuerKey:
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return IssuerKey(
        organisation_id=organisation_id,
        public_multibase=proofs.multikey(private.public_key()),
        private_key_encrypted=cipher.encrypt(raw).decode(),
        state=IssuerKey.ACTIVE,
    )


def private_key(key: IssuerKey, cipher: Fernet) -> Ed25519PrivateKey:
    """Decrypt a key's private half (for signing only)."""
    return Ed25519PrivateKey.from_private_bytes(cipher.decrypt(key.private_key_encrypted.encode()))


def active_key(session: Session, organisation_id: int, cipher: Fernet) -> IssuerKey:
    """Return the organisation's signing key, making its first one if it has none."""
    found = session.scalars(
        select(IssuerKey).where(
            IssuerKey.organisation_id == organisation_id, IssuerKey.state == IssuerKey.ACTIVE
        )
    ).first()
    if found is not None:
        return found
    key = _new_key(organisation_id, cipher)
    try:
        with session.begin_nested():
            session.add(key)
    except IntegrityError:
        # Another worker made it first (one active key per organisation): use theirs.
        return session.scalars(
            select(IssuerKey).where(
                IssuerKey.organisation_id == organisation_id, IssuerKey.state == IssuerKey.ACTIVE
            )
        ).one()
    return key


def rotate(
    session: Session, organisation: Organisation, cipher: Fernet, *, actor: str
) -> IssuerKey:
    """Make a new signing key; the current one stays published so what it signed verifies."""
    now = utcnow()
    session.execute(
        update(IssuerKey)
        .where(IssuerKey.organisation_id == organisation.id, IssuerKey.state == IssuerKey.ACTIVE)
        .values(state=IssuerKey.PREVIOUS, rotated_at=now)
    )
    key = _new_key(organisation.id, cipher)
    session.add(key)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="badges.key_rotated",
        target=organisation.slug,
        details={"key": key.public_multibase},
    )
    return key


def withdraw(
    session: Session, organisation: Organisation, multibase: str, reason: str, *, actor: str
) -> IssuerKey:
    """Unpublish a key that must no longer be trusted (credentials it signed stop verifying)."""
    reason = reason.strip()
    if not reason:
        raise IssuerKeyError(
            "Say why the key is withdrawn.",
            hint="The reason is kept in the audit log, e.g. “the server's disk was stolen”.",
            status=400,
        )
    key = session.scalars(
        select(IssuerKey).where(
            IssuerKey.organisation_id == organisation.id, IssuerKey.public_multibase == multibase
        )
    ).first()
    if key is None:
        raise IssuerKeyError(f"{organisation.name} has no key {multibase}.", status=404)
    if key.state == IssuerKey.WITHDRAWN:
        raise IssuerKeyError("That key was withdrawn before.")
    if key.state == IssuerKey.ACTIVE:
        raise IssuerKeyError(
            "That key signs new badges now.",
            hint="Rotate first: a new key takes over signing, then this one can be withdrawn.",
        )
    key.state = IssuerKey.WITHDRAWN
    key.withdrawn_at = utcnow()
    key.withdrawn_reason = reason
    audit.record(
        session,
        actor=actor,
        action="badges.key_withdrawn",
        target=organisation.slug,
        details={"key": multibase, "reason": reason},
    )
    return key


def published_keys(session: Session, organisation_id: int) -> list[IssuerKey]:
    """The organisation's keys verifiers may trust: the active one and earlier ones, oldest
    first."""
    return list(
        session.scalars(
            select(IssuerKey)
            .where(
                IssuerKey.organisation_id == organisation_id,
                IssuerKey.state != IssuerKey.WITHDRAWN,
            )
            .order_by(IssuerKey.id)
        )
    )


def resolver(session: Session, site: Site) -> Any:
    """A ``proofs.verify`` key resolver for the DIDs this tool hosts (from the database, no
    HTTP): a verification method id → its public key if published, else ``None``."""

    def resolve(verification_method: str) -> Ed25519PublicKey | None:
        did, _, fragment = verification_method.partition("#")
        prefix = site.did + ":issuers:"
        if not did.startswith(prefix) or not fragment:
            return None
        slug = did[len(prefix) :]
        key = session.scalars(
            select(IssuerKey)
            .join(Organisation, Organisation.id == IssuerKey.organisation_id)
            .where(
                Organisation.slug == slug,
                IssuerKey.public_multibase == fragment,
                IssuerKey.state != IssuerKey.WITHDRAWN,
            )
        ).first()
        return proofs.public_key_from_multikey(key.public_multibase) if key else None

    return resolve


def did_document(site: Site, organisation: Organisation, keys: list[IssuerKey]) -> dict[str, Any]:
    """The organisation's DID document: its published keys as Multikey verification methods,
    each usable to assert (sign) credentials."""
    did = site.issuer_did(organisation.slug)
    methods = [
        {
            "id": site.key_id(organisation.slug, key.public_multibase),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key.public_multibase,
        }
        for key in keys
    ]
    ids = [m["id"] for m in methods]
    return {
        "@context": DID_CONTEXT,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


def key_document(site: Site, organisation: Organisation, key: IssuerKey) -> dict[str, Any]:
    """One key at its HTTPS URL (the Open Badges 3.0 key dereferencing by URL)."""
    return {
        "@context": ["https://w3id.org/security/multikey/v1"],
        "id": site.key_url(organisation.slug, key.public_multibase),
        "type": "Multikey",
        "controller": site.issuer_did(organisation.slug),
        "publicKeyMultibase": key.public_multibase,
        **({"revoked": iso(key.withdrawn_at)} if key.withdrawn_at else {}),
    }


def tool_document(site: Site, organisations: list[Organisation]) -> dict[str, Any]:
    """The tool's own DID document: which issuer DIDs it hosts (as services), no keys of its
    own — the tool signs nothing in its own name."""
    return {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": site.did,
        "service": [
            {
                "id": f"{site.did}#issuer-{org.slug}",
                "type": "OpenBadgeIssuer",
                "serviceEndpoint": site.url(f"/issuers/{org.slug}/did.json"),
            }
            for org in organisations
        ],
    }

"""The tool's RS256 signing keys and the JWKS that publishes them (LTI-CHECKLIST E).

The private key is generated on first need, encrypted with a key derived from the app's secret
and never logged, shown or returned by any function here except ``signing_key`` (for signing).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.lti.models import ToolKey

RSA_KEY_SIZE = 2048


@dataclass(frozen=True)
class SigningKey:
    """A key ready to sign with. ``repr`` hides the PEM so it cannot leak into a log."""

    kid: str
    private_pem: str
    public_jwk: dict[str, Any]

    @property
    def public_pem(self) -> str:
        # From the JWK's numbers: loading the private PEM instead runs RSA's consistency checks
        # (about 30 ms), and pylti1p3 wants the public key on every login and launch.
        numbers = rsa.RSAPublicNumbers(
            _b64url_to_int(self.public_jwk["e"]), _b64url_to_int(self.public_jwk["n"])
        )
        return (
            numbers.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, private_pem=<hidden>)"


def key_cipher(secret_key: str) -> Fernet:
    """Return the cipher that protects private keys at rest, derived from the app secret."""
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"microcred tool private keys"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64url_to_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def public_jwk(public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    """Return the public JWK with its RFC 7638 thumbprint as ``kid``."""
    numbers = public_key.public_numbers()
    members = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    kid = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    return {**members, "kid": kid, "alg": "RS256", "use": "sig"}


def generate_key(cipher: Fernet, status: str = ToolKey.ACTIVE) -> ToolKey:
    """Make a new key pair as an unsaved row."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    jwk = public_jwk(private_key.public_key())
    return ToolKey(
        kid=jwk["kid"],
        public_jwk=jwk,
        private_key_encrypted=cipher.encrypt(pem).decode(),
        status=status,
    )


def ensure_active_key(session: Session, cipher: Fernet) -> ToolKey:
    """Return the active key, creating the first one if there is none.

    Two instances starting together may both try; the loser's insert fails on nothing (kids
    differ), so a second check after commit picks one deterministically: the oldest active key.
    """
    key = _oldest_active(session)
    if key is not None:
        return key
    try:
        with session.begin_nested():
            session.add(generate_key(cipher))
    except IntegrityError:  # pragma: no cover - kid collision is astronomically unlikely
        pass
    session.commit()
    key = _oldest_active(session)
    assert key is not None
    return key


def _oldest_active(session: Session) -> ToolKey | None:
    return session.scalars(
        select(ToolKey).where(ToolKey.status == ToolKey.ACTIVE).order_by(ToolKey.id).limit(1)
    ).first()


def signing_key(session: Session, cipher: Fernet) -> SigningKey:
    """Return the key to sign with now."""
    key = ensure_active_key(session, cipher)
    pem = cipher.decrypt(key.private_key_encrypted.encode()).decode()
    return SigningKey(kid=key.kid, private_pem=pem, public_jwk=dict(key.public_jwk))


def jwks(session: Session, cipher: Fernet) -> dict[str, list[dict[str, Any]]]:
    """Return the JWKS document: every key that is not retired (next and active)."""
    ensure_active_key(session, cipher)
    keys = session.scalars(
        select(ToolKey).where(ToolKey.status != ToolKey.RETIRED).order_by(ToolKey.id)
    ).all()
    return {"keys": [dict(k.public_jwk) for k in keys]}


def list_keys(session: Session) -> list[ToolKey]:
    """Return every key, oldest first."""
    return list(session.scalars(select(ToolKey).order_by(ToolKey.id)).all())

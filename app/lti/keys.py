"""The tool's RS256 signing keys, their rotation schedule, and the JWKS that publishes them
(LTI-CHECKLIST E). Platforms verify our client assertions and Deep Linking responses with the
JWKS (https://www.imsglobal.org/spec/security/v1p0/); rotation follows OpenID Connect Core
10.1.1 (https://openid.net/specs/openid-connect-core-1_0.html#RotateSigKeys): publish a new key
before signing with it, keep a decommissioned key published for a while.

The private key is generated on first need, encrypted with a key derived from the app's secret
and never logged, shown or returned by any function here except ``signing_key`` (for signing).

Rotation is a schedule, not a job: ``rotate`` creates the next key with a ``signs_from`` in the
future and gives the current key a ``retires_at`` after that. Every read asks "at ``now``, which
key signs and which keys are published?", so nothing has to run when the times arrive:

    rotate ─── "next" (published) ─── signs_from ─── "signing" ─── next key's signs_from
           ─── "previous" (published, signs nothing) ─── retires_at ─── "retired"

A platform caching our JWKS therefore sees a new key before it signs anything (if the overlap
exceeds the platform's cache time) and keeps the old one while tokens it signed may be checked.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import AppError
from app.keygen import new_rsa_key
from app.lti.models import ToolKey

JWKS_MAX_AGE = 300
"""Seconds platforms may cache our JWKS (its ``Cache-Control: max-age``). A rotation's overlap
must exceed the longest cache of any platform, or one may meet the new kid before it refetches."""

NEXT = "next"
SIGNING = "signing"
PREVIOUS = "previous"
RETIRED = "retired"


class KeyScheduleError(AppError):
    """A key change the schedule does not allow; the message says why, the hint what to do."""

    status = 409
    code = "key_schedule_conflict"
    title = "The tool's keys cannot be changed that way"


class RotationPending(KeyScheduleError):
    """A next key is already scheduled; a second rotation would skip its overlap window."""

    code = "key_rotation_pending"


class SigningKeyInUse(KeyScheduleError):
    """The key asked to be retired is the one signing now: retiring it leaves nothing to sign."""

    code = "key_signing_now"


class KeyAlreadyRetired(KeyScheduleError):
    """The key was retired before."""

    code = "key_already_retired"


class UnknownKey(KeyScheduleError):
    """No key has this kid."""

    status = 404
    code = "unknown_key"
    title = "No such key"


class InvalidSchedule(KeyScheduleError):
    """An overlap or retention that is not a duration from now on."""

    status = 400
    code = "invalid_key_schedule"


@dataclass(frozen=True)
class KeyState:
    """Where one key is in its schedule at a given time (for ``flask keys list`` and the
    operator console). ``state`` is ``next``, ``signing``, ``previous`` or ``retired``."""

    kid: str
    state: str
    created_at: datetime
    signs_from: datetime
    retires_at: datetime | None


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
    private_key = new_rsa_key()
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


def iso(moment: datetime) -> str:
    """Format a UTC time as ISO 8601 to the second, e.g. ``2026-05-01T09:30:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_published(now: datetime) -> ColumnElement[bool]:
    return and_(
        ToolKey.status != ToolKey.RETIRED,
        or_(ToolKey.retires_at.is_(None), ToolKey.retires_at > now),
    )


def _signer_at(now: datetime) -> Select[ToolKey]:
    """The key that signs at ``now``: of the keys not retired, the latest to start signing."""
    return (
        select(ToolKey)
        .where(ToolKey.status != ToolKey.RETIRED, ToolKey.signs_from <= now)
        .order_by(ToolKey.signs_from.desc(), ToolKey.id.desc())
        .limit(1)
    )


def ensure_active_key(session: Session, cipher: Fernet, now: datetime | None = None) -> ToolKey:
    """Return the key that signs at ``now`` (default: the current time), creating the first
    key if there is none.

    Two instances starting together may both create one; each then reads the signing key again
    after its commit, and the rule (latest ``signs_from``) picks the same key for both. The
    other stays published until the next rotation gives it a retirement time.
    """
    now = utcnow() if now is None else now
    key = session.scalars(_signer_at(now)).first()
    if key is not None:
        return key
    first = generate_key(cipher)
    first.created_at = first.signs_from = now
    try:
        with session.begin_nested():
            session.add(first)
    except IntegrityError:  # pragma: no cover - kid collision is astronomically unlikely
        pass
    session.commit()
    key = session.scalars(_signer_at(now)).first()
    assert key is not None
    return key


def signing_key(session: Session, cipher: Fernet, now: datetime | None = None) -> SigningKey:
    """Return the key to sign with at ``now`` (default: the current time)."""
    key = ensure_active_key(session, cipher, now)
    pem = cipher.decrypt(key.private_key_encrypted.encode()).decode()
    return SigningKey(kid=key.kid, private_pem=pem, public_jwk=dict(key.public_jwk))


def jwks(
    session: Session, cipher: Fernet, now: datetime | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Return the JWKS document at ``now``: the next key (published before it signs), the
    signing key, and previous keys until their ``retires_at``."""
    now = utcnow() if now is None else now
    published = select(ToolKey).where(_is_published(now)).order_by(ToolKey.signs_from, ToolKey.id)
    keys = session.scalars(published).all()
    if not any(k.signs_from <= now for k in keys):
        ensure_active_key(session, cipher, now)
        keys = session.scalars(published).all()
    return {"keys": [dict(k.public_jwk) for k in keys]}


def list_keys(session: Session) -> list[ToolKey]:
    """Return every key, oldest first."""
    return list(session.scalars(select(ToolKey).order_by(ToolKey.id)).all())


def key_states(session: Session, now: datetime | None = None) -> list[KeyState]:
    """Return every key with its state at ``now`` (default: the current time), in the order
    they sign (oldest first). Reads only: a database without keys gives an empty list."""
    now = utcnow() if now is None else now
    rows = session.scalars(select(ToolKey).order_by(ToolKey.signs_from, ToolKey.id)).all()
    candidates = [r for r in rows if r.status != ToolKey.RETIRED and r.signs_from <= now]
    signer = candidates[-1] if candidates else None
    return [
        KeyState(
            kid=row.kid,
            state=_state(row, signer, now),
            created_at=row.created_at,
            signs_from=row.signs_from,
            retires_at=row.retires_at,
        )
        for row in rows
    ]


def _state(row: ToolKey, signer: ToolKey | None, now: datetime) -> str:
    if row.status == ToolKey.RETIRED or (row.retires_at is not None and row.retires_at <= now):
        return RETIRED
    if row is signer:
        return SIGNING
    return NEXT if row.signs_from > now else PREVIOUS


def rotate(
    session: Session,
    cipher: Fernet,
    *,
    overlap: timedelta,
    retain: timedelta | None = None,
    now: datetime | None = None,
    actor: str = audit.CLI,
    operator_id: int | None = None,
) -> ToolKey:
    """Schedule the next key: published now, signing from ``now + overlap``; the key signing
    now keeps signing until then and stays published for ``retain`` (default: ``overlap``)
    after it, so a token it signed just before the switch can still be verified.

    ``overlap`` must exceed the longest time any platform caches our JWKS (``JWKS_MAX_AGE``
    is what we ask for). Refuses while an earlier rotation's next key has not started signing.
    """
    now = utcnow() if now is None else now
    retain = overlap if retain is None else retain
    if overlap < timedelta(0) or retain < timedelta(0):
        raise InvalidSchedule(
            "The overlap and the retention must not be negative.",
            hint="Give durations such as 2d, 12h, 30m or 0.",
        )
    current = ensure_active_key(session, cipher, now)
    # Lock the signing key's row so that two rotations at once run one after the other and the
    # second sees the first's next key (PostgreSQL; SQLite serialises writers anyway).
    session.scalars(select(ToolKey.id).where(ToolKey.id == current.id).with_for_update()).all()
    pending = session.scalars(
        select(ToolKey)
        .where(ToolKey.status != ToolKey.RETIRED, ToolKey.signs_from > now)
        .order_by(ToolKey.signs_from)
        .limit(1)
    ).first()
    if pending is not None:
        raise RotationPending(
            f"A rotation is already scheduled: key {pending.kid} starts signing at "
            f"{iso(pending.signs_from)}.",
            hint="Wait until it signs, or cancel it with 'flask keys retire "
            f"{pending.kid} --yes' and rotate again.",
        )
    next_key = generate_key(cipher)
    next_key.created_at = now
    next_key.signs_from = now + overlap
    retires_at = next_key.signs_from + retain
    # The key signing now, and any older key still published without an end (a first key a
    # concurrent start-up created), leave the JWKS once the retention has passed.
    for row in session.scalars(
        select(ToolKey).where(
            _is_published(now), ToolKey.signs_from <= now, ToolKey.retires_at.is_(None)
        )
    ):
        row.retires_at = retires_at
    session.add(next_key)
    audit.record(
        session,
        actor=actor,
        operator_id=operator_id,
        action="key.rotation_scheduled",
        target=f"key:{next_key.kid}",
        details={
            "kid": next_key.kid,
            "signs_from": iso(next_key.signs_from),
            "previous_kid": current.kid,
            "previous_retires_at": iso(retires_at),
            "overlap_seconds": int(overlap.total_seconds()),
            "retain_seconds": int(retain.total_seconds()),
        },
    )
    session.commit()
    return next_key


def retire(
    session: Session,
    kid: str,
    *,
    now: datetime | None = None,
    actor: str = audit.CLI,
    operator_id: int | None = None,
) -> ToolKey:
    """Withdraw a key at once (e.g. it was compromised): out of the JWKS, never to sign again,
    its encrypted private half erased.

    Refuses the key signing now (rotate with no overlap first). Retiring a next key that has
    not started signing cancels the rotation: the signing key then keeps signing with no end.
    """
    now = utcnow() if now is None else now
    row = session.scalars(select(ToolKey).where(ToolKey.kid == kid).with_for_update()).first()
    if row is None:
        raise UnknownKey(
            f"There is no key with kid {kid!r}.",
            hint="'flask keys list' shows every key's kid and state.",
        )
    if row.status == ToolKey.RETIRED:
        when = iso(row.retires_at) if row.retires_at else "an earlier time"
        raise KeyAlreadyRetired(f"Key {kid} was already retired at {when}.")
    signer = session.scalars(_signer_at(now)).first()
    if signer is not None and signer.id == row.id:
        raise SigningKeyInUse(
            f"Key {kid} is the key signing now; retiring it would leave the tool no key to sign "
            "with.",
            hint="Rotate with no overlap first ('flask keys rotate --overlap 0 --retain 0'), "
            "then retire this key.",
        )
    state_before = _state(row, signer, now)
    row.status = ToolKey.RETIRED
    if row.retires_at is None or row.retires_at > now:
        row.retires_at = now
    # Nothing will sign with it again; keep no copy of its private half at all.
    row.private_key_encrypted = ""
    if state_before == NEXT and signer is not None:
        # Its rotation is cancelled (``rotate`` allows one pending next key): the signing key
        # has no successor, so it must not leave the JWKS.
        signer.retires_at = None
    audit.record(
        session,
        actor=actor,
        operator_id=operator_id,
        action="key.retired",
        target=f"key:{kid}",
        details={"kid": kid, "state_before": state_before, "retired_at": iso(now)},
    )
    session.commit()
    return row

"""Operator passwords: Argon2id hashes (RFC 9106) through argon2-cffi.

A hash carries its own parameters, so a stored hash made with older (weaker) parameters still
verifies, and is replaced by a hash with the current ones at the next successful sign-in.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PRODUCTION = PasswordHasher()
"""argon2-cffi's defaults: Argon2id, RFC 9106's low-memory profile (t=3, m=64 MiB, p=4)."""

_hasher = PRODUCTION

MIN_LENGTH = 12
MAX_LENGTH = 1024
"""Long enough for any passphrase; short enough that nobody can make hashing a denial of
service."""


class WeakPassword(ValueError):
    """The password does not meet the rules; the message says which."""


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a password: whether it matched, and a fresh hash to store when
    the stored one was made with other parameters."""

    ok: bool
    new_hash: str | None = None


def check_rules(password: str) -> None:
    """Refuse a password too short or too long to be used."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"The password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"The password must be at most {MAX_LENGTH} characters long.")


@contextmanager
def hashing_with(hasher: PasswordHasher) -> Iterator[None]:
    """Hash and check passwords with ``hasher`` in this process until the block ends.

    For the test suite only, which runs hundreds of sign-ins: Argon2id with production
    parameters costs 0.4 to 1 s of CPU a hash on a small machine, by design. The application never
    calls this; its parameters are ``PRODUCTION``'s."""
    global _hasher
    previous, _hasher = _hasher, hasher
    try:
        yield
    finally:
        _hasher = previous


def hash_password(password: str, hasher: PasswordHasher | None = None) -> str:
    """Return the encoded Argon2id hash of ``password`` (parameters and salt included)."""
    return (hasher or _hasher).hash(password)


def verify(encoded: str, password: str, hasher: PasswordHasher | None = None) -> Verification:
    """Check ``password`` against a stored hash; offer a new hash if its parameters are old."""
    hasher = hasher or _hasher
    try:
        hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return Verification(ok=False)
    if hasher.check_needs_rehash(encoded):
        return Verification(ok=True, new_hash=hasher.hash(password))
    return Verification(ok=True)


@cache
def _decoy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(secrets.token_urlsafe(32))


def verify_decoy(password: str) -> None:
    """Spend the time a real check takes, for an email that has no operator.

    Without it a sign-in for an unknown email answers much sooner than one for a real operator,
    and the time would tell which emails are operators."""
    verify(_decoy_hash(_hasher), password, _hasher)

"""Operator passwords: Argon2id hashes, rehash on new parameters, the rules.

The suite hashes with cheap parameters (``tests/conftest.py``); these tests hash with the
production ones, as the application does."""

from __future__ import annotations

import subprocess
import sys

import pytest
from argon2 import PasswordHasher

from app.admin import passwords

WEAK = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def production_hashing():
    with passwords.hashing_with(passwords.PRODUCTION):
        yield


def test_the_application_hashes_with_the_production_parameters():
    """In a process of its own, without the suite's cheap-hashing block."""
    program = "from app.admin import passwords; print(passwords.hash_password('x' * 12))"
    printed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    assert printed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_hash_is_argon2id_with_its_parameters():
    encoded = passwords.hash_password("correct horse battery")
    assert encoded.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_the_right_password_verifies_without_a_new_hash():
    encoded = passwords.hash_password("correct horse battery")
    assert passwords.verify(encoded, "correct horse battery") == passwords.Verification(ok=True)


def test_a_wrong_password_does_not_verify():
    encoded = passwords.hash_password("correct horse battery")
    assert not passwords.verify(encoded, "correct horse batterY").ok


def test_a_malformed_stored_hash_does_not_verify():
    assert not passwords.verify("not-a-hash", "correct horse battery").ok


def test_a_hash_with_old_parameters_verifies_and_is_replaced():
    old = WEAK.hash("correct horse battery")
    result = passwords.verify(old, "correct horse battery")
    assert result.ok
    assert result.new_hash is not None
    assert result.new_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify(result.new_hash, "correct horse battery") == passwords.Verification(
        ok=True
    )


def test_a_wrong_password_against_an_old_hash_offers_no_new_hash():
    old = WEAK.hash("correct horse battery")
    assert passwords.verify(old, "wrong password here") == passwords.Verification(ok=False)


def test_decoy_check_answers_nothing_and_raises_nothing():
    assert passwords.verify_decoy("anything at all") is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 12 characters"),
        ("x" * 11, "at least 12 characters"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_password_rules_refuse_with_a_reason(password, message):
    with pytest.raises(passwords.WeakPassword, match=message):
        passwords.check_rules(password)


def test_twelve_characters_are_enough():
    passwords.check_rules("x" * 12)

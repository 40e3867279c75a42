"""Revocation by W3C Bitstring Status List (https://www.w3.org/TR/vc-bitstring-status-list/).

Each issuer has status lists of 131 072 bits; each award gets a random unused index in one
(random, so neighbouring indexes say nothing about when or to whom badges were issued). The
list is served as a ``BitstringStatusListCredential`` signed by the issuer (verifiers require
the list's issuer to be the credential's); a revoked award's bit is 1. The signed copy is kept
and made again only after a revocation changed the list.
"""

from __future__ import annotations

import base64
import gzip
import secrets
from collections.abc import Iterable
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.badges import identity, proofs
from app.badges.identity import Site
from app.badges.models import Award, StatusList
from app.catalog.models import Organisation
from app.db import utcnow
from app.lti.keys import iso

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"


def list_url(site: Site, organisation_slug: str, list_id: int) -> str:
    return site.url(f"/issuers/{organisation_slug}/status/{list_id}")


def allocate(session: Session, organisation_id: int) -> tuple[StatusList, int]:
    """Give a new award a random unused index in the organisation's current list (locking the
    list row, so two issuers never pick the same index)."""
    query = (
        select(StatusList)
        .where(
            StatusList.organisation_id == organisation_id,
            StatusList.purpose == StatusList.REVOCATION,
            StatusList.used < StatusList.size,
        )
        .order_by(StatusList.id)
        .limit(1)
        .with_for_update()
    )
    found = session.scalars(query).first()
    if found is None:
        found = StatusList(organisation_id=organisation_id, used=0, revision=1)
        session.add(found)
        session.flush()
    # A list more than half full is read once rather than probed index by index.
    taken: set[int] = set()
    if found.used > found.size // 2:
        taken = set(
            session.scalars(
                select(Award.status_index)
                .where(Award.status_list_id == found.id)
                .execution_options(all_platforms=True)
            )
        )
    while True:
        index = secrets.randbelow(found.size)
        if index in taken:
            continue
        clash = session.scalar(
            select(Award.id)
            .where(Award.status_list_id == found.id, Award.status_index == index)
            .execution_options(all_platforms=True)
        )
        if clash is None:
            break
    found.used += 1
    return found, index


def encode(size: int, set_bits: Iterable[int]) -> str:
    """The ``encodedList``: multibase base64url (``u``) of the GZIP of the bitstring, index 0
    being the most significant bit of the first byte."""
    raw = bytearray(size // 8)
    for index in set_bits:
        raw[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(raw), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def decode(encoded: str) -> bytes:
    """The bitstring of an ``encodedList`` (for checks and tests)."""
    if not encoded.startswith("u"):
        raise ValueError("an encodedList starts with the multibase prefix 'u'")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(bitstring: bytes, index: int) -> bool:
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))


def revoked_indexes(session: Session, list_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Award.status_index)
            .where(Award.status_list_id == list_id, Award.revoked_at.is_not(None))
            .execution_options(all_platforms=True)
        )
    )


def signed_list(
    session: Session, site: Site, organisation: Organisation, list_id: int, cipher: Fernet
) -> dict[str, Any] | None:
    """The signed ``BitstringStatusListCredential``, signed again if a revocation changed the
    list since; ``None`` if the organisation has no such list."""
    found = session.get(StatusList, list_id)
    if found is None or found.organisation_id != organisation.id:
        return None
    if found.signed is not None and found.signed_revision == found.revision:
        return found.signed
    url = list_url(site, organisation.slug, found.id)
    now = utcnow()
    document = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": site.issuer_did(organisation.slug),
        "validFrom": iso(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": found.purpose,
            "encodedList": encode(found.size, revoked_indexes(session, found.id)),
        },
    }
    key = identity.active_key(session, organisation.id, cipher)
    signed = proofs.sign(
        document,
        identity.private_key(key, cipher),
        site.key_id(organisation.slug, key.public_multibase),
        now,
    )
    found.signed = signed
    found.signed_revision = found.revision
    return signed


def entry(site: Site, organisation_slug: str, list_id: int, index: int) -> dict[str, Any]:
    """The credential's ``credentialStatus``."""
    url = list_url(site, organisation_slug, list_id)
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": StatusList.REVOCATION,
        "statusListIndex": str(index),
        "statusListCredential": url,
    }

"""The catalog as the outcome reports see it: organisations, their credentials with each
version's continuing-education credit and rubric criteria, and stacks with their credentials.

Read whole for the organisations a reader may report on, in four statements whatever the
catalog's size (the catalog is small next to the attempts the reports count).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.catalog.models import Credential, CredentialVersion, Organisation, Stack, StackItem


@dataclass(frozen=True)
class OrganisationOutline:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Credit:
    """Continuing-education credit a version carries (its content's ``credit``)."""

    amount: float
    unit: str
    """What it is counted in, e.g. ``CEU clock hours``."""


@dataclass(frozen=True)
class VersionOutline:
    id: int
    credential_id: int
    number: int
    credit: Credit | None
    criteria: tuple[tuple[str, str], ...]
    """``(key, title)`` of each rubric criterion, in the rubric's order."""


@dataclass(frozen=True)
class CredentialOutline:
    id: int
    slug: str
    organisation_id: int
    title: str
    """Its latest version's title."""
    criteria: tuple[tuple[str, str], ...] = ()
    """``(key, title)`` of every criterion its versions have had: the latest version's in its
    order, then older ones'; a title from the latest version that has the criterion."""


@dataclass(frozen=True)
class StackOutline:
    id: int
    slug: str
    title: str
    organisation_id: int
    credential_ids: tuple[int, ...]


@dataclass(frozen=True)
class Outline:
    organisations: dict[int, OrganisationOutline] = field(default_factory=dict)
    """By id, in order of name."""
    credentials: dict[int, CredentialOutline] = field(default_factory=dict)
    """By id, in order of title."""
    versions: dict[int, VersionOutline] = field(default_factory=dict)
    stacks: dict[int, StackOutline] = field(default_factory=dict)
    """By id, in order of title."""


def _credit(content: dict[str, Any]) -> Credit | None:
    credit = content.get("credit")
    if not isinstance(credit, dict):
        return None
    amount, unit = credit.get("amount"), credit.get("unit")
    if isinstance(amount, int | float) and not isinstance(amount, bool) and unit:
        return Credit(float(amount), str(unit))
    return None


def _criteria(content: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(
        (str(c["key"]), str(c.get("title") or c["key"]))
        for c in content.get("criteria", [])
        if isinstance(c, dict) and c.get("key")
    )


def outline(session: Session, organisation_ids: Collection[int] | None = None) -> Outline:
    """Return the catalog of these organisations (``None``: every one)."""
    organisations = select(Organisation.id, Organisation.slug, Organisation.name).order_by(
        Organisation.name, Organisation.id
    )
    if organisation_ids is not None:
        organisations = organisations.where(Organisation.id.in_(list(organisation_ids) or [-1]))
    found = Outline(
        organisations={row.id: OrganisationOutline(*row) for row in session.execute(organisations)}
    )
    chosen = list(found.organisations) or [-1]

    versions = session.execute(
        select(
            CredentialVersion.id,
            CredentialVersion.credential_id,
            CredentialVersion.number,
            CredentialVersion.title,
            CredentialVersion.content,
            Credential.slug,
            Credential.organisation_id,
        )
        .join(Credential, Credential.id == CredentialVersion.credential_id)
        .where(Credential.organisation_id.in_(chosen))
        .order_by(Credential.id, CredentialVersion.number.desc())
    ).all()
    latest: dict[int, Any] = {}
    criteria: dict[int, dict[str, str]] = {}
    for row in versions:
        content = row.content or {}
        version = VersionOutline(
            row.id, row.credential_id, row.number, _credit(content), _criteria(content)
        )
        found.versions[row.id] = version
        latest.setdefault(row.credential_id, row)
        titles = criteria.setdefault(row.credential_id, {})
        for key, title in version.criteria:
            titles.setdefault(key, title)
    credentials = [
        CredentialOutline(
            credential_id,
            row.slug,
            row.organisation_id,
            row.title,
            tuple(criteria[credential_id].items()),
        )
        for credential_id, row in latest.items()
    ]
    for credential in sorted(credentials, key=lambda c: (c.title.casefold(), c.slug)):
        found.credentials[credential.id] = credential

    stacks = session.execute(
        select(Stack.id, Stack.slug, Stack.title, Stack.organisation_id, StackItem.credential_id)
        .outerjoin(StackItem, StackItem.stack_id == Stack.id)
        .where(Stack.organisation_id.in_(chosen))
        .order_by(Stack.title, Stack.id, StackItem.position)
    ).all()
    members: dict[int, list[int]] = {}
    for row in stacks:
        members.setdefault(row.id, [])
        if row.credential_id is not None:
            members[row.id].append(row.credential_id)
    for row in stacks:
        if row.id not in found.stacks:
            found.stacks[row.id] = StackOutline(
                row.id, row.slug, row.title, row.organisation_id, tuple(members[row.id])
            )
    return found

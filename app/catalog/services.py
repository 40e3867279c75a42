"""Reading the catalog for educators: the current published version of each credential,
search and filters, a credential's page, a stack's page. A fixed number of queries per call,
whatever the catalog's size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, exists, func, or_, select, true
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from app.catalog.models import (
    Credential,
    CredentialVersion,
    Image,
    Organisation,
    Stack,
    StackItem,
)

PAGE_SIZE = 24


@dataclass(frozen=True)
class ImageRef:
    """A stored image as a listing knows it: enough to address it, without its bytes."""

    sha256: str
    media_type: str


@dataclass(frozen=True)
class Entry:
    """One credential as the catalog lists it (its current published version)."""

    slug: str
    title: str
    short_description: str
    tags: list[str]
    estimated_hours: float | None
    organisation: str
    stacks: list[tuple[str, str]]
    """(slug, title) of the stacks it belongs to."""
    image: ImageRef | None = None
    """The version's badge image."""


@dataclass(frozen=True)
class SearchResult:
    entries: list[Entry]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class CredentialPage:
    credential: Credential
    version: CredentialVersion
    content: dict[str, Any]
    stacks: list[Stack]


def current_version(session: Session, credential_id: int) -> CredentialVersion | None:
    """Return a credential's current version: its latest published one (what educators are
    offered and badges are issued for), or None once it is retired or before it is published.

    The one answer to this question for every feature; a query over many credentials limits
    itself the same way with ``_current``."""
    return session.scalars(
        select(CredentialVersion)
        .where(
            CredentialVersion.credential_id == credential_id,
            CredentialVersion.status == CredentialVersion.PUBLISHED,
        )
        .order_by(CredentialVersion.number.desc())
        .limit(1)
    ).first()


def titles(session: Session, credential_ids: Sequence[int]) -> dict[int, str]:
    """Each credential's title as educators are offered it: its current version's, or its
    latest version's once retired or before it is published. One statement."""
    if not credential_ids:
        return {}
    rows = session.execute(
        select(CredentialVersion.credential_id, CredentialVersion.status, CredentialVersion.title)
        .where(CredentialVersion.credential_id.in_(list(credential_ids)))
        .order_by(CredentialVersion.credential_id, CredentialVersion.number.desc())
    )
    found: dict[int, str] = {}
    published: set[int] = set()
    for credential_id, status, title in rows:
        if credential_id not in published and status == CredentialVersion.PUBLISHED:
            found[credential_id] = title
            published.add(credential_id)
        found.setdefault(credential_id, title)
    return found


def _current(query: Any) -> Any:
    """Limit a query over versions to each credential's latest published version."""
    # "No later published version" rather than a join to max(number) per credential: the
    # database answers it with an anti-join, and its row estimates stay right, so the joins
    # that follow are planned for thousands of rows, not dozens.
    later = aliased(CredentialVersion)
    return query.where(
        CredentialVersion.status == CredentialVersion.PUBLISHED,
        ~exists().where(
            later.credential_id == CredentialVersion.credential_id,
            later.status == CredentialVersion.PUBLISHED,
            later.number > CredentialVersion.number,
        ),
    )


def search(
    session: Session,
    *,
    text: str = "",
    stack: str | None = None,
    tag: str | None = None,
    max_hours: float | None = None,
    slugs: list[str] | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> SearchResult:
    """Published credentials matching the words, stack, tag and hours, by title."""
    # The listing's columns only: a version's content (kilobytes of JSON) is not read.
    query = (
        _current(
            select(
                CredentialVersion.credential_id,
                CredentialVersion.title,
                CredentialVersion.short_description,
                CredentialVersion.tags,
                CredentialVersion.estimated_hours,
                Credential.slug,
                Organisation.name.label("organisation"),
                Image.sha256,
                Image.media_type,
            )
        )
        .join(Credential, Credential.id == CredentialVersion.credential_id)
        .join(Organisation, Organisation.id == Credential.organisation_id)
        .outerjoin(Image, Image.id == CredentialVersion.image_id)
    )
    for word in text.lower().split()[:8]:
        pattern = f"%{_escape_like(word)}%"
        query = query.where(
            or_(
                func.lower(CredentialVersion.title).like(pattern, escape="\\"),
                func.lower(CredentialVersion.short_description).like(pattern, escape="\\"),
                func.lower(cast(CredentialVersion.tags, String)).like(pattern, escape="\\"),
            )
        )
    if stack:
        query = query.where(
            CredentialVersion.credential_id.in_(
                select(StackItem.credential_id).join(Stack).where(Stack.slug == stack)
            )
        )
    if tag:
        tag_json = '"' + _escape_like(tag.lower()) + '"'
        query = query.where(
            func.lower(cast(CredentialVersion.tags, String)).like(f"%{tag_json}%", escape="\\")
        )
    if max_hours is not None:
        query = query.where(CredentialVersion.estimated_hours <= max_hours)
    if slugs is not None:
        query = query.where(Credential.slug.in_(slugs))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = session.execute(
        query.order_by(CredentialVersion.title, Credential.slug)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    memberships = _stacks_of(session, [row.credential_id for row in rows])
    entries = [
        Entry(
            slug=row.slug,
            title=row.title,
            short_description=row.short_description,
            tags=list(row.tags or []),
            estimated_hours=row.estimated_hours,
            organisation=row.organisation,
            stacks=memberships.get(row.credential_id, []),
            image=ImageRef(row.sha256, row.media_type) if row.sha256 else None,
        )
        for row in rows
    ]
    return SearchResult(entries=entries, total=total, page=page, pages=pages)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _stacks_of(session: Session, credential_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    if not credential_ids:
        return {}
    found: dict[int, list[tuple[str, str]]] = {}
    rows = session.execute(
        select(StackItem.credential_id, Stack.slug, Stack.title)
        .join(Stack)
        .where(StackItem.credential_id.in_(credential_ids))
        .order_by(Stack.title)
    )
    for credential_id, slug, title in rows:
        found.setdefault(credential_id, []).append((slug, title))
    return found


def filters(session: Session) -> tuple[list[tuple[str, str]], list[str]]:
    """The stacks (slug, title) and tags educators can filter by: a stack whose credentials
    are none of them published yet would filter to nothing, so it is left out."""
    with_published = _current(
        select(StackItem.stack_id).join(
            CredentialVersion, CredentialVersion.credential_id == StackItem.credential_id
        )
    )
    stacks = [
        (s, t)
        for s, t in session.execute(
            select(Stack.slug, Stack.title)
            .where(Stack.id.in_(with_published))
            .order_by(Stack.title)
        )
    ]
    # The distinct tags come from the database: decoding every version's tag list here would
    # cost the request time in proportion to the catalog's size.
    tag = _tag_rows(session)
    found = session.scalars(
        _current(select(tag.c.value).distinct().select_from(CredentialVersion).join(tag, true()))
    )
    return stacks, sorted(found, key=str.lower)


def _tag_rows(session: Session) -> Any:
    """A version's tags (always a JSON array, as the model types it) as rows with a ``value``
    column."""
    if session.get_bind().dialect.name == "postgresql":
        return func.json_array_elements_text(CredentialVersion.tags).table_valued("value")
    return func.json_each(CredentialVersion.tags).table_valued("value")


def credential_page(session: Session, slug: str) -> CredentialPage | None:
    """A published credential's current version, with its organisation and stacks."""
    credential = session.scalars(
        select(Credential)
        .options(joinedload(Credential.organisation))
        .where(Credential.slug == slug)
    ).first()
    if credential is None:
        return None
    version = current_version(session, credential.id)
    if version is None:
        return None
    return CredentialPage(
        credential=credential,
        version=version,
        content=version.content,
        stacks=stacks_of_credential(session, credential.id),
    )


def stacks_of_credential(session: Session, credential_id: int) -> list[Stack]:
    """Return the stacks a credential belongs to, by title."""
    return list(
        session.scalars(
            select(Stack)
            .join(StackItem)
            .where(StackItem.credential_id == credential_id)
            .order_by(Stack.title)
        )
    )


def stack_page(session: Session, slug: str) -> tuple[Stack, list[Entry], Entry | None] | None:
    """A stack with its credentials in order (and its milestone), as catalog entries."""
    stack = session.scalars(
        select(Stack)
        .options(
            joinedload(Stack.organisation),
            joinedload(Stack.milestone),
            selectinload(Stack.items).joinedload(StackItem.credential),
        )
        .where(Stack.slug == slug)
    ).first()
    if stack is None:
        return None
    slugs = [item.credential.slug for item in stack.items]
    milestone_slug = stack.milestone.slug if stack.milestone is not None else None
    wanted = [*slugs, *([milestone_slug] if milestone_slug else [])]
    found = search(session, slugs=wanted, per_page=max(1, len(wanted)))
    by_slug = {entry.slug: entry for entry in found.entries}
    entries = [by_slug[s] for s in slugs if s in by_slug]
    return stack, entries, by_slug.get(milestone_slug) if milestone_slug else None

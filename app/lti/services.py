"""What a launch records: the user, course and resource link, by idempotent upserts.

Called only after the launch validated (deployment active included), so a refused launch
writes nothing here. A launch of a course and link seen before costs one statement here: the
person's upsert; the deployment, course, link and line item rows were read together with the
registration while the launch was validated (``read_launch``; else, as after the launch
bridge, by one read here). A row is written only when it is new or the launch changed it.
Shared rows (a course, a link) are not rewritten on every launch, so concurrent launches in one
course do not queue on their row locks. Inserts are ``ON CONFLICT DO NOTHING``: of two first
launches at once, the second finds the row the first inserted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from app.db import dialect_insert, table_of, utcnow
from app.lti import frame_origins
from app.lti.launch import Launch
from app.lti.models import (
    Deployment,
    LineItem,
    LtiContext,
    LtiResourceLink,
    LtiUser,
    Registration,
)
from app.lti.platforms import plugin

_PROFILE = ("name", "given_name", "family_name", "email")


_users = table_of(LtiUser)
_deployments = table_of(Deployment)
_contexts = table_of(LtiContext)
_links = table_of(LtiResourceLink)
_items = table_of(LineItem)

# The launch's course, link and line item if already stored (outer-joined to the deployment).
_STORED = (
    _contexts.c.id.label("context"),
    _contexts.c.title.label("context_title"),
    _contexts.c.label.label("context_label"),
    _links.c.id.label("link"),
    _links.c.title.label("link_title"),
    _items.c.id.label("item"),
    _items.c.url.label("item_url"),
    _items.c.lineitems_url.label("item_lineitems_url"),
    _items.c.scopes.label("item_scopes"),
    _items.c.no_column.label("item_no_column"),
)


def _with_stored(query: Select[Any]) -> Select[Any]:
    """``query`` (from the deployment) outer-joined to the launch's stored course, link and line
    item."""
    return (
        query.outerjoin(
            _contexts,
            and_(
                _contexts.c.deployment_id == _deployments.c.id,
                _contexts.c.context_id == bindparam("context_id"),
            ),
        )
        .outerjoin(
            _links,
            and_(
                _links.c.context_id == _contexts.c.id,
                _links.c.resource_link_id == bindparam("resource_link_id"),
            ),
        )
        .outerjoin(_items, _items.c.resource_link_id == _links.c.id)
    )


# The deployment, and the launch's course, link and line item if already stored: one read.
_KNOWN: Select[Any] = _with_stored(
    select(_deployments.c.id.label("deployment"), *_STORED).select_from(_deployments)
).where(
    _deployments.c.registration_id == bindparam("registration_id"),
    _deployments.c.deployment_id == bindparam("deployment_id"),
)
# What a launch reads, in one statement: its registration, its deployment (if known) and what
# ``_KNOWN`` reads.
_LAUNCH_ROWS: Select[Any] = (
    _with_stored(
        select(Registration, Deployment, _deployments.c.id.label("deployment"), *_STORED)
        .select_from(table_of(Registration))
        .outerjoin(
            _deployments,
            and_(
                _deployments.c.registration_id == Registration.id,
                _deployments.c.deployment_id == bindparam("deployment_id"),
            ),
        )
    )
    .where(
        Registration.issuer == bindparam("issuer"), Registration.client_id == bindparam("client_id")
    )
    .limit(1)
)


@dataclass(frozen=True)
class LaunchRows:
    """What ``read_launch`` found: the registration, the deployment, and what a launch of them
    finds stored (``known``, as ``_KNOWN`` reads it; ``None`` without a deployment)."""

    registration: Registration | None
    deployment: Deployment | None
    known: Any


def read_launch(
    session: Session,
    issuer: str,
    client_id: str,
    deployment_id: str,
    context_id: str | None,
    resource_link_id: str | None,
) -> LaunchRows:
    """Read a launch's registration, deployment, course, link and line item in one statement
    (the three reads a launch would otherwise make one after another)."""
    row = session.execute(
        _LAUNCH_ROWS,
        {
            "issuer": issuer,
            "client_id": client_id,
            "deployment_id": deployment_id,
            "context_id": context_id,
            "resource_link_id": resource_link_id,
        },
    ).first()
    if row is None:
        return LaunchRows(None, None, None)
    return LaunchRows(row[0], row[1], row if row[1] is not None else None)


_FIND_CONTEXT = select(_contexts.c.id).where(
    _contexts.c.deployment_id == bindparam("deployment"),
    _contexts.c.context_id == bindparam("context_id"),
)
_FIND_LINK = select(_links.c.id).where(
    _links.c.context_id == bindparam("context"),
    _links.c.resource_link_id == bindparam("resource_link_id"),
)
_UPDATE_CONTEXT = (
    update(_contexts)
    .where(_contexts.c.id == bindparam("row"))
    .values(title=bindparam("title"), label=bindparam("label"), updated_at=bindparam("now"))
)
_UPDATE_LINK = (
    update(_links)
    .where(_links.c.id == bindparam("row"))
    .values(title=bindparam("title"), updated_at=bindparam("now"))
)


@cache
def _statements(dialect: str) -> dict[str, Any]:
    """The launch's inserts in ``dialect``, built once (building a statement costs more CPU
    than the database spends on it)."""
    insert = dialect_insert(dialect)
    user = insert(_users).values(
        registration_id=bindparam("registration_id"),
        sub=bindparam("sub"),
        **{name: bindparam(name) for name in _PROFILE},
        updated_at=bindparam("now"),
    )
    # Written only when the profile changed, so ``updated_at`` says when it last did.
    user = user.on_conflict_do_update(
        index_elements=["registration_id", "sub"],
        set_={**{name: user.excluded[name] for name in _PROFILE}, "updated_at": bindparam("now")},
        where=or_(*(_users.c[name].is_distinct_from(user.excluded[name]) for name in _PROFILE)),
    )
    context = (
        insert(_contexts)
        .values(
            registration_id=bindparam("registration_id"),
            deployment_id=bindparam("deployment"),
            context_id=bindparam("context_id"),
            title=bindparam("title"),
            label=bindparam("label"),
            updated_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["deployment_id", "context_id"])
        .returning(_contexts.c.id)
    )
    link = (
        insert(_links)
        .values(
            registration_id=bindparam("registration_id"),
            context_id=bindparam("context"),
            resource_link_id=bindparam("resource_link_id"),
            title=bindparam("title"),
            updated_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["context_id", "resource_link_id"])
        .returning(_links.c.id)
    )
    item = (
        insert(_items)
        .values(
            registration_id=bindparam("registration_id"),
            resource_link_id=bindparam("link"),
            url=bindparam("url"),
            lineitems_url=bindparam("lineitems_url"),
            scopes=bindparam("scopes", type_=_items.c.scopes.type),
            no_column=bindparam("no_column"),
            updated_at=bindparam("now"),
        )
        .on_conflict_do_nothing(index_elements=["resource_link_id"])
        .returning(_items.c.id)
    )
    return {"user": user, "context": context, "link": link, "item": item}


def record_launch(session: Session, launch: Launch, known: Any = None) -> None:
    """Store the user, context and resource link the launch names, updating what changed.

    ``known``: what ``read_launch`` found stored for it in this request, if it did."""
    statements = _statements(session.get_bind().dialect.name)
    now = utcnow()
    who = launch.user
    if who is not None:
        session.execute(
            statements["user"],
            {
                "registration_id": launch.registration_id,
                "sub": who.sub,
                "name": who.name,
                "given_name": who.given_name,
                "family_name": who.family_name,
                "email": who.email,
                "now": now,
            },
        )
    if launch.context is not None:
        _record_course(session, launch, statements, now, known)
    learned = frame_origins.learn(session, launch.registration_id, launch.return_url)
    session.commit()
    if learned:
        frame_origins.forget_cached_origins()


def _record_course(
    session: Session, launch: Launch, statements: dict[str, Any], now: Any, known: Any
) -> None:
    """Store the launch's course, resource link and line item, each if new or changed."""
    ctx, link_claim = launch.context, launch.resource_link
    assert ctx is not None
    known = (
        known
        or session.execute(
            _KNOWN,
            {
                "registration_id": launch.registration_id,
                "deployment_id": launch.deployment_id,
                "context_id": ctx.id,
                "resource_link_id": link_claim.id if link_claim else None,
            },
        ).one()
    )  # the deployment exists: the launch was validated against it
    owner = {"registration_id": launch.registration_id, "now": now}
    context: int | None = known.context
    if context is None:
        keys = {"deployment": known.deployment, "context_id": ctx.id}
        context = _insert_or_find(
            session,
            statements["context"],
            {**owner, **keys, "title": ctx.title, "label": ctx.label},
            _FIND_CONTEXT,
            keys,
        )
    elif (known.context_title, known.context_label) != (ctx.title, ctx.label):
        session.execute(
            _UPDATE_CONTEXT, {"row": context, "title": ctx.title, "label": ctx.label, "now": now}
        )
    if link_claim is None:
        return
    link: int | None = known.link
    if link is None:
        keys = {"context": context, "resource_link_id": link_claim.id}
        link = _insert_or_find(
            session,
            statements["link"],
            {**owner, **keys, "title": link_claim.title},
            _FIND_LINK,
            keys,
        )
    elif known.link_title != link_claim.title:
        session.execute(_UPDATE_LINK, {"row": link, "title": link_claim.title, "now": now})
    if launch.ags is not None:
        _record_line_item(
            session, launch, statements, link, known if known.link is not None else None, now
        )


def _insert_or_find(
    session: Session, insert: Any, values: dict[str, Any], find: Any, keys: dict[str, Any]
) -> int:
    """Insert a row and return its id; if a concurrent launch inserted it first, find that."""
    row_id = session.scalar(insert, values)
    if row_id is None:
        row_id = session.scalar(find, keys)
    assert row_id is not None
    return int(row_id)


def _record_line_item(
    session: Session,
    launch: Launch,
    statements: dict[str, Any],
    link: int,
    known: Any,
    now: Any,
) -> None:
    """Keep the link's AGS endpoint: where its scores go (LTI AGS 2.0 §3.2).

    ``known`` is what was stored before this launch (``None``: the link is new)."""
    ags = launch.ags
    assert ags is not None
    scopes = list(ags.scopes)
    # Where the LMS says by the claim alone that the link can have no column (a Canvas module
    # item), that is recorded; a column the claim names makes any earlier reason void.
    no_column = plugin(launch.platform_family).no_column(ags.lineitem_url)
    if known is None or known.item is None:
        inserted = session.scalar(
            statements["item"],
            {
                "registration_id": launch.registration_id,
                "link": link,
                "url": ags.lineitem_url,
                "lineitems_url": ags.lineitems_url,
                "scopes": scopes,
                "no_column": no_column,
                "now": now,
            },
        )
        if inserted is not None:
            return  # else a concurrent launch inserted it: update it as below
    elif (
        (not ags.lineitem_url or ags.lineitem_url == known.item_url)
        and ags.lineitems_url == known.item_lineitems_url
        and scopes == known.item_scopes
        and (
            known.item_no_column is None
            if ags.lineitem_url
            else no_column in (None, known.item_no_column)
        )
    ):
        return
    # A claim without ``lineitem`` (a link made without a column) keeps the column the tool
    # found or created earlier, and what the tool learned about a column it could not create.
    changes: dict[str, Any] = {"lineitems_url": ags.lineitems_url, "scopes": scopes}
    if ags.lineitem_url:
        changes["url"] = ags.lineitem_url
        changes["no_column"] = None
    elif no_column is not None:
        changes["no_column"] = no_column
    session.execute(
        update(_items).where(_items.c.resource_link_id == link).values(**changes, updated_at=now)
    )


BADGE_NAME_MAX = 120


class InvalidBadgeName(ValueError):
    """The name typed for badges cannot be used; the message says why."""


def clean_badge_name(raw: str) -> str | None:
    """Return the name to store (``None`` to use the LMS's name) or raise ``InvalidBadgeName``."""
    name = " ".join(raw.split())
    if len(name) > BADGE_NAME_MAX:
        raise InvalidBadgeName(f"Use at most {BADGE_NAME_MAX} characters (this has {len(name)}).")
    if any(not ch.isprintable() for ch in name):
        raise InvalidBadgeName("Use letters, spaces and punctuation only.")
    return name or None


def find_user(session: Session, launch: Launch) -> LtiUser | None:
    """Return the stored person of a launch (``None`` for an anonymous launch)."""
    if launch.user is None:
        return None
    return session.scalars(
        select(LtiUser).where(
            LtiUser.registration_id == launch.registration_id, LtiUser.sub == launch.user.sub
        )
    ).first()


def user_ids(session: Session, registration_id: int, subs: Sequence[str]) -> dict[str, int]:
    """Return the stored ids of these people (by ``sub``) on one platform; anyone who has never
    launched the tool is left out. One statement."""
    found = session.execute(
        select(LtiUser.sub, LtiUser.id).where(
            LtiUser.registration_id == registration_id, LtiUser.sub.in_(subs)
        )
    )
    return {sub: user_id for sub, user_id in found}


def person_on_platform(session: Session, registration_id: int, sub: str) -> LtiUser | None:
    """Return the person a platform knows as ``sub`` (``None`` if they never launched)."""
    return session.scalars(
        select(LtiUser)
        .where(LtiUser.registration_id == registration_id, LtiUser.sub == sub)
        .execution_options(all_platforms=True)
    ).first()


def user_by_id(session: Session, user_id: int) -> LtiUser | None:
    """Return a stored person by their row id."""
    return session.get(LtiUser, user_id)


def people_with_email(session: Session, email: str) -> list[LtiUser]:
    """Return everyone, on every platform, whose LMS sent this email (compared without case):
    how an operator joins one person's records across platforms."""
    return list(
        session.scalars(
            select(LtiUser)
            .where(func.lower(LtiUser.email) == email.strip().lower())
            .order_by(LtiUser.registration_id, LtiUser.id)
            .execution_options(all_platforms=True)
        )
    )


def set_name_in_badges(session: Session, launch: Launch, shown: bool | None) -> LtiUser:
    """Store whether the person's badges, issued from now on, carry their name (``None``: as
    each issuing organisation decides). The caller commits."""
    user = find_user(session, launch)
    if user is None:
        raise LookupError("no stored user for this launch")
    user.name_in_badges = shown
    return user


def set_badge_name(session: Session, launch: Launch, name: str | None) -> LtiUser:
    """Store the name the person wants on their badges."""
    user = find_user(session, launch)
    if user is None:
        raise LookupError("no stored user for this launch")
    user.badge_name = name
    session.commit()
    return user

"""What a launch records: the user, course and resource link, by idempotent upserts.

Called only after the launch validated (deployment active included), so a refused launch
writes nothing here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.lti import frame_origins
from app.lti.launch import Launch
from app.lti.models import Deployment, LineItem, LtiContext, LtiResourceLink, LtiUser

T = TypeVar("T")


def _upsert(session: Session, find: Callable[[], T | None], make: Callable[[], T]) -> T:
    """Return the row ``find`` gives, or insert ``make()``; a concurrent insert is retried."""
    for attempt in range(3):
        row = find()
        if row is not None:
            return row
        try:
            with session.begin_nested():
                row = make()
                session.add(row)
            return row
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def record_launch(session: Session, launch: Launch) -> None:
    """Store the user, context and resource link the launch names, updating what changed."""
    deployment = session.scalars(
        select(Deployment).where(
            Deployment.registration_id == launch.registration_id,
            Deployment.deployment_id == launch.deployment_id,
        )
    ).one()
    who = launch.user
    if who is not None:
        user = _upsert(
            session,
            lambda: session.scalars(
                select(LtiUser).where(
                    LtiUser.registration_id == launch.registration_id, LtiUser.sub == who.sub
                )
            ).first(),
            lambda: LtiUser(registration_id=launch.registration_id, sub=who.sub),
        )
        user.name = who.name
        user.given_name = who.given_name
        user.family_name = who.family_name
        user.email = who.email
    if launch.context is not None:
        ctx = launch.context
        context = _upsert(
            session,
            lambda: session.scalars(
                select(LtiContext).where(
                    LtiContext.deployment_id == deployment.id, LtiContext.context_id == ctx.id
                )
            ).first(),
            lambda: LtiContext(
                registration_id=launch.registration_id,
                deployment_id=deployment.id,
                context_id=ctx.id,
            ),
        )
        context.title = ctx.title
        context.label = ctx.label
        if launch.resource_link is not None:
            link_claim = launch.resource_link
            link = _upsert(
                session,
                lambda: session.scalars(
                    select(LtiResourceLink).where(
                        LtiResourceLink.context_id == context.id,
                        LtiResourceLink.resource_link_id == link_claim.id,
                    )
                ).first(),
                lambda: LtiResourceLink(
                    registration_id=launch.registration_id,
                    context_id=context.id,
                    resource_link_id=link_claim.id,
                ),
            )
            link.title = link_claim.title
            if launch.ags is not None:
                _record_line_item(session, launch, link)
    learned = frame_origins.learn(session, launch.registration_id, launch.return_url)
    session.commit()
    if learned:
        frame_origins.forget_cached_origins()


def _record_line_item(session: Session, launch: Launch, link: LtiResourceLink) -> None:
    """Keep the link's AGS endpoint: where its scores go (LTI AGS 2.0 §3.2)."""
    ags = launch.ags
    assert ags is not None
    item = _upsert(
        session,
        lambda: session.scalars(
            select(LineItem).where(LineItem.resource_link_id == link.id)
        ).first(),
        lambda: LineItem(registration_id=launch.registration_id, resource_link_id=link.id),
    )
    # A claim without ``lineitem`` (a link made without a column) keeps the column the tool
    # found or created earlier.
    if ags.lineitem_url:
        item.url = ags.lineitem_url
    item.lineitems_url = ags.lineitems_url
    item.scopes = list(ags.scopes)


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


def set_badge_name(session: Session, launch: Launch, name: str | None) -> LtiUser:
    """Store the name the person wants on their badges."""
    user = find_user(session, launch)
    if user is None:
        raise LookupError("no stored user for this launch")
    user.badge_name = name
    session.commit()
    return user

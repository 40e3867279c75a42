"""Who and what other features' rows refer to by id: people, courses, platforms, each read for
many ids in one statement (the outcome reports name their groups and educators with them).

The console acts for no single platform, so these read across platforms and say so.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lti.models import LtiContext, LtiResourceLink, LtiUser, Registration
from app.tenancy import ALL_PLATFORMS

ALL = {ALL_PLATFORMS: True}


@dataclass(frozen=True)
class Platform:
    id: int
    uuid: str
    name: str


def platforms(session: Session) -> list[Platform]:
    """Every registered platform, by name."""
    rows = session.execute(
        select(Registration.id, Registration.uuid, Registration.name).order_by(
            Registration.name, Registration.id
        )
    )
    return [Platform(*row) for row in rows]


@dataclass(frozen=True)
class Course:
    """The course (LTI context) a resource link is in."""

    id: int
    """``lti_context.id``."""
    registration_id: int
    title: str
    """The course's title, else its label, else the LMS's id of it."""


def courses_of_links(session: Session, link_ids: Collection[int]) -> dict[int, Course]:
    """The course of each stored resource link, by link id: one statement."""
    if not link_ids:
        return {}
    rows = session.execute(
        select(
            LtiResourceLink.id,
            LtiContext.id,
            LtiContext.registration_id,
            LtiContext.title,
            LtiContext.label,
            LtiContext.context_id,
        )
        .join(LtiContext, LtiContext.id == LtiResourceLink.context_id)
        .where(LtiResourceLink.id.in_(list(link_ids)))
        .execution_options(**ALL)
    )
    return {
        link_id: Course(context_id, registration_id, title or label or context)
        for link_id, context_id, registration_id, title, label, context in rows
    }


@dataclass(frozen=True)
class Person:
    """A person as one platform knows them."""

    id: int
    registration_id: int
    sub: str
    name: str
    """Their name from the LMS, else their email, else their LMS user id."""
    email: str | None


def people(session: Session, user_ids: Collection[int]) -> dict[int, Person]:
    """The people of these ``lti_user`` ids, by id: one statement."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(
            LtiUser.id,
            LtiUser.registration_id,
            LtiUser.sub,
            LtiUser.name,
            LtiUser.given_name,
            LtiUser.family_name,
            LtiUser.email,
        )
        .where(LtiUser.id.in_(list(user_ids)))
        .execution_options(**ALL)
    )
    found = {}
    for user_id, registration_id, sub, name, given, family, email in rows:
        full = name or " ".join(part for part in (given, family) if part)
        found[user_id] = Person(user_id, registration_id, sub, full or email or sub, email)
    return found

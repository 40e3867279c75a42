"""Assessor grants: who may review an organisation's credentials across courses and platforms.

An instructor or TA reviews the submissions of their own courses without a grant; a grant lets
a designated person (as one platform knows them: an ``lti_user``) review every submission of
the organisation's credentials, from whichever course or platform it came. A *lead* reviewer
also settles disagreements between two independent reviews.

Operators manage every organisation's grants; an organisation's admins manage its own. A grant
is never deleted: revoking it stamps ``revoked_at``, and granting again re-activates it, so the
audit log and the list say who could review when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit
from app.catalog.authoring import Rights
from app.catalog.models import Author, Organisation
from app.db import utcnow
from app.errors import AppError, Conflict, Forbidden, NotFound
from app.grading.models import AssessorGrant
from app.inputs import as_id
from app.lti.models import LtiUser, Registration
from app.tenancy import ALL_PLATFORMS


class NotAnOrganisationAdmin(Forbidden):
    code = "not_an_organisation_admin"
    title = "Only operators and organisation admins"


class GrantRefused(AppError):
    """A grant that cannot be made as asked; ``field`` names the form field to correct."""

    code = "grant_refused"
    title = "This assessor cannot be granted"

    def __init__(self, message: str, *, field: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.field = field


class PersonNotKnown(GrantRefused):
    code = "assessor_not_known"


class EmailShared(GrantRefused):
    code = "assessor_email_shared"


# --- Who may manage grants ----------------------------------------------------------------------


def manages_any(rights: Rights) -> bool:
    """Tell whether this account manages the grants of at least one organisation."""
    return rights.is_operator or Author.ADMIN in rights.roles.values()


def manageable_organisations(session: Session, rights: Rights) -> list[Organisation]:
    """Return the organisations whose assessors this account manages, by name (refuse an
    account that manages none)."""
    if not manages_any(rights):
        raise NotAnOrganisationAdmin(
            "Only operators and an organisation's admins manage its assessors; your account "
            "writes credentials but is not an admin of any organisation.",
            hint="Ask one of your organisation's admins, or an operator.",
        )
    query = select(Organisation).order_by(Organisation.name)
    if not rights.is_operator:
        admin_of = [oid for oid, role in rights.roles.items() if role == Author.ADMIN]
        query = query.where(Organisation.id.in_(admin_of))
    return list(session.scalars(query))


def organisation_to_manage(session: Session, rights: Rights, slug: str) -> Organisation:
    """Return an organisation whose assessors this account manages."""
    organisation = session.scalars(select(Organisation).where(Organisation.slug == slug)).first()
    if organisation is None:
        raise NotFound(f"There is no issuer organisation “{slug}”.")
    if not rights.may_manage(organisation.id):
        raise NotAnOrganisationAdmin(
            f"Only operators and {organisation.name}'s admins manage its assessors.",
            hint="Ask one of its admins, or an operator.",
        )
    return organisation


# --- Reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantRow:
    """A grant as the console lists it."""

    id: int
    organisation_id: int
    name: str
    email: str
    sub: str
    platform: str
    lead: bool
    granted_by: str
    granted_at: datetime
    revoked_at: datetime | None

    @property
    def person(self) -> str:
        return _person(self.name, self.email, self.sub)


@dataclass
class OrganisationGrants:
    """One organisation's assessors: active ones, and revoked ones kept for the record."""

    organisation: Organisation
    active: list[GrantRow] = field(default_factory=list)
    revoked: list[GrantRow] = field(default_factory=list)


def _rows(session: Session, organisation_ids: list[int]) -> list[GrantRow]:
    rows = session.execute(
        select(AssessorGrant, LtiUser, Registration.name)
        .join(LtiUser, LtiUser.id == AssessorGrant.user_id)
        .join(Registration, Registration.id == AssessorGrant.registration_id)
        .where(AssessorGrant.organisation_id.in_(organisation_ids or [-1]))
        .order_by(func.lower(func.coalesce(LtiUser.name, LtiUser.email, LtiUser.sub)))
        .execution_options(**{ALL_PLATFORMS: True})
    )
    return [
        GrantRow(
            id=grant.id,
            organisation_id=grant.organisation_id,
            name=user.name or "",
            email=user.email or "",
            sub=user.sub,
            platform=platform,
            lead=grant.lead,
            granted_by=grant.granted_by,
            granted_at=grant.granted_at,
            revoked_at=grant.revoked_at,
        )
        for grant, user, platform in rows
    ]


def grants_by_organisation(
    session: Session, organisations: list[Organisation]
) -> list[OrganisationGrants]:
    """Return each organisation's grants, in the organisations' order (one statement)."""
    listed = {o.id: OrganisationGrants(o) for o in organisations}
    for row in _rows(session, list(listed)):
        holder = listed[row.organisation_id]
        (holder.revoked if row.revoked_at else holder.active).append(row)
    return list(listed.values())


def all_grants(session: Session, organisation: Organisation | None = None) -> list[GrantRow]:
    """Return the grants of one organisation, or of every organisation (for the CLI)."""
    ids = (
        [organisation.id]
        if organisation is not None
        else list(session.scalars(select(Organisation.id)))
    )
    return _rows(session, ids)


def is_assessor(session: Session, registration_id: int, user_sub: str) -> bool:
    """Whether the person (by their LMS ``sub``) holds an assessor grant on this platform."""
    return (
        session.scalar(
            select(AssessorGrant.id)
            .join(LtiUser, LtiUser.id == AssessorGrant.user_id)
            .where(
                AssessorGrant.registration_id == registration_id,
                AssessorGrant.revoked_at.is_(None),
                LtiUser.registration_id == registration_id,
                LtiUser.sub == user_sub,
            )
            .limit(1)
        )
        is not None
    )


def granted_organisations(session: Session, registration_id: int, user_id: int) -> dict[int, bool]:
    """Return the organisations this person may assess under an active grant (organisation id
    → lead reviewer or not), in one statement."""
    rows = session.execute(
        select(AssessorGrant.organisation_id, AssessorGrant.lead)
        .where(
            AssessorGrant.registration_id == registration_id,
            AssessorGrant.user_id == user_id,
            AssessorGrant.revoked_at.is_(None),
        )
        # The person's own platform is named above; this also works in a session scoped to
        # another platform (the grant belongs to the assessor's platform).
        .execution_options(**{ALL_PLATFORMS: True})
    )
    return {organisation_id: bool(lead) for organisation_id, lead in rows}


# --- Finding the person -------------------------------------------------------------------------


def find_registration(session: Session, reference: str) -> Registration:
    """Return the platform named by its registration id (a number) or its uuid."""
    reference = reference.strip()
    query = select(Registration)
    number = as_id(reference)
    if number is not None:
        query = query.where(Registration.id == number)
    else:
        query = query.where(Registration.uuid == reference)
    registration = session.scalars(query).first() if reference else None
    if registration is None:
        raise NotFound(
            f"There is no platform “{reference}”." if reference else "Choose the platform.",
            hint="Platforms are listed by `flask platforms list` and on the console's "
            "Platforms page (the registration id or uuid).",
        )
    return registration


def find_person(
    session: Session, registration: Registration, *, email: str = "", sub: str = ""
) -> LtiUser:
    """Return the person the platform knows by this LMS user id (``sub``) or, failing that, by
    this email; they must have launched Microcred from it at least once."""
    email, sub = email.strip(), sub.strip()
    if not email and not sub:
        raise GrantRefused(
            "Give the person's email as the LMS sends it, or their LMS user id.", field="email"
        )
    query = (
        select(LtiUser)
        .where(LtiUser.registration_id == registration.id)
        .execution_options(**{ALL_PLATFORMS: True})
    )
    if sub:
        people = list(session.scalars(query.where(LtiUser.sub == sub)))
        who, where = f"the LMS user id “{sub}”", "sub"
    else:
        people = list(
            session.scalars(query.where(func.lower(LtiUser.email) == email.lower()).limit(10))
        )
        who, where = f"the email {email}", "email"
    if not people:
        raise PersonNotKnown(
            f"Nobody with {who} has opened Microcred from {registration.name} yet. Ask them to "
            "open Microcred from one of their courses once, then grant again.",
            field=where,
            hint="Microcred learns who a person is only when their LMS launches it.",
        )
    if len(people) > 1:
        raise EmailShared(
            f"{len(people)} people on {registration.name} have {who}. Give the LMS user id of "
            "the one you mean instead.",
            field="sub",
            hint="The LMS user id is on their profile in the LMS (Moodle: the user id; Canvas: "
            "the LTI user id), or ask an operator to look it up.",
        )
    return people[0]


def describe(user: LtiUser) -> str:
    """Name a person for messages and the audit log."""
    return _person(user.name, user.email, user.sub)


def _person(name: str | None, email: str | None, sub: str) -> str:
    if name and email:
        return f"{name} <{email}>"
    return email or name or f"LMS user id {sub}"


# --- Granting and revoking ----------------------------------------------------------------------


@dataclass(frozen=True)
class GrantResult:
    grant: AssessorGrant
    person: str
    outcome: str
    """``granted``, ``regranted`` (a revoked grant made active again), ``lead-changed``, or
    ``unchanged``."""


def _record(
    session: Session, rights: Rights, action: str, organisation: Organisation, **details: Any
) -> None:
    audit.record(
        session,
        actor=rights.actor.label,
        operator_id=rights.actor.operator_id,
        action=action,
        target=f"organisation:{organisation.slug}",
        details=details,
    )


def grant(
    session: Session,
    rights: Rights,
    organisation: Organisation,
    registration: Registration,
    *,
    email: str = "",
    sub: str = "",
    lead: bool = False,
) -> GrantResult:
    """Let a person assess the organisation's credentials (a lead reviewer when ``lead``);
    granting again re-activates a revoked grant, or changes whether it is a lead's."""
    if not rights.may_manage(organisation.id):
        raise NotAnOrganisationAdmin(
            f"Only operators and {organisation.name}'s admins manage its assessors."
        )
    user = find_person(session, registration, email=email, sub=sub)
    person = describe(user)
    existing = session.scalars(
        select(AssessorGrant)
        .where(AssessorGrant.organisation_id == organisation.id, AssessorGrant.user_id == user.id)
        .execution_options(**{ALL_PLATFORMS: True})
    ).first()
    details = {"person": person, "platform": registration.name, "lead": lead}
    if existing is None:
        existing = AssessorGrant(
            registration_id=registration.id,
            organisation_id=organisation.id,
            user_id=user.id,
            lead=lead,
            granted_by=rights.actor.label,
            granted_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(existing)
        except IntegrityError:
            raise Conflict(
                f"{person} was granted at the same moment by someone else.",
                hint="Reload the page to see the grant as it is now.",
            ) from None
        outcome = "granted"
        _record(session, rights, "assessor.granted", organisation, **details)
    elif existing.revoked_at is not None:
        existing.revoked_at = None
        existing.lead = lead
        existing.granted_by = rights.actor.label
        existing.granted_at = utcnow()
        outcome = "regranted"
        _record(session, rights, "assessor.regranted", organisation, **details)
    elif existing.lead != lead:
        _record(
            session,
            rights,
            "assessor.lead_changed",
            organisation,
            person=person,
            platform=registration.name,
            lead={"from": existing.lead, "to": lead},
        )
        existing.lead = lead
        outcome = "lead-changed"
    else:
        outcome = "unchanged"
    session.flush()
    return GrantResult(existing, person, outcome)


def grant_to_revoke(
    session: Session, rights: Rights, grant_id: int
) -> tuple[GrantRow, Organisation]:
    """Return an active grant this account may revoke, as listed, with its organisation."""
    found = session.get(AssessorGrant, grant_id)
    if found is None or found.revoked_at is not None:
        raise NotFound(
            "There is no active assessor grant at this address.",
            hint="Open Assessors to see the grants as they are now.",
        )
    organisation = session.get(Organisation, found.organisation_id)
    assert organisation is not None  # a grant's organisation is a foreign key
    if not rights.may_manage(organisation.id):
        raise NotAnOrganisationAdmin(
            f"Only operators and {organisation.name}'s admins manage its assessors."
        )
    row = next(r for r in _rows(session, [organisation.id]) if r.id == grant_id)
    return row, organisation


def revoke(session: Session, rights: Rights, grant_id: int) -> tuple[GrantRow, Organisation]:
    """Stop a person assessing the organisation's credentials (the grant is kept, revoked);
    return the grant as it was listed, and its organisation."""
    row, organisation = grant_to_revoke(session, rights, grant_id)
    found = session.get(AssessorGrant, grant_id)
    assert found is not None
    found.revoked_at = utcnow()
    _record(
        session,
        rights,
        "assessor.revoked",
        organisation,
        person=row.person,
        platform=row.platform,
    )
    session.flush()
    return row, organisation


def revoke_person(
    session: Session,
    rights: Rights,
    organisation: Organisation,
    registration: Registration,
    *,
    email: str = "",
    sub: str = "",
) -> tuple[GrantRow, Organisation]:
    """Revoke the active grant of the person a platform knows by this email or LMS user id."""
    user = find_person(session, registration, email=email, sub=sub)
    grant_id = session.scalars(
        select(AssessorGrant.id)
        .where(
            AssessorGrant.organisation_id == organisation.id,
            AssessorGrant.user_id == user.id,
            AssessorGrant.revoked_at.is_(None),
        )
        .execution_options(**{ALL_PLATFORMS: True})
    ).first()
    if grant_id is None:
        raise NotFound(f"{describe(user)} has no active grant for {organisation.name}.")
    return revoke(session, rights, grant_id)

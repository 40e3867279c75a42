"""Issuing: an "earned" decision becomes an award, its OB 3.0 credential signed by the issuer.

Called by the outbox processor (``app/badges/processing.py``) for each ``decided`` event whose
outcome is ``earned``, in the processor's transaction: issuing twice for one attempt is
impossible (a unique attempt per award), so a retried event finds the award already made.
Completing a stack earns its milestone credential in the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.badges import documents, identity, proofs, status
from app.badges.documents import Recipient
from app.badges.identity import Site
from app.badges.models import Award
from app.catalog import services as catalog
from app.catalog.models import Credential, CredentialVersion, Organisation, Stack, StackItem
from app.db import utcnow
from app.evidence.models import Attempt
from app.grading.models import Decision
from app.lti.models import LtiUser, Registration


@dataclass(frozen=True)
class Signer:
    """What issuing needs besides the database: where the tool is and how keys are kept."""

    site: Site
    cipher: Fernet


def name_shown(user: LtiUser, organisation: Organisation) -> bool:
    """Whether a badge the organisation issues to ``user`` now carries their name: their own
    choice, else the organisation's default."""
    return organisation.badge_name_shown if user.name_in_badges is None else user.name_in_badges


def recipient_for(session: Session, user: LtiUser, organisation: Organisation) -> Recipient:
    """The recipient identity: the hashed email (lower-cased, as validators compare it), or,
    if the LMS shared none, the hashed LMS user id; and the name, when it is shown.

    The name is the one the person chose for badges, else the LMS's, never the email or the
    LMS user id the pages fall back to: the name goes into the credential unhashed."""
    salt = secrets.token_hex(16)
    name = (user.badge_name or user.lms_name) if name_shown(user, organisation) else None
    if user.email:
        return Recipient("email", salt, documents.hash_identity(user.email.lower(), salt), name)
    registration = session.get(Registration, user.registration_id)
    issuer = registration.issuer if registration else "lms"
    system_id = f"{issuer}#{user.sub}"
    return Recipient("systemId", salt, documents.hash_identity(system_id, salt), name)


def evidence_narrative(version: CredentialVersion, decision: Decision | None) -> str:
    """What the credential says about the evidence (the details stay with the earner, who
    chooses what to make public)."""
    parts = [p.get("title", "") for p in version.content.get("parts", [])]
    lines = [
        "The educator submitted classroom evidence in "
        + (f"{len(parts)} parts ({', '.join(parts)})" if parts else "the required parts")
        + "; an assessor reviewed it against the credential's rubric."
    ]
    if decision is not None:
        met = sum(1 for judged in decision.criteria.values() if judged.get("met"))
        lines.append(f"Criteria met: {met} of {len(decision.criteria)}.")
    else:
        lines.append("Earned by completing every credential of its stack.")
    return " ".join(lines)


def new_public_id() -> str:
    """A badge's public id: 128 random bits, URL-safe, never starting with "-" — typed after a
    command (``flask badges revoke <id>``) such an id read as an option (a 1 in 64 chance)."""
    while True:
        public_id = secrets.token_urlsafe(16)
        if not public_id.startswith("-"):
            return public_id


def _issue(
    session: Session,
    signer: Signer,
    *,
    user: LtiUser,
    credential: Credential,
    version: CredentialVersion,
    attempt_id: int | None,
    decision: Decision | None,
    stack_id: int | None,
    now: datetime,
) -> Award:
    organisation = session.get_one(Organisation, credential.organisation_id)
    key = identity.active_key(session, organisation.id, signer.cipher)
    status_list, index = status.allocate(session, organisation.id)
    recipient = recipient_for(session, user, organisation)
    days = version.content.get("valid_for_days")
    valid_until = now + timedelta(days=int(days)) if days else None
    public_id = new_public_id()
    unsigned = documents.credential(
        signer.site,
        public_id=public_id,
        organisation=organisation,
        slug=credential.slug,
        version=version,
        recipient=recipient,
        issued_at=now,
        valid_until=valid_until,
        status_entry=status.entry(signer.site, organisation.slug, status_list.id, index),
        evidence_narrative=evidence_narrative(version, decision),
    )
    signed = proofs.sign(
        unsigned,
        identity.private_key(key, signer.cipher),
        signer.site.key_id(organisation.slug, key.public_multibase),
        now,
    )
    award = Award(
        public_id=public_id,
        registration_id=user.registration_id,
        user_id=user.id,
        credential_id=credential.id,
        version_id=version.id,
        organisation_id=organisation.id,
        attempt_id=attempt_id,
        decision_id=decision.id if decision else None,
        stack_id=stack_id,
        issuer_key_id=key.id,
        status_list_id=status_list.id,
        status_index=index,
        issued_at=now,
        valid_until=valid_until,
        recipient_name=recipient.name,
        recipient_type=recipient.kind,
        recipient_salt=recipient.salt,
        recipient_hash=recipient.identity_hash,
        credential_json=signed,
        public_evidence=[],
    )
    session.add(award)
    session.flush()
    return award


def issue_for_decision(session: Session, signer: Signer, decision_id: int) -> list[Award]:
    """Issue the badge an earned decision calls for (and any milestone it completes); nothing
    if it was issued before or the decision is not "earned". Returns the new awards."""
    decision = session.get(Decision, decision_id)
    if decision is None or decision.outcome != Attempt.EARNED:
        return []
    attempt = session.get_one(Attempt, decision.attempt_id)
    existing = session.scalar(
        select(Award.id).where(Award.attempt_id == attempt.id).execution_options(all_platforms=True)
    )
    if existing is not None:
        return []
    user = session.get_one(LtiUser, attempt.user_id)
    now = utcnow()
    award = _issue(
        session,
        signer,
        user=user,
        credential=session.get_one(Credential, attempt.credential_id),
        version=session.get_one(CredentialVersion, attempt.version_id),
        attempt_id=attempt.id,
        decision=decision,
        stack_id=None,
        now=now,
    )
    return [award, *milestones_for(session, signer, user, award.credential_id, now)]


def _held(session: Session, user_id: int) -> set[int]:
    """The credentials the educator holds now (issued, not revoked)."""
    return set(
        session.scalars(
            select(Award.credential_id)
            .where(Award.user_id == user_id, Award.revoked_at.is_(None))
            .execution_options(all_platforms=True)
        )
    )


def milestones_for(
    session: Session, signer: Signer, user: LtiUser, credential_id: int, now: datetime
) -> list[Award]:
    """Issue the milestone of every stack that holding ``credential_id`` completes."""
    stacks = session.scalars(
        select(Stack)
        .join(StackItem, StackItem.stack_id == Stack.id)
        .where(StackItem.credential_id == credential_id, Stack.milestone_credential_id.is_not(None))
    ).all()
    if not stacks:
        return []
    held = _held(session, user.id)
    issued: list[Award] = []
    for stack in stacks:
        needed = {item.credential_id for item in stack.items}
        if not needed <= held:
            continue
        already = session.scalar(
            select(func.count(Award.id))
            .where(Award.user_id == user.id, Award.stack_id == stack.id)
            .execution_options(all_platforms=True)
        )
        milestone = session.get(Credential, stack.milestone_credential_id)
        version = None if milestone is None else catalog.current_version(session, milestone.id)
        if already or milestone is None or version is None:
            continue
        award = _issue(
            session,
            signer,
            user=user,
            credential=milestone,
            version=version,
            attempt_id=None,
            decision=None,
            stack_id=stack.id,
            now=now,
        )
        issued.append(award)
        held.add(milestone.id)
    return issued

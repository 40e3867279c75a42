"""What the badge pages need: the educator's badges, the public verification of one, the
earner's choice of public evidence, and revocation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import audit
from app.badges import documents, identity, images, proofs, status
from app.badges.identity import Site
from app.badges.issuance import Signer
from app.badges.models import Award, IssuerKey, StatusList
from app.catalog.authoring import Rights
from app.catalog.models import Credential, CredentialVersion, Organisation, Stack
from app.db import utcnow
from app.errors import AppError, Forbidden, NotFound
from app.evidence.models import Answer, Attempt, EvidenceFile, EvidenceLink
from app.grading.models import Decision
from app.lti.models import LtiUser
from app.outbox.models import OutboxEvent

ALL = {"all_platforms": True}


class RevocationRefused(AppError):
    status = 409
    code = "revocation_refused"
    title = "The badge cannot be revoked"


def site_of(app: Flask) -> Site:
    return Site(app.config["MICROCRED_SETTINGS"].base_url)


def signer_of(app: Flask) -> Signer:
    """The signer for this app's settings (for the processor and the pages)."""
    settings = app.config["MICROCRED_SETTINGS"]
    return Signer(Site(settings.base_url), identity.issuer_key_cipher(settings.secret_key))


# --- one award, as everyone sees it ---------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One thing the server checked, in plain words."""

    name: str
    ok: bool
    message: str


@dataclass(frozen=True)
class EvidenceItem:
    kind: str
    """``answer``, ``link`` or ``file``."""
    id: int
    part_title: str
    title: str
    text: str = ""
    url: str = ""
    public: bool = False


@dataclass(frozen=True)
class BadgeView:
    """An award with what its pages show."""

    award: Award
    title: str
    short_description: str
    competency: str
    criteria: list[dict[str, Any]]
    organisation: Organisation
    version: CredentialVersion
    slug: str
    checks: list[Check]
    evidence: list[EvidenceItem]
    milestone_of: str | None

    @property
    def revoked(self) -> bool:
        return self.award.revoked_at is not None

    @property
    def expired(self) -> bool:
        return self.award.valid_until is not None and self.award.valid_until <= utcnow()

    @property
    def verified(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def public_evidence(self) -> list[EvidenceItem]:
        return [item for item in self.evidence if item.public]


def find(session: Session, public_id: str) -> Award:
    award = session.scalars(
        select(Award).where(Award.public_id == public_id).execution_options(**ALL)
    ).first()
    if award is None:
        raise NotFound(
            "There is no badge at this address.",
            hint="Check the link: it may have been copied incompletely.",
        )
    return award


def checks_for(
    session: Session, site: Site, award: Award, now: datetime | None = None
) -> list[Check]:
    """Check the signed credential as a verifier would, against what this server publishes."""
    now = now or utcnow()
    found: list[Check] = []
    result = proofs.verify(award.credential_json, identity.resolver(session, site))
    if result.ok:
        found.append(
            Check("Signature", True, f"Signed by {award.organisation.name}; nothing was changed.")
        )
    else:
        found.append(Check("Signature", False, result.reason))
    if award.valid_until is None:
        found.append(Check("Expiry", True, "It does not expire."))
    elif award.valid_until > now:
        found.append(Check("Expiry", True, f"Valid until {award.valid_until:%d %B %Y}."))
    else:
        found.append(Check("Expiry", False, f"It expired on {award.valid_until:%d %B %Y}."))
    if award.revoked_at is None:
        found.append(Check("Revocation", True, "The issuer has not revoked it."))
    else:
        reason = (award.revocation_reason or "").strip()
        found.append(
            Check(
                "Revocation",
                False,
                f"The issuer revoked it on {award.revoked_at:%d %B %Y}"
                + (f": {reason}" if reason else "."),
            )
        )
    return found


def evidence_of(session: Session, award: Award) -> list[EvidenceItem]:
    """The earning attempt's evidence, each marked public or not (none for a milestone)."""
    if award.attempt_id is None:
        return []
    attempt = session.get_one(Attempt, award.attempt_id, execution_options=ALL)
    titles = {p.get("key"): p.get("title", "") for p in attempt.version.content.get("parts", [])}
    chosen = {(c.get("kind"), c.get("id")) for c in award.public_evidence or []}
    items: list[EvidenceItem] = []
    for answer in session.scalars(
        select(Answer)
        .where(Answer.attempt_id == attempt.id, Answer.text != "")
        .order_by(Answer.id)
        .execution_options(**ALL)
    ):
        items.append(
            EvidenceItem(
                "answer",
                answer.id,
                titles.get(answer.part_key, answer.part_key),
                f"Written answer: {titles.get(answer.part_key, answer.part_key)}",
                text=answer.text,
                public=("answer", answer.id) in chosen,
            )
        )
    for link in session.scalars(
        select(EvidenceLink)
        .where(EvidenceLink.attempt_id == attempt.id)
        .order_by(EvidenceLink.id)
        .execution_options(**ALL)
    ):
        items.append(
            EvidenceItem(
                "link",
                link.id,
                titles.get(link.part_key, link.part_key),
                link.title,
                url=link.url,
                public=("link", link.id) in chosen,
            )
        )
    for row in session.scalars(
        select(EvidenceFile)
        .where(EvidenceFile.attempt_id == attempt.id, EvidenceFile.state == EvidenceFile.COMPLETE)
        .order_by(EvidenceFile.id)
        .execution_options(**ALL)
    ):
        items.append(
            EvidenceItem(
                "file",
                row.id,
                titles.get(row.part_key, row.part_key),
                row.name,
                public=("file", row.id) in chosen,
            )
        )
    return items


def view(session: Session, site: Site, award: Award, *, with_checks: bool = True) -> BadgeView:
    version = award.version
    content = version.content
    milestone_of = None
    if award.stack_id is not None:
        stack = session.get(Stack, award.stack_id)
        milestone_of = stack.title if stack else None
    return BadgeView(
        award=award,
        title=version.title,
        short_description=version.short_description,
        competency=str(content.get("competency", "")),
        criteria=list(content.get("criteria", [])),
        organisation=award.organisation,
        version=version,
        slug=award.credential.slug,
        checks=checks_for(session, site, award) if with_checks else [],
        evidence=evidence_of(session, award),
        milestone_of=milestone_of,
    )


def public_file(session: Session, award: Award, file_id: int) -> EvidenceFile:
    """An evidence file the earner made public on this badge."""
    if {"kind": "file", "id": file_id} not in (award.public_evidence or []):
        raise NotFound("The earner has not made this file public.")
    row = session.get(EvidenceFile, file_id, execution_options=ALL)
    if row is None or row.attempt_id != award.attempt_id or row.state != EvidenceFile.COMPLETE:
        raise NotFound("The earner has not made this file public.")
    return row


# --- the earner's ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """An earned credential whose badge is being issued."""

    title: str
    decided_at: datetime
    failed: bool


def badges_of(session: Session, user_id: int) -> list[Award]:
    return list(
        session.scalars(
            select(Award).where(Award.user_id == user_id).order_by(Award.issued_at.desc())
        )
    )


@dataclass(frozen=True)
class NameDefault:
    """An issuer, and whether its badges show the earner's name when the earner has not
    chosen."""

    organisation: str
    shown: bool


def name_defaults(session: Session) -> list[NameDefault]:
    """The issuers of published credentials, by name, with their default for names in
    badges: what "as each issuer decides" means for an educator choosing."""
    rows = session.execute(
        select(Organisation.name, Organisation.badge_name_shown)
        .where(
            Organisation.id.in_(
                select(Credential.organisation_id)
                .join(CredentialVersion, CredentialVersion.credential_id == Credential.id)
                .where(CredentialVersion.status == CredentialVersion.PUBLISHED)
            )
        )
        .order_by(Organisation.name)
    ).all()
    return [NameDefault(name, shown) for name, shown in rows]


def waiting_for(session: Session, user_id: int) -> list[Waiting]:
    """Earned decisions whose badge the processor has not issued yet."""
    rows = session.execute(
        select(CredentialVersion.title, Decision.decided_at, OutboxEvent.failed_at)
        .join(Attempt, Attempt.id == Decision.attempt_id)
        .join(CredentialVersion, CredentialVersion.id == Attempt.version_id)
        .join(
            OutboxEvent,
            (OutboxEvent.attempt_id == Attempt.id) & (OutboxEvent.kind == OutboxEvent.DECIDED),
        )
        .outerjoin(Award, Award.attempt_id == Attempt.id)
        .where(
            Attempt.user_id == user_id,
            Decision.outcome == Attempt.EARNED,
            Award.id.is_(None),
            OutboxEvent.processed_at.is_(None),
        )
        .order_by(Decision.decided_at.desc())
    ).all()
    return [Waiting(title, decided_at, failed is not None) for title, decided_at, failed in rows]


def own_award(session: Session, user_id: int, public_id: str) -> Award:
    award = session.scalars(select(Award).where(Award.public_id == public_id)).first()
    if award is None or award.user_id != user_id:
        raise NotFound(
            "You have no such badge.",
            hint="Open “My badges” to see the badges you have earned.",
        )
    return award


def choose_public_evidence(
    session: Session, user_id: int, public_id: str, chosen: list[tuple[str, int]]
) -> Award:
    """Make exactly ``chosen`` (kind, id) of the badge's evidence public."""
    award = own_award(session, user_id, public_id)
    available = {(item.kind, item.id) for item in evidence_of(session, award)}
    unknown = [pair for pair in chosen if pair not in available]
    if unknown:
        raise AppError(
            "Some of the evidence chosen is not part of this badge.",
            hint="Reload the page and choose again; nothing was changed.",
        )
    award.public_evidence = [{"kind": kind, "id": item_id} for kind, item_id in sorted(set(chosen))]
    return award


# --- OB 2.0 documents --------------------------------------------------------------------------


def ob2_issuer(session: Session, site: Site, slug: str) -> dict[str, Any]:
    return documents.ob2_issuer(site, _organisation(session, slug))


def ob2_badge_class(session: Session, site: Site, slug: str, number: int) -> dict[str, Any]:
    credential, version = _version(session, slug, number)
    return documents.ob2_badge_class(site, credential.organisation, slug, version)


def ob2_assertion(site: Site, award: Award) -> dict[str, Any]:
    return documents.ob2_assertion(
        site,
        public_id=award.public_id,
        slug=award.credential.slug,
        version_number=award.version.number,
        recipient=documents.Recipient(
            award.recipient_type, award.recipient_salt, award.recipient_hash, award.recipient_name
        ),
        issued_at=award.issued_at,
        valid_until=award.valid_until,
        evidence_narrative=str(award.credential_json.get("evidence", [{}])[0].get("narrative", "")),
    )


def baked_image(site: Site, award: Award, ext: str) -> tuple[bytes | str, str]:
    """The badge's image with the badge baked in: a PNG holding the OB 2.0 assertion and the
    OB 3.0 credential as iTXt chunks, or an SVG holding the assertion's URL and the credential;
    and its media type."""
    image = award.version.image
    if image is None:
        raise AppError(
            "This credential has no badge image, so there is no picture to download.",
            hint="Download the credential (JSON) instead; it holds everything a verifier needs.",
            status=404,
            code="no_badge_image",
        )
    credential = json.dumps(award.credential_json)
    if ext == "png":
        png = images.png_for(image.data, image.media_type)
        assertion = json.dumps(ob2_assertion(site, award))
        return images.bake_png(png, ob2=assertion, ob3=credential), "image/png"
    svg = images.svg_for(image.data, image.media_type)
    assertion_url = documents.assertion_url(site, award.public_id)
    return images.bake_svg(svg, ob2_assertion_url=assertion_url, ob3=credential), "image/svg+xml"


def achievement_page(
    session: Session, slug: str, number: int
) -> tuple[Credential, CredentialVersion]:
    """A credential version that has been published (its criteria are what badges cite)."""
    return _version(session, slug, number)


def _organisation(session: Session, slug: str) -> Organisation:
    found = session.scalars(select(Organisation).where(Organisation.slug == slug)).first()
    if found is None:
        raise NotFound(f"There is no issuer “{slug}” here.")
    return found


def _version(session: Session, slug: str, number: int) -> tuple[Credential, CredentialVersion]:
    row = session.execute(
        select(Credential, CredentialVersion)
        .join(CredentialVersion, CredentialVersion.credential_id == Credential.id)
        .where(
            Credential.slug == slug,
            CredentialVersion.number == number,
            CredentialVersion.status != CredentialVersion.DRAFT,
        )
    ).first()
    if row is None:
        raise NotFound(f"There is no published version {number} of “{slug}”.")
    return row[0], row[1]


# --- issuers -----------------------------------------------------------------------------------


def did_document(session: Session, site: Site, slug: str) -> dict[str, Any]:
    organisation = _organisation(session, slug)
    return identity.did_document(
        site, organisation, identity.published_keys(session, organisation.id)
    )


def key_document(session: Session, site: Site, slug: str, multibase: str) -> dict[str, Any]:
    organisation = _organisation(session, slug)
    key = session.scalars(
        select(IssuerKey).where(
            IssuerKey.organisation_id == organisation.id, IssuerKey.public_multibase == multibase
        )
    ).first()
    if key is None:
        raise NotFound(f"{organisation.name} has no key {multibase}.")
    return identity.key_document(site, organisation, key)


def tool_document(session: Session, site: Site) -> dict[str, Any]:
    organisations = list(session.scalars(select(Organisation).order_by(Organisation.slug)))
    return identity.tool_document(site, organisations)


def status_list(session: Session, signer: Signer, slug: str, list_id: int) -> dict[str, Any]:
    organisation = _organisation(session, slug)
    found = status.signed_list(session, signer.site, organisation, list_id, signer.cipher)
    if found is None:
        raise NotFound(f"{organisation.name} has no status list {list_id}.")
    return found


# --- revocation ----------------------------------------------------------------------------------


def require_manager(rights: Rights, award: Award) -> None:
    """Refuse unless the account may revoke the badge (an operator, or an admin of its
    issuer)."""
    if not rights.may_manage(award.organisation_id):
        raise Forbidden(
            f"Only {award.organisation.name}'s admins and the operators may revoke its badges.",
            hint="Ask an admin of the issuing organisation.",
        )


def revoke(session: Session, public_id: str, reason: str, rights: Rights) -> Award:
    """Revoke a badge: its status-list bit is set (the list is signed again when next asked
    for), its OB 2.0 assertion answers 410 Gone, its page says revoked and why."""
    reason = " ".join(reason.split())
    if not reason:
        raise RevocationRefused(
            "Say why the badge is revoked.",
            hint="The reason is shown on the badge's public page, e.g. “Evidence was not the "
            "educator's own work”.",
            status=400,
        )
    if len(reason) > 500:
        raise RevocationRefused("Keep the reason under 500 characters.", status=400)
    award = find(session, public_id)
    require_manager(rights, award)
    if award.revoked_at is not None:
        raise RevocationRefused(
            f"This badge was revoked on {award.revoked_at:%d %B %Y}.",
            hint="Nothing was changed.",
        )
    award.revoked_at = utcnow()
    award.revocation_reason = reason
    award.revoked_by = rights.actor.label
    listed = session.get_one(StatusList, award.status_list_id, with_for_update=True)
    listed.revision += 1
    audit.record(
        session,
        actor=rights.actor.label,
        operator_id=rights.actor.operator_id,
        action="badges.revoked",
        target=award.public_id,
        details={"reason": reason, "user_id": award.user_id, "credential": award.credential.slug},
    )
    return award


# --- the console ---------------------------------------------------------------------------------


def _earner_label(award: Award, user: LtiUser) -> str:
    return award.recipient_name or f"{user.display_name} (name not on the badge)"


def earner(session: Session, award: Award) -> str:
    """Whose badge it is, for the console: the name on it, or, for a badge that names nobody,
    the earner's name at their LMS marked so (an operator must know whose badge they revoke)."""
    return _earner_label(award, session.get_one(LtiUser, award.user_id, execution_options=ALL))


@dataclass(frozen=True)
class ConsoleRow:
    public_id: str
    recipient: str
    """Whose badge it is (``earner``)."""
    title: str
    organisation: str
    issued_at: datetime
    revoked_at: datetime | None
    may_revoke: bool


PAGE_SIZE = 50


def console_awards(
    session: Session, rights: Rights, *, q: str = "", page: int = 1
) -> tuple[list[ConsoleRow], int]:
    """The badges this account may see (an operator: all; an organisation's author or admin:
    its own), newest first, filtered by a name or title; and how many match."""
    query = (
        select(Award, CredentialVersion.title, Organisation.name, LtiUser)
        .join(CredentialVersion, CredentialVersion.id == Award.version_id)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .join(LtiUser, LtiUser.id == Award.user_id)
        .execution_options(**ALL)
    )
    if not rights.is_operator:
        query = query.where(Award.organisation_id.in_(list(rights.roles)))
    words = q.strip()
    if words:
        like = f"%{words.lower()}%"
        query = query.where(
            func.lower(func.coalesce(Award.recipient_name, LtiUser.name, "")).like(like)
            | func.lower(CredentialVersion.title).like(like)
            | (Award.public_id == words)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(Award.issued_at.desc(), Award.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    ).all()
    return [
        ConsoleRow(
            award.public_id,
            _earner_label(award, user),
            title,
            organisation,
            award.issued_at,
            award.revoked_at,
            rights.may_manage(award.organisation_id),
        )
        for award, title, organisation, user in rows
    ], total


@dataclass(frozen=True)
class FailedIssue:
    event_id: int
    title: str
    recipient: str
    failed_at: datetime | None
    error: str


def failed_issues(session: Session) -> list[FailedIssue]:
    """Earned decisions whose badge the processor gave up issuing (operators retry them)."""
    rows = session.execute(
        select(OutboxEvent, CredentialVersion.title, LtiUser)
        .join(Attempt, Attempt.id == OutboxEvent.attempt_id)
        .join(CredentialVersion, CredentialVersion.id == Attempt.version_id)
        .join(LtiUser, LtiUser.id == Attempt.user_id)
        .where(OutboxEvent.failed_at.is_not(None))
        .order_by(OutboxEvent.failed_at.desc())
        .execution_options(**ALL)
    ).all()
    return [
        FailedIssue(e.id, title, user.display_name, e.failed_at, e.last_error or "")
        for e, title, user in rows
    ]


def retry_failed(session: Session, rights: Rights) -> int:
    """Put every failed event back in the queue; returns how many."""
    if not rights.is_operator:
        raise Forbidden("Only operators may retry badge issuing.")
    events = session.scalars(
        select(OutboxEvent).where(OutboxEvent.failed_at.is_not(None)).execution_options(**ALL)
    ).all()
    for event in events:
        event.failed_at = None
        event.tries = 0
        event.available_at = utcnow()
    if events:
        audit.record(
            session,
            actor=rights.actor.label,
            operator_id=rights.actor.operator_id,
            action="badges.issue_retried",
            target="",
            details={"events": [e.id for e in events]},
        )
    return len(events)

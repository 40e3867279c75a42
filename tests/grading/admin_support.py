"""Builders for the review console's tests: platforms and the people they know, credentials
with a rubric, and submitted attempts with their reviews and decisions, made directly with the
models (the review flow itself is tested with the lead's services)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.catalog.models import Credential, CredentialVersion, Organisation
from app.db import get_db, utcnow
from app.evidence.models import Attempt
from app.grading.models import AssessorGrant, Decision, Review
from app.lti.models import LtiUser, Registration

CRITERIA = [
    {"key": "purpose", "part": "plan", "title": "Clear purpose", "pass_descriptor": "x"},
    {"key": "evidence", "part": "plan", "title": "Uses evidence", "pass_descriptor": "x"},
]


def add_platform(app: Flask, name: str = "District Moodle") -> tuple[int, str]:
    """Register a platform; return its id and uuid."""
    issuer = "https://" + name.lower().replace(" ", "-") + ".example"
    with get_db(app).begin() as session:
        registration = Registration(
            name=name,
            issuer=issuer,
            client_id="client",
            auth_login_url=f"{issuer}/auth",
            auth_token_url=f"{issuer}/token",
            key_set_url=f"{issuer}/jwks",
        )
        session.add(registration)
        session.flush()
        return registration.id, registration.uuid


def add_person(
    app: Flask, registration_id: int, sub: str, email: str | None = None, name: str | None = None
) -> int:
    """What a first launch leaves behind: the platform's user."""
    with get_db(app).begin() as session:
        user = LtiUser(registration_id=registration_id, sub=sub, email=email, name=name)
        session.add(user)
        session.flush()
        return user.id


def add_credential(
    app: Flask,
    organisation: str,
    slug: str,
    *,
    review: dict[str, Any] | None = None,
    criteria: list[dict[str, Any]] | None = None,
    number: int = 1,
) -> tuple[int, int]:
    """A published version ``number`` of a credential (made when missing); return the
    credential's id and the version's id."""
    content: dict[str, Any] = {"title": slug.title(), "criteria": criteria or CRITERIA}
    if review:
        content["review"] = review
    with get_db(app).begin() as session:
        credential = session.scalars(select(Credential).where(Credential.slug == slug)).first()
        if credential is None:
            organisation_id = session.scalars(
                select(Organisation.id).where(Organisation.slug == organisation)
            ).one()
            credential = Credential(slug=slug, organisation_id=organisation_id)
            session.add(credential)
            session.flush()
        version = CredentialVersion(
            credential_id=credential.id,
            number=number,
            status=CredentialVersion.PUBLISHED,
            content=content,
            title=content["title"],
            short_description="",
            tags=[],
            published_at=utcnow(),
        )
        session.add(version)
        session.flush()
        return credential.id, version.id


def add_attempt(
    app: Flask,
    registration_id: int,
    user_id: int,
    credential: tuple[int, int],
    *,
    state: str = Attempt.SUBMITTED,
    submitted_at: datetime | None = None,
    number: int = 1,
) -> int:
    """A submitted (or other) attempt; return its id."""
    with get_db(app).begin() as session:
        attempt = Attempt(
            registration_id=registration_id,
            user_id=user_id,
            credential_id=credential[0],
            version_id=credential[1],
            number=number,
            state=state,
            submitted_at=submitted_at,
        )
        session.add(attempt)
        session.flush()
        return attempt.id


def add_review(
    app: Flask,
    attempt_id: int,
    reviewer_id: int,
    round: int,
    met: dict[str, bool | None],
    *,
    outcome: str | None = None,
    state: str = Review.SUBMITTED,
) -> int:
    """A review of ``attempt_id`` judging each criterion met or not; return its id."""
    now = utcnow()
    with get_db(app).begin() as session:
        attempt = session.get(Attempt, attempt_id)
        assert attempt is not None
        if outcome is None and state == Review.SUBMITTED:
            outcome = Review.EARNED if all(met.values()) else Review.NOT_YET
        review = Review(
            registration_id=attempt.registration_id,
            attempt_id=attempt_id,
            round=round,
            reviewer_id=reviewer_id,
            state=state,
            criteria={key: {"met": value, "comment": ""} for key, value in met.items()},
            outcome=outcome,
            expires_at=now + timedelta(hours=2),
            submitted_at=now if state == Review.SUBMITTED else None,
        )
        session.add(review)
        session.flush()
        return review.id


def decide(app: Flask, attempt_id: int, review_id: int, decided_at: datetime) -> None:
    """Record the attempt's decision at ``decided_at``."""
    with get_db(app).begin() as session:
        attempt = session.get(Attempt, attempt_id)
        review = session.get(Review, review_id)
        assert attempt is not None and review is not None
        attempt.state = review.outcome or Attempt.EARNED
        attempt.decided_at = decided_at
        session.add(
            Decision(
                registration_id=attempt.registration_id,
                attempt_id=attempt_id,
                review_id=review_id,
                outcome=attempt.state,
                criteria=review.criteria,
                decided_at=decided_at,
            )
        )


def grants(app: Flask) -> list[AssessorGrant]:
    with get_db(app).begin() as session:
        rows = list(session.scalars(select(AssessorGrant).order_by(AssessorGrant.id)))
        session.expunge_all()
        return rows


def days_ago(days: float, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=days)

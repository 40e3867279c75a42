"""Builders for the badge tests: the sample catalog, an educator on a platform, and an earned
(or not yet) decision written as the review service writes it — the decision and its outbox
event in one transaction — so that the processor issues from it as it would in production."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.badges.models import Award
from app.badges.processing import build
from app.catalog.exchange import import_catalog
from app.catalog.models import Credential, CredentialVersion
from app.db import get_db
from app.evidence.models import Answer, Attempt, EvidenceLink
from app.grading import outbox
from app.lti.models import LtiUser, Registration
from app.outbox.processing import Processor, Settings
from tests.evidence.support import record_decision

SAMPLE = Path(__file__).parents[2] / "app" / "catalog" / "sample" / "catalog.json"
QUESTIONING = "questioning-to-check-for-understanding"
EMAIL = "ana.teacher@example.edu"


def load_sample(app: Flask) -> None:
    """Import the sample catalog (two issuers, ten credentials, a stack with a milestone)."""
    with get_db(app).begin() as session:
        if session.scalar(select(Credential.id).limit(1)) is None:
            import_catalog(session, json.loads(SAMPLE.read_text()))


def add_educator(
    app: Flask,
    *,
    email: str | None = EMAIL,
    name: str = "Ana Teacher",
    sub: str = "educator-1",
    platform: str = "Lakemont Moodle",
) -> tuple[int, int]:
    """A platform and one of its users (as a first launch leaves them); return their ids."""
    issuer = "https://" + platform.lower().replace(" ", "-") + ".example"
    with get_db(app).begin() as session:
        registration = session.scalars(
            select(Registration).where(Registration.issuer == issuer)
        ).first()
        if registration is None:
            registration = Registration(
                name=platform,
                issuer=issuer,
                client_id="client",
                auth_login_url=f"{issuer}/auth",
                auth_token_url=f"{issuer}/token",
                key_set_url=f"{issuer}/jwks",
            )
            session.add(registration)
            session.flush()
        user = LtiUser(registration_id=registration.id, sub=sub, email=email, name=name)
        session.add(user)
        session.flush()
        return registration.id, user.id


def decide_attempt(
    app: Flask, user_id: int, slug: str = QUESTIONING, *, earned: bool = True
) -> int:
    """A submitted attempt with an answer and a link in its first part, decided earned (every
    criterion met) or not yet, with the outbox event the review service writes; return the
    attempt id."""
    with get_db(app).begin() as session:
        user = session.get_one(LtiUser, user_id)
        credential = session.scalars(select(Credential).where(Credential.slug == slug)).one()
        version = session.scalars(
            select(CredentialVersion)
            .where(
                CredentialVersion.credential_id == credential.id,
                CredentialVersion.status == CredentialVersion.PUBLISHED,
            )
            .order_by(CredentialVersion.number.desc())
        ).first()
        assert version is not None
        number = 1 + len(
            session.scalars(
                select(Attempt.id).where(
                    Attempt.user_id == user.id, Attempt.credential_id == credential.id
                )
            ).all()
        )
        attempt = Attempt(
            registration_id=user.registration_id,
            user_id=user.id,
            credential_id=credential.id,
            version_id=version.id,
            number=number,
            state=Attempt.IN_REVIEW,
        )
        session.add(attempt)
        session.flush()
        part = version.content["parts"][0]["key"]
        session.add(
            Answer(
                registration_id=user.registration_id,
                attempt_id=attempt.id,
                part_key=part,
                text="My Year 7 class answered a hinge question on equivalent fractions.",
            )
        )
        session.add(
            EvidenceLink(
                registration_id=user.registration_id,
                attempt_id=attempt.id,
                part_key=part,
                url="https://video.example.edu/lesson-12",
                title="Lesson video",
            )
        )
        criteria = {
            c["key"]: {"met": earned or i > 0, "comment": ""}
            for i, c in enumerate(version.content["criteria"])
        }
        outcome = Attempt.EARNED if earned else Attempt.NOT_YET
        decision = record_decision(session, attempt, outcome, criteria)
        outbox.record(
            session,
            attempt,
            outbox.DECIDED,
            {
                "decision_id": decision.id,
                "outcome": outcome,
                "criteria_met": sum(1 for c in criteria.values() if c["met"]),
                "criteria_total": len(criteria),
                "decided_at": decision.decided_at.isoformat(),
                "feedback": "",
            },
        )
        return attempt.id


def process(app: Flask, **settings: Any) -> Processor:
    """Run the badge processor until nothing is due; return it (its counters)."""
    processor = build(app)
    if settings:
        processor.settings = Settings(**settings)
    processor.run(until_idle=True)
    return processor


def awards(app: Flask, **where: Any) -> list[Award]:
    with get_db(app).begin() as session:
        query = (
            select(Award)
            .options(selectinload(Award.credential))
            .execution_options(all_platforms=True)
            .order_by(Award.id)
        )
        for name, value in where.items():
            query = query.where(getattr(Award, name) == value)
        return list(session.scalars(query))


def earn(app: Flask, slug: str = QUESTIONING, **educator: Any) -> Award:
    """Load the sample, make an educator, earn ``slug`` and issue it; return the award."""
    load_sample(app)
    _registration, user_id = add_educator(app, **educator)
    attempt_id = decide_attempt(app, user_id, slug)
    process(app)
    (award,) = awards(app, attempt_id=attempt_id)
    return award

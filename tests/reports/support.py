"""A small world for the outcome reports, every figure of which is counted by hand in the tests:
two organisations, two platforms with a course each, three credentials (one in a second
version), a stack, five educators and their attempts at fixed dates of early 2025.

Made directly with the models: the flows that make attempts and decisions are tested with
their own features; here what matters is which dates and states the reports count.

| # | who | credential (version) | platform, course | begun | submitted | decided | state |
|---|-----|----------------------|------------------|-------|-----------|---------|-------|
| 1 | Ann | questioning v1 | Moodle, Grade 5 Science | 01-05 | 01-10 | 01-15 | earned |
| 2 | Ben | questioning v1 | Moodle, Grade 5 Science | 01-06 | 01-08 | 01-12 | not yet (evidence) |
| 3 | Ben | questioning v2 | Moodle, Grade 5 Science | 02-01 | 02-03 | 02-05 | earned |
| 4 | Cat | feedback v1 | Moodle, the catalog | 02-10 | | | draft |
| 5 | Dan | questioning v1 | Canvas, Algebra I | 02-02 | 02-12 | | in review |
| 6 | Eve | river v1 | Canvas, Algebra I | 01-20 | 01-21 | 03-01 | earned |
| 7 | Eve | feedback v1 | Canvas, Algebra I | 03-03 | 03-04 | 03-10 | not yet (specific) |
| 8 | Ann | feedback v1 | Moodle, the catalog | 2024-12-20 | | | draft |

Credit: questioning v1 8 CEU clock hours, v2 none; feedback 10 CEU clock hours; river 3 PD
hours. The stack "Assessment for learning" (Lakemont) holds questioning and feedback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.catalog.models import Credential, CredentialVersion, Organisation, Stack, StackItem
from app.db import get_db
from app.evidence.models import Attempt
from app.grading.models import Decision, Review
from app.lti.models import Deployment, LtiContext, LtiResourceLink, LtiUser, Registration
from tests.catalog.authoring_support import add_organisation

QUESTIONING = [
    {"key": "purpose", "part": "plan", "title": "Clear purpose", "pass_descriptor": "x"},
    {"key": "evidence", "part": "plan", "title": "Uses evidence", "pass_descriptor": "x"},
]
FEEDBACK = [
    {"key": "timely", "part": "plan", "title": "Timely feedback", "pass_descriptor": "x"},
    {"key": "specific", "part": "plan", "title": "Specific feedback", "pass_descriptor": "x"},
]


def at(month: int, day: int, year: int = 2025) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


@dataclass
class World:
    organisations: dict[str, int]
    platforms: dict[str, tuple[int, str]]
    """Name → (id, uuid)."""
    links: dict[str, int]
    people: dict[str, int]
    versions: dict[str, tuple[int, int]]
    """``slug-vN`` → (credential id, version id)."""


def add_platform(session: Any, name: str) -> Registration:
    issuer = "https://" + name.lower().replace(" ", "-") + ".example"
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
    return registration


def add_course(session: Any, registration_id: int, title: str, link: str) -> int:
    """A deployment, a course and one link in it; return the link's id."""
    deployment = Deployment(registration_id=registration_id, deployment_id=f"d-{link}")
    session.add(deployment)
    session.flush()
    context = LtiContext(
        registration_id=registration_id,
        deployment_id=deployment.id,
        context_id=f"c-{link}",
        title=title,
    )
    session.add(context)
    session.flush()
    row = LtiResourceLink(registration_id=registration_id, context_id=context.id,
                          resource_link_id=link, title=link)  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def add_version(
    session: Any,
    organisation_id: int,
    slug: str,
    title: str,
    criteria: list[dict[str, Any]],
    credit: tuple[float, str] | None,
    number: int = 1,
) -> tuple[int, int]:
    credential = session.scalars(select(Credential).where(Credential.slug == slug)).first()
    if credential is None:
        credential = Credential(slug=slug, organisation_id=organisation_id)
        session.add(credential)
        session.flush()
    content: dict[str, Any] = {"title": title, "criteria": criteria}
    if credit:
        content["credit"] = {"amount": credit[0], "unit": credit[1]}
    version = CredentialVersion(
        credential_id=credential.id,
        number=number,
        status=CredentialVersion.PUBLISHED,
        content=content,
        title=title,
        short_description="",
        tags=[],
        published_at=at(1, 1, 2024),
    )
    session.add(version)
    session.flush()
    return credential.id, version.id


def add_attempt(
    session: Any,
    world: World,
    person: str,
    version: str,
    *,
    number: int = 1,
    link: str | None = None,
    begun: datetime,
    submitted: datetime | None = None,
    decided: datetime | None = None,
    met: dict[str, bool] | None = None,
    state: str | None = None,
) -> int:
    """An attempt; with ``decided`` and ``met``, its review and decision (earned if every
    criterion is met)."""
    user_id = world.people[person]
    user = session.get(LtiUser, user_id)
    credential_id, version_id = world.versions[version]
    outcome = None
    if decided is not None:
        assert met is not None
        outcome = Attempt.EARNED if all(met.values()) else Attempt.NOT_YET
    attempt = Attempt(
        registration_id=user.registration_id,
        user_id=user_id,
        credential_id=credential_id,
        version_id=version_id,
        number=number,
        state=outcome or state or (Attempt.SUBMITTED if submitted else Attempt.DRAFT),
        started_resource_link_id=world.links[link] if link else None,
        created_at=begun,
        updated_at=submitted or begun,
        submitted_at=submitted,
        decided_at=decided,
    )
    session.add(attempt)
    session.flush()
    if decided is not None and met is not None:
        criteria = {key: {"met": value, "comment": ""} for key, value in met.items()}
        review = Review(
            registration_id=attempt.registration_id,
            attempt_id=attempt.id,
            round=Review.FIRST,
            reviewer_id=world.people["rita"],
            state=Review.SUBMITTED,
            criteria=criteria,
            outcome=outcome,
            claimed_at=decided,
            expires_at=decided,
            submitted_at=decided,
        )
        session.add(review)
        session.flush()
        session.add(
            Decision(
                registration_id=attempt.registration_id,
                attempt_id=attempt.id,
                review_id=review.id,
                outcome=outcome,
                criteria=criteria,
                decided_at=decided,
            )
        )
    return attempt.id


def build_world(app: Flask) -> World:
    organisations = {
        "lakemont": add_organisation(app, "lakemont", "Lakemont Institute"),
        "riverbend": add_organisation(app, "riverbend", "Riverbend Network"),
    }
    with get_db(app).begin() as session:
        moodle = add_platform(session, "District Moodle")
        canvas = add_platform(session, "State Canvas")
        world = World(
            organisations=organisations,
            platforms={p.name: (p.id, p.uuid) for p in (moodle, canvas)},
            links={
                "science": add_course(session, moodle.id, "Grade 5 Science", "science"),
                "algebra": add_course(session, canvas.id, "Algebra I", "algebra"),
            },
            people={},
            versions={},
        )
        for platform, sub, name in (
            (moodle, "ann", "Ann Archer"),
            (moodle, "ben", "Ben Brook"),
            (moodle, "cat", "Cat Cole"),
            (canvas, "dan", "Dan Dale"),
            (canvas, "eve", "Eve Evans"),
            (moodle, "rita", "Rita Reviewer"),
        ):
            user = LtiUser(registration_id=platform.id, sub=sub, name=name,
                           email=f"{sub}@schools.example")  # fmt: skip
            session.add(user)
            session.flush()
            world.people[sub] = user.id
        lakemont, riverbend = organisations["lakemont"], organisations["riverbend"]
        world.versions = {
            "questioning-v1": add_version(session, lakemont, "questioning", "Questioning",
                                          QUESTIONING, (8, "CEU clock hours")),
            "questioning-v2": add_version(session, lakemont, "questioning", "Questioning",
                                          QUESTIONING, None, number=2),
            "feedback-v1": add_version(session, lakemont, "feedback", "Feedback", FEEDBACK,
                                       (10, "CEU clock hours")),
            "river-v1": add_version(session, riverbend, "river", "River", QUESTIONING,
                                    (3, "PD hours")),
        }  # fmt: skip
        stack = Stack(slug="assessment", organisation_id=lakemont, title="Assessment for learning")
        session.add(stack)
        session.flush()
        for position, version in enumerate(("questioning-v1", "feedback-v1")):
            session.add(StackItem(stack_id=stack.id, credential_id=world.versions[version][0],
                                  position=position))  # fmt: skip
        both = {"purpose": True, "evidence": True}
        add_attempt(session, world, "ann", "questioning-v1", link="science", begun=at(1, 5),
                    submitted=at(1, 10), decided=at(1, 15), met=both)  # fmt: skip
        add_attempt(session, world, "ben", "questioning-v1", link="science", begun=at(1, 6),
                    submitted=at(1, 8), decided=at(1, 12),
                    met={"purpose": True, "evidence": False})  # fmt: skip
        add_attempt(session, world, "ben", "questioning-v2", number=2, link="science",
                    begun=at(2, 1), submitted=at(2, 3), decided=at(2, 5), met=both)  # fmt: skip
        add_attempt(session, world, "cat", "feedback-v1", begun=at(2, 10))
        add_attempt(session, world, "dan", "questioning-v1", link="algebra", begun=at(2, 2),
                    submitted=at(2, 12), state=Attempt.IN_REVIEW)  # fmt: skip
        add_attempt(session, world, "eve", "river-v1", link="algebra", begun=at(1, 20),
                    submitted=at(1, 21), decided=at(3, 1), met=both)  # fmt: skip
        add_attempt(session, world, "eve", "feedback-v1", link="algebra", begun=at(3, 3),
                    submitted=at(3, 4), decided=at(3, 10),
                    met={"timely": True, "specific": False})  # fmt: skip
        add_attempt(session, world, "ann", "feedback-v1", begun=at(12, 20, 2024))
    return world


def organisation_id(app: Flask, slug: str) -> int:
    with get_db(app).begin() as session:
        return session.scalars(select(Organisation.id).where(Organisation.slug == slug)).one()

"""Generate review data for bench/review.py: courses, educators and submitted attempts.

On a database with the schema, the development LMS's demo and the sample catalog (``seed``),
``generate`` adds courses ``start`` to ``stop - 1``, each:

- in the development LMS: a course (``context_id`` ``bench-course-NNNNN``), an instructor
  enrolled in it (``sub`` ``bench-instructor-N``) and a link to one of the sample catalog's
  credentials (course N → credential N mod 10, so both organisations and every credential);
- in the tool, as the launches of those would leave them: the course (``lti_context``, on the
  development LMS's registration and deployment), its link (``lti_resource_link``) bound to
  the credential (``linking_linked_credential``), the instructor (``lti_user``, same ``sub``);
- ``per_course`` educators (``lti_user``), each with a visit to the course's link
  (``linking_link_visit``) and attempt 1 at its credential, submitted at a random time in the
  last 60 days, with a text answer (about 600 characters) for the version's first text part.

One submission in ten is ``in_review`` with a claim (round 1) by the course's instructor, half
of those claims expired; one in twenty is decided (``earned`` or ``not_yet``: a submitted
review and a decision). The rest wait in state ``submitted``.

A real launch of course N's instructor through the development LMS therefore lands on the
tool's rows for that course (the launch upserts them by the same keys) and sees its
``per_course`` submissions in the review queue.

Rows go in with SQLAlchemy Core, executemany in batches (``INSERT … RETURNING`` in parameter
order where the ids are needed). 100 000 submissions take a few minutes on PostgreSQL.

    .venv/bin/python bench/review_data.py --database-url postgresql+psycopg://…/db \\
        [--courses 1000] [--per-course 100] [--start 0]

``--tool-url`` and ``--devlms-url`` (default: the configured origins) are the origins the
development LMS is registered for (``seed``).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, insert, select, text

ROOT = Path(__file__).resolve().parent.parent

BATCH = 5000
DAYS = 60
COURSE = "bench-course-{:05d}"
LINK = "bench-link-{:05d}"
INSTRUCTOR = "bench-instructor-{}"
ANSWER = (
    "My class of 28 worked on the hinge question about equivalent fractions. Students answered "
    "on mini whiteboards; eleven chose B, which shows they compare numerators only. I regrouped "
    "them for a short number line task while the others moved on to the extension. "
) * 3


@dataclass(frozen=True)
class Target:
    """What the generated rows attach to: the development LMS's registration and its tool."""

    registration_id: int
    deployment_id: int
    """The tool's ``lti_deployment.id`` for the LMS's deployment."""
    dev_tool_id: int
    credentials: Sequence[tuple[int, str, int, str, str]]
    """(credential id, slug, latest published version id, first text part, title), by slug."""


def seed(app: Any) -> None:
    """Migrate, register the development LMS with its demo course and import the sample catalog
    (each idempotent)."""
    from app import migrate
    from app.catalog.cli import seed_sample_catalog
    from app.db import get_db
    from app.devlms.seed import seed_demo

    settings = app.config["MICROCRED_SETTINGS"]
    migrate.upgrade(settings.database_url)
    with get_db(app).begin() as session:
        seed_demo(session, settings)
        seed_sample_catalog(session)


def _target(connection: Connection) -> Target:
    from app.catalog.models import Credential, CredentialVersion
    from app.devlms.models import DevTool
    from app.lti.models import Deployment, Registration

    tool_id, client_id, deployment = connection.execute(
        select(DevTool.id, DevTool.client_id, DevTool.deployment_id).order_by(DevTool.id)
    ).first() or (None, None, None)
    if tool_id is None:
        raise SystemExit("no tool in the development LMS: seed the demo first")
    registration_id = connection.scalar(
        select(Registration.id).where(Registration.client_id == client_id)
    )
    deployment_id = connection.scalar(
        select(Deployment.id).where(
            Deployment.registration_id == registration_id,
            Deployment.deployment_id == deployment,
        )
    )
    if registration_id is None or deployment_id is None:
        raise SystemExit("the development LMS is not registered in the tool: seed the demo")
    credentials = []
    for credential_id, slug in connection.execute(
        select(Credential.id, Credential.slug).order_by(Credential.slug)
    ):
        version_id, content, title = connection.execute(
            select(CredentialVersion.id, CredentialVersion.content, CredentialVersion.title)
            .where(
                CredentialVersion.credential_id == credential_id,
                CredentialVersion.status != CredentialVersion.DRAFT,
            )
            .order_by(CredentialVersion.number.desc())
        ).first() or (None, None, None)
        if version_id is None:
            continue
        part = next(
            p["key"] for p in content["parts"] if "text" in p.get("evidence_kinds", ["text"])
        )
        credentials.append((credential_id, slug, version_id, part, title))
    if not credentials:
        raise SystemExit("no published credential: import the sample catalog first")
    return Target(registration_id, deployment_id, tool_id, credentials)


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in batches; return their new ids in the same order."""
    ids: list[int] = []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    for batch in _batches(rows):
        ids.extend(connection.scalars(statement, batch))
    return ids


def _insert_only(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        connection.execute(insert(table), batch)


def generate(
    engine: Engine | str, start: int, stop: int, *, per_course: int = 100, seed_value: int = 9
) -> dict[str, int]:
    """Add courses ``start`` to ``stop - 1`` with ``per_course`` submissions each (see the
    module's docstring); return how many rows of each kind were added."""
    from app.db import utcnow
    from app.devlms.models import DevCourse, DevEnrolment, DevLink, DevUser
    from app.evidence.models import Answer, Attempt
    from app.grading.models import Decision, Review
    from app.linking.models import LinkedCredential, LinkVisit
    from app.lti.models import LtiContext, LtiResourceLink, LtiUser

    owned = isinstance(engine, str)
    bind = create_engine(engine) if isinstance(engine, str) else engine
    rng = random.Random(seed_value * 1_000_003 + start)
    now = utcnow()
    counts: dict[str, int] = {}
    try:
        with bind.begin() as connection:
            target = _target(connection)
            reg = target.registration_id
            courses = range(start, stop)
            credential = {n: target.credentials[n % len(target.credentials)] for n in courses}

            # The development LMS: courses, instructors, enrolments, links.
            dev_courses = _insert(
                connection,
                DevCourse.__table__,
                [
                    {
                        "title": f"Bench course {n}",
                        "label": f"BENCH-{n}",
                        "context_id": COURSE.format(n),
                    }
                    for n in courses
                ],
            )
            dev_users = _insert(
                connection,
                DevUser.__table__,
                [
                    {
                        "sub": INSTRUCTOR.format(n),
                        "given_name": "Bench",
                        "family_name": f"Instructor {n}",
                        "email": f"instructor{n}@bench.example.edu",
                    }
                    for n in courses
                ],
            )
            _insert_only(
                connection,
                DevEnrolment.__table__,
                [
                    {"course_id": c, "user_id": u, "role": "Instructor"}
                    for c, u in zip(dev_courses, dev_users, strict=True)
                ],
            )
            _insert_only(
                connection,
                DevLink.__table__,
                [
                    {
                        "course_id": c,
                        "tool_id": target.dev_tool_id,
                        "resource_link_id": LINK.format(n),
                        "title": f"Micro-credential: {credential[n][4]}",
                        "placement": "link",
                        "custom": {
                            "microcred_credential": credential[n][1],
                            "microcred_version": "latest",
                        },
                        "created_at": now,
                    }
                    for n, c in zip(courses, dev_courses, strict=True)
                ],
            )

            # The tool: what the launches of those would have stored.
            instructors = _insert(
                connection,
                LtiUser.__table__,
                [
                    {
                        "registration_id": reg,
                        "sub": INSTRUCTOR.format(n),
                        "name": f"Bench Instructor {n}",
                        "given_name": "Bench",
                        "family_name": f"Instructor {n}",
                        "email": f"instructor{n}@bench.example.edu",
                        "updated_at": now,
                    }
                    for n in courses
                ],
            )
            contexts = _insert(
                connection,
                LtiContext.__table__,
                [
                    {
                        "registration_id": reg,
                        "deployment_id": target.deployment_id,
                        "context_id": COURSE.format(n),
                        "title": f"Bench course {n}",
                        "label": f"BENCH-{n}",
                        "updated_at": now,
                    }
                    for n in courses
                ],
            )
            links = _insert(
                connection,
                LtiResourceLink.__table__,
                [
                    {
                        "registration_id": reg,
                        "context_id": context,
                        "resource_link_id": LINK.format(n),
                        "title": f"Micro-credential: {credential[n][4]}",
                        "updated_at": now,
                    }
                    for n, context in zip(courses, contexts, strict=True)
                ],
            )
            _insert_only(
                connection,
                LinkedCredential.__table__,
                [
                    {
                        "registration_id": reg,
                        "resource_link_id": link,
                        "credential_id": credential[n][0],
                        "version_number": None,
                        "source": LinkedCredential.CUSTOM,
                        "bound_at": now,
                    }
                    for n, link in zip(courses, links, strict=True)
                ],
            )
            counts["courses"] = len(contexts)

            # Educators, their visits and their submitted attempts, course by course.
            educator_rows = [
                {
                    "registration_id": reg,
                    "sub": f"bench-educator-{n}-{k}",
                    "name": f"Educator {k} of course {n}",
                    "given_name": "Educator",
                    "family_name": f"{n}-{k}",
                    "email": f"educator{n}.{k}@bench.example.edu",
                    "updated_at": now,
                }
                for n in courses
                for k in range(per_course)
            ]
            educators = _insert(connection, LtiUser.__table__, educator_rows)
            counts["educators"] = len(educators)
            owner = [
                (n, link, instructor)
                for n, link, instructor in zip(courses, links, instructors, strict=True)
                for _ in range(per_course)
            ]
            _insert_only(
                connection,
                LinkVisit.__table__,
                [
                    {
                        "registration_id": reg,
                        "resource_link_id": link,
                        "user_id": user,
                        "roles": "Learner",
                        "first_seen_at": now - timedelta(days=DAYS + 5),
                        "last_seen_at": now - timedelta(days=1),
                    }
                    for (_, link, _), user in zip(owner, educators, strict=True)
                ],
            )
            fates = []
            attempt_rows = []
            for (n, link, _), user in zip(owner, educators, strict=True):
                submitted = now - timedelta(seconds=rng.uniform(3600, DAYS * 86400))
                roll = rng.random()
                fate = "decided" if roll < 0.05 else "claimed" if roll < 0.15 else "waiting"
                fates.append((fate, submitted))
                state = {
                    "decided": rng.choice((Attempt.EARNED, Attempt.NOT_YET)),
                    "claimed": Attempt.IN_REVIEW,
                    "waiting": Attempt.SUBMITTED,
                }[fate]
                attempt_rows.append(
                    {
                        "registration_id": reg,
                        "user_id": user,
                        "credential_id": credential[n][0],
                        "version_id": credential[n][2],
                        "number": 1,
                        "state": state,
                        "changes_note": "",
                        "started_resource_link_id": link,
                        "created_at": submitted - timedelta(days=rng.uniform(1, 20)),
                        "updated_at": submitted,
                        "submitted_at": submitted,
                        "decided_at": submitted + timedelta(hours=rng.uniform(1, 72))
                        if fate == "decided"
                        else None,
                    }
                )
            attempts = _insert(connection, Attempt.__table__, attempt_rows)
            counts["attempts"] = len(attempts)
            _insert_only(
                connection,
                Answer.__table__,
                [
                    {
                        "registration_id": reg,
                        "attempt_id": attempt,
                        "part_key": credential[n][3],
                        "text": ANSWER,
                        "version": 3,
                        "saved_at": row["submitted_at"],
                    }
                    for (n, _, _), attempt, row in zip(owner, attempts, attempt_rows, strict=True)
                ],
            )

            # Reviews: claims (half expired) and decided submissions.
            review_rows = []
            decided = []
            for (_, _, instructor), attempt, row, (fate, submitted) in zip(
                owner, attempts, attempt_rows, fates, strict=True
            ):
                if fate == "waiting":
                    continue
                claimed = submitted + timedelta(hours=rng.uniform(0.5, 48))
                if fate == "claimed":
                    claimed = min(claimed, now - timedelta(minutes=5))
                    live = rng.random() < 0.5
                    review_rows.append(
                        {
                            "registration_id": reg,
                            "attempt_id": attempt,
                            "round": Review.FIRST,
                            "reviewer_id": instructor,
                            "state": Review.CLAIMED,
                            "criteria": {},
                            "feedback": "",
                            "outcome": None,
                            "version": 2,
                            "claimed_at": claimed,
                            "expires_at": now + timedelta(hours=6)
                            if live
                            else claimed + timedelta(hours=1),
                            "updated_at": claimed,
                            "submitted_at": None,
                        }
                    )
                else:
                    outcome = Review.EARNED if row["state"] == Attempt.EARNED else Review.NOT_YET
                    review_rows.append(
                        {
                            "registration_id": reg,
                            "attempt_id": attempt,
                            "round": Review.FIRST,
                            "reviewer_id": instructor,
                            "state": Review.SUBMITTED,
                            "criteria": {},
                            "feedback": "Thank you.",
                            "outcome": outcome,
                            "version": 4,
                            "claimed_at": claimed,
                            "expires_at": claimed + timedelta(hours=1),
                            "updated_at": row["decided_at"],
                            "submitted_at": row["decided_at"],
                        }
                    )
                    decided.append((attempt, outcome, row["decided_at"]))
            reviews = _insert(connection, Review.__table__, review_rows)
            by_attempt = {r["attempt_id"]: rid for r, rid in zip(review_rows, reviews, strict=True)}
            _insert_only(
                connection,
                Decision.__table__,
                [
                    {
                        "registration_id": reg,
                        "attempt_id": attempt,
                        "review_id": by_attempt[attempt],
                        "outcome": outcome,
                        "criteria": {},
                        "feedback": "Thank you.",
                        "decided_at": at,
                    }
                    for attempt, outcome, at in decided
                ],
            )
            counts["reviews"] = len(reviews)
            counts["decisions"] = len(decided)
        if bind.dialect.name == "postgresql":
            with bind.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    finally:
        if owned:
            bind.dispose()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--courses", type=int, default=1000, help="add courses up to this number")
    parser.add_argument("--start", type=int, default=0, help="the first course's number")
    parser.add_argument("--per-course", type=int, default=100)
    parser.add_argument("--tool-url", help="the tool's origin (default: the configured one)")
    parser.add_argument("--devlms-url", help="the LMS's origin (default: the configured one)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from app import create_app
    from app.db import get_db

    config = {"MICROCRED_DATABASE_URL": args.database_url, "MICROCRED_LOG_LEVEL": "WARNING"}
    if args.tool_url:
        config["MICROCRED_BASE_URL"] = args.tool_url
    if args.devlms_url:
        config["MICROCRED_DEVLMS_URL"] = args.devlms_url
    app = create_app(config)
    seed(app)
    started = time.perf_counter()
    counts = generate(get_db(app).engine, args.start, args.courses, per_course=args.per_course)
    print(f"added in {time.perf_counter() - started:.0f} s: {counts}")


if __name__ == "__main__":
    main()

"""Each report's page and CSV send as many SQL statements with many educators, courses, months
and decisions as with the eight attempts of the hand-counted world (issue 24 parts 1 and 5):
the tallies come back grouped, and names are read for all the groups at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from app.db import get_db
from app.evidence.models import Attempt
from app.lti.models import LtiUser
from tests.catalog.authoring_support import account
from tests.reports.support import add_attempt, add_course, at, build_world

PATHS = {
    f"{name}{suffix}{label}": (f"/admin/reports/{name}{suffix}", args)
    for name in ("outcomes", "hours", "criteria", "timing")
    for suffix in ("", ".csv")
    for label, args in (("", {}), (", filtered", {"from": "2025-01-01", "stack": "assessment"}))
} | {
    f"{name} by {by}": (f"/admin/reports/{name}", {"by": by})
    for name in ("outcomes", "timing")
    for by in ("organisation", "platform", "course", "stack", "month")
}


@contextmanager
def counting(app: Flask) -> Iterator[list[int]]:
    sent = [0]

    def count(*_args: Any) -> None:
        sent[0] += 1

    engine = get_db(app).engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements(app: Flask, client: FlaskClient) -> dict[str, int]:
    """Statements each request sends, after one warm-up of its kind."""
    counts = {}
    with counting(app) as sent:
        for kind, (path, args) in PATHS.items():
            for _ in range(2):
                sent[0] = 0
                response = client.get(path, query_string=args)
                assert response.status_code == 200, (kind, response.status_code)
            counts[kind] = sent[0]
    return counts


def test_report_statements_do_not_grow_with_the_data(app):
    world = build_world(app)
    operator = account(app, "olive@example.org", operator=True)
    small = statements(app, operator)
    with get_db(app).begin() as session:
        moodle = world.platforms["District Moodle"][0]
        for course in range(12):
            world.links[f"course-{course}"] = add_course(
                session, moodle, f"Course {course}", f"course-{course}"
            )
        for n in range(120):
            user = LtiUser(registration_id=moodle, sub=f"many-{n}", name=f"Educator {n}")
            session.add(user)
            session.flush()
            world.people[f"many-{n}"] = user.id
            version = ("questioning-v1", "feedback-v1", "river-v1")[n % 3]
            month, day = 1 + n % 11, 1 + n % 20
            common: dict[str, Any] = {"link": f"course-{n % 12}", "begun": at(month, day)}
            if n % 4 == 0:
                add_attempt(session, world, f"many-{n}", version, **common)
            elif n % 4 == 1:
                add_attempt(session, world, f"many-{n}", version, submitted=at(month, day + 2),
                            state=Attempt.SUBMITTED, **common)  # fmt: skip
            else:
                keys = (
                    ("timely", "specific") if version == "feedback-v1" else ("purpose", "evidence")
                )
                met = {keys[0]: True, keys[1]: n % 4 == 2}
                add_attempt(session, world, f"many-{n}", version, submitted=at(month, day + 2),
                            decided=at(month, day + 5), met=met, **common)  # fmt: skip
    large = statements(app, operator)
    assert small == large
    assert max(large.values()) <= 10, large

"""Turnaround per organisation (issue 9): what waits now and what is overdue against the
version's or the organisation's target, and how long the last 90 days' decisions took."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, update

from app.catalog.models import Organisation
from app.db import get_db, utcnow
from app.evidence.models import Attempt
from app.grading.models import Review
from app.grading.turnaround import percentile, turnaround
from tests.catalog.authoring_support import add_organisation
from tests.grading.admin_support import (
    add_attempt,
    add_credential,
    add_person,
    add_platform,
    add_review,
    days_ago,
    decide,
)

NOW = utcnow()


def _waiting(app, platform, credential, age_days: float, state: str = Attempt.SUBMITTED) -> int:
    person = add_person(app, platform, f"educator-{age_days}-{state}-{credential[1]}")
    return add_attempt(app, platform, person, credential, state=state,
                       submitted_at=days_ago(age_days, NOW))  # fmt: skip


def _decided(app, platform, credential, reviewer, submitted: float, took: float) -> None:
    attempt = _waiting(app, platform, credential, submitted)
    review = add_review(app, attempt, reviewer, Review.FIRST, {"purpose": True})
    decide(app, attempt, review, days_ago(submitted - took, NOW))


@pytest.fixture
def data(app):
    lakemont = add_organisation(app, "lakemont", "Lakemont Institute")
    add_organisation(app, "riverbend", "Riverbend Network")
    add_organisation(app, "quiet", "A quiet organisation")
    with get_db(app).begin() as session:
        session.execute(
            update(Organisation).where(Organisation.id == lakemont).values(turnaround_days=10)
        )
    moodle, _ = add_platform(app, "District Moodle")
    canvas, _ = add_platform(app, "State Canvas")
    reviewer = add_person(app, moodle, "reviewer")
    own_target = add_credential(app, "lakemont", "quick", review={"turnaround_days": 3})
    org_target = add_credential(app, "lakemont", "slow")
    river = add_credential(app, "riverbend", "river")
    # Lakemont waits: 5 days on a 3-day credential (overdue), 5 and 12 days on the
    # organisation's 10 (one overdue), one in review from the other platform at 2 days.
    _waiting(app, moodle, own_target, 5)
    _waiting(app, moodle, org_target, 5)
    _waiting(app, canvas, org_target, 12)
    _waiting(app, canvas, own_target, 2, Attempt.IN_REVIEW)
    # Not waiting: a draft and a decided attempt.
    add_attempt(app, moodle, add_person(app, moodle, "drafting"), org_target, state=Attempt.DRAFT)
    # Lakemont decisions in the window took 1, 2, 3, 4 and 10 days; one older is left out.
    for n, took in enumerate((1, 2, 3, 4, 10)):
        _decided(app, moodle if n % 2 else canvas, org_target, reviewer, 20 + n, took)
    _decided(app, moodle, org_target, reviewer, 200, 1)
    # Riverbend: one 20-day wait on the default 14; one decision in 7 days.
    _waiting(app, canvas, river, 20)
    _decided(app, canvas, river, reviewer, 30, 7)
    return {"moodle": moodle, "canvas": canvas, "reviewer": reviewer}


def test_turnaround_per_organisation(app, data):
    with get_db(app).begin() as session:
        rows = {r.slug: r for r in turnaround(session, NOW)}
    assert list(rows) == ["quiet", "lakemont", "riverbend"]  # by name
    lakemont = rows["lakemont"]
    assert (lakemont.target_days, lakemont.waiting, lakemont.overdue) == (10, 4, 2)
    assert lakemont.oldest_waiting_days == pytest.approx(12)
    assert lakemont.decided == 5
    assert lakemont.median_days == pytest.approx(3)
    # 90th percentile of 1, 2, 3, 4, 10 by linear interpolation: 4 + 0.6 * (10 - 4).
    assert lakemont.p90_days == pytest.approx(7.6)
    river = rows["riverbend"]
    assert (river.target_days, river.waiting, river.overdue, river.decided) == (14, 1, 1, 1)
    assert river.median_days == pytest.approx(7) and river.p90_days == pytest.approx(7)
    quiet = rows["quiet"]
    assert (quiet.waiting, quiet.overdue, quiet.decided) == (0, 0, 0)
    assert quiet.oldest_waiting_days is None and quiet.median_days is None
    assert quiet.p90_days is None


def test_a_submission_just_inside_its_target_is_not_overdue(app):
    add_organisation(app, "lakemont", "Lakemont Institute")
    moodle, _ = add_platform(app)
    credential = add_credential(app, "lakemont", "quick", review={"turnaround_days": 3})
    _waiting(app, moodle, credential, 3 - 1 / 24)
    with get_db(app).begin() as session:
        [row] = turnaround(session, NOW)
    assert (row.waiting, row.overdue) == (1, 0)
    with get_db(app).begin() as session:
        [row] = turnaround(session, NOW + timedelta(hours=2))
    assert row.overdue == 1


def test_turnaround_takes_three_statements_however_many_organisations(app, data):
    engine = get_db(app).engine
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    def measured() -> int:
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            with get_db(app).begin() as session:
                turnaround(session, NOW)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    before = measured()
    for n in range(5):
        add_organisation(app, f"more-{n}", f"More {n}")
        credential = add_credential(app, f"more-{n}", f"more-{n}")
        _waiting(app, data["moodle"], credential, 3)
        _decided(app, data["moodle"], credential, data["reviewer"], 10, 2)
    assert measured() == before == 3


def test_percentile_interpolates_between_ranks():
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([1.0, 2.0], 0.5) == pytest.approx(1.5)
    assert percentile([4.0, 1.0, 3.0, 2.0, 10.0], 0.9) == pytest.approx(7.6)

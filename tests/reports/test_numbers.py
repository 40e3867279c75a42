"""Each outcome report's numbers against the hand-counted world of ``tests/reports/support.py``
(issue 24 part 1): outcomes by every grouping and in a period, credit per educator by its
version's unit, "not yet" per criterion, and the days to submit and to a decision."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from app.db import get_db
from app.reports.filters import Filters
from app.reports.services import REPORTS, Report, Scope, selection
from tests.reports.support import World, build_world


@pytest.fixture
def world(app) -> World:
    return build_world(app)


def report(app, name: str, args: Mapping[str, str] | None = None, organisations=None) -> Report:
    make, groups = REPORTS[name]
    with get_db(app).begin() as session:
        scope = Scope(frozenset(organisations) if organisations is not None else None)
        return make(session, selection(session, scope, Filters.parse(args or {}, groups=groups)))


# --- Outcomes: earned, submitted, not yet, in progress -----------------------------------------


def test_outcomes_per_credential_count_every_attempt_at_any_time(app, world):
    found = report(app, "outcomes")
    assert found.table.headers == ["Credential", "Earned", "Submitted", "Not yet", "In progress"]
    assert found.table.rows == [
        ("Feedback", "0", "1", "1", "2"),
        ("Questioning", "2", "4", "1", "0"),
        ("River", "1", "1", "0", "0"),
    ]
    assert "3 earned, 6 submitted, 2 not yet, and 2 in progress" in found.summary


def test_outcomes_in_a_period_count_what_happened_in_it(app, world):
    found = report(app, "outcomes", {"from": "2025-01-01", "to": "2025-01-31"})
    # Ann earned and Ben was told "not yet" in January; Eve's river was submitted then but
    # decided in March; nothing of feedback happened in January.
    assert found.table.rows == [("Questioning", "1", "2", "1", "0"), ("River", "0", "1", "0", "0")]


def test_outcomes_per_month(app, world):
    assert report(app, "outcomes", {"by": "month"}).table.rows == [
        ("2024-12", "0", "0", "0", "1"),
        ("2025-01", "1", "3", "1", "0"),
        ("2025-02", "1", "2", "0", "1"),
        ("2025-03", "1", "1", "1", "0"),
    ]


def test_outcomes_per_platform_course_stack_and_organisation(app, world):
    assert report(app, "outcomes", {"by": "platform"}).table.rows == [
        ("District Moodle", "2", "3", "1", "2"),
        ("State Canvas", "1", "3", "1", "0"),
    ]
    assert report(app, "outcomes", {"by": "course"}).table.rows == [
        ("Algebra I (State Canvas)", "1", "3", "1", "0"),
        ("Grade 5 Science (District Moodle)", "2", "3", "1", "0"),
        ("Not from a course (begun in the catalog)", "0", "0", "0", "2"),
    ]
    assert report(app, "outcomes", {"by": "stack"}).table.rows == [
        ("Assessment for learning", "2", "5", "2", "2"),
        ("In no stack", "1", "1", "0", "0"),
    ]
    assert report(app, "outcomes", {"by": "organisation"}).table.rows == [
        ("Lakemont Institute", "2", "5", "2", "2"),
        ("Riverbend Network", "1", "1", "0", "0"),
    ]


def test_outcomes_filtered_to_a_platform_a_stack_and_a_credential(app, world):
    canvas = world.platforms["State Canvas"][1]
    assert report(app, "outcomes", {"platform": canvas}).table.rows == [
        ("Feedback", "0", "1", "1", "0"),
        ("Questioning", "0", "1", "0", "0"),
        ("River", "1", "1", "0", "0"),
    ]
    assert report(app, "outcomes", {"stack": "assessment", "by": "organisation"}).table.rows == [
        ("Lakemont Institute", "2", "5", "2", "2")
    ]
    assert report(app, "outcomes", {"credential": "river", "by": "platform"}).table.rows == [
        ("State Canvas", "1", "1", "0", "0")
    ]


def test_an_organisation_admin_counts_only_their_organisations_credentials(app, world):
    found = report(app, "outcomes", {"by": "platform"}, [world.organisations["lakemont"]])
    assert found.table.rows == [
        ("District Moodle", "2", "3", "1", "2"),
        ("State Canvas", "0", "2", "1", "0"),
    ]


# --- Continuing-education credit ---------------------------------------------------------------


def test_credit_per_educator_comes_from_the_version_earned_in_its_unit(app, world):
    found = report(app, "hours")
    assert found.table.headers == [
        "Educator", "Email", "Platform", "Credentials earned", "Credit", "Unit",
    ]  # fmt: skip
    # Ben earned questioning at version 2, which carries no credit.
    assert found.table.rows == [
        ("Ann Archer", "ann@schools.example", "District Moodle", "1", "8", "CEU clock hours"),
        ("Eve Evans", "eve@schools.example", "State Canvas", "1", "3", "PD hours"),
        ("Ben Brook", "ben@schools.example", "District Moodle", "1", "", "No credit set"),
    ]
    assert found.summary == (
        "3 educators earned credentials at any time, for 8 CEU clock hours, 3 PD hours."
    )


def test_credit_in_a_period_and_for_an_organisation_admin(app, world):
    assert [r[0] for r in report(app, "hours", {"from": "2025-02-01"}).table.rows] == [
        "Eve Evans",
        "Ben Brook",
    ]
    lakemont = report(app, "hours", organisations=[world.organisations["lakemont"]])
    assert [r[0] for r in lakemont.table.rows] == ["Ann Archer", "Ben Brook"]


# --- "Not yet" per criterion -------------------------------------------------------------------


def test_not_yet_per_criterion_hardest_first(app, world):
    found = report(app, "criteria")
    assert found.table.headers == [
        "Criterion", "Credential", "Decisions", "Not yet", "Not yet (%)",
    ]  # fmt: skip
    assert found.table.rows == [
        ("Specific feedback", "Feedback", "1", "1", "100"),
        ("Uses evidence", "Questioning", "3", "1", "33.3"),
        ("Timely feedback", "Feedback", "1", "0", "0"),
        ("Clear purpose", "Questioning", "3", "0", "0"),
        ("Clear purpose", "River", "1", "0", "0"),
        ("Uses evidence", "River", "1", "0", "0"),
    ]


def test_not_yet_per_criterion_of_one_credential_in_a_period(app, world):
    found = report(app, "criteria", {"credential": "questioning", "to": "2025-01-31"})
    assert found.table.rows == [
        ("Uses evidence", "Questioning", "2", "1", "50"),
        ("Clear purpose", "Questioning", "2", "0", "0"),
    ]


# --- Days to submit and to a decision ----------------------------------------------------------


def test_days_to_submit_and_to_a_decision_per_credential(app, world):
    found = report(app, "timing")
    # Questioning: submitted after 5, 2, 2 and 10 days (median 3.5; 90th percentile between
    # 5 and 10 at 0.7: 8.5); decided after 5, 4 and 2 days (median 4; 4.8).
    assert found.table.rows == [
        ("Feedback", "1", "1", "1", "1", "6", "6"),
        ("Questioning", "4", "3.5", "8.5", "3", "4", "4.8"),
        ("River", "1", "1", "1", "1", "39", "39"),
    ]


def test_days_per_month_take_the_month_of_the_submission_or_the_decision(app, world):
    found = report(app, "timing", {"by": "month", "credential": "river"})
    assert found.table.rows == [("2025-01", "1", "1", "1", "0", "", ""),
                                ("2025-03", "0", "", "", "1", "39", "39")]  # fmt: skip

"""What an educator is told while their submission waits (issue 28 item 11): how far its
reviews have come, and how long reviews usually take — from the issuer's recent decisions when
there are enough of them, else its stated target; never a number made up."""

from __future__ import annotations

from sqlalchemy import select, update

from app.catalog.models import Organisation
from app.db import get_db, utcnow
from app.evidence.models import Attempt
from app.grading.educator import MIN_DECISIONS, expectation, review_progress
from app.grading.models import Review
from app.grading.rules import settings_of
from app.tenancy import scope_to_platform
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


def _organisation(session, slug: str) -> Organisation:
    return session.scalars(select(Organisation).where(Organisation.slug == slug)).one()


def _decided(app, platform, credential, reviewer, took: float, n: int) -> None:
    person = add_person(app, platform, f"educator-{n}")
    attempt = add_attempt(
        app, platform, person, credential, state=Attempt.SUBMITTED, submitted_at=days_ago(20, NOW)
    )
    review = add_review(app, attempt, reviewer, Review.FIRST, {"purpose": True})
    decide(app, attempt, review, days_ago(20 - took, NOW))


def _expected(app, slug: str, credential_version: int, platform: int | None = None):
    from app.catalog.models import CredentialVersion

    with get_db(app).begin() as session:
        if platform is not None:
            scope_to_platform(session, platform)
        organisation = _organisation(session, slug)
        version = session.get(CredentialVersion, credential_version)
        return expectation(session, organisation, settings_of(version, organisation), NOW)


def test_reviews_usually_take_the_median_of_the_issuers_recent_decisions(app):
    add_organisation(app, "lakemont", "Lakemont Institute")
    moodle, _ = add_platform(app, "District Moodle")
    canvas, _ = add_platform(app, "State Canvas")
    reviewer = add_person(app, moodle, "reviewer")
    credential = add_credential(app, "lakemont", "slow")
    for n, took in enumerate((1, 2, 3, 4, 10)):
        _decided(app, moodle if n % 2 else canvas, credential, reviewer, took, n)
    usual = _expected(app, "lakemont", credential[1])
    assert (usual.observed, usual.whole_days, usual.issuer) == (True, 3, "Lakemont Institute")
    # Inside a launch only the launch's platform counts: two decisions say nothing usual.
    assert MIN_DECISIONS > 2
    on_moodle = _expected(app, "lakemont", credential[1], platform=moodle)
    assert (on_moodle.observed, on_moodle.whole_days) == (False, 14)


def test_without_enough_decisions_the_stated_target_is_given(app):
    add_organisation(app, "lakemont", "Lakemont Institute")
    with get_db(app).begin() as session:
        session.execute(
            update(Organisation).where(Organisation.slug == "lakemont").values(turnaround_days=10)
        )
    own = add_credential(app, "lakemont", "quick", review={"turnaround_days": 3})
    org = add_credential(app, "lakemont", "slow")
    assert (
        _expected(app, "lakemont", own[1]).observed,
        _expected(app, "lakemont", own[1]).days,
    ) == (
        False,
        3,
    )
    assert _expected(app, "lakemont", org[1]).days == 10


def test_a_submission_with_one_of_two_reviews_waits_for_the_second(app):
    add_organisation(app, "lakemont", "Lakemont Institute")
    moodle, _ = add_platform(app, "District Moodle")
    credential = add_credential(app, "lakemont", "twice", review={"second_review": True})
    educator = add_person(app, moodle, "educator")
    attempt_id = add_attempt(
        app, moodle, educator, credential, state=Attempt.IN_REVIEW, submitted_at=days_ago(2, NOW)
    )
    with get_db(app).begin() as session:
        progress = review_progress(session, session.get(Attempt, attempt_id))
    assert progress is not None
    assert (progress.reviews_done, progress.reviews_needed, progress.waiting_for) == (0, 2, "first")
    add_review(app, attempt_id, add_person(app, moodle, "maria"), Review.FIRST, {"purpose": True})
    with get_db(app).begin() as session:
        progress = review_progress(session, session.get(Attempt, attempt_id))
    assert progress is not None
    assert (progress.reviews_done, progress.waiting_for, progress.being_reviewed) == (
        1,
        "second",
        False,
    )
    assert progress.expectation.issuer == "Lakemont Institute"

"""Calibration (issue 9): percent agreement and Cohen's kappa between the two independent
reviews of a credential's submissions, per criterion and on the outcome, and per reviewer."""

from __future__ import annotations

import pytest

from app.db import get_db
from app.grading.calibration import calibration, cohen_kappa, percent_agreement
from app.grading.models import Review
from tests.catalog.authoring_support import add_organisation
from tests.grading.admin_support import (
    CRITERIA,
    add_attempt,
    add_credential,
    add_person,
    add_platform,
    add_review,
)

T, F = True, False
KEYS = ("purpose", "evidence")


def table(yes_yes: int, yes_no: int, no_yes: int, no_no: int) -> list[tuple[bool, bool]]:
    """Pairs from a 2-by-2 table (first rater, second rater)."""
    return [(T, T)] * yes_yes + [(T, F)] * yes_no + [(F, T)] * no_yes + [(F, F)] * no_no


@pytest.mark.parametrize(
    ("cells", "kappa"),
    [
        # Wikipedia, "Cohen's kappa", simple example: p_o = 0.7, p_e = 0.5.
        ((20, 5, 10, 15), 0.4),
        # Same p_o = 0.6 with different marginals (Wikipedia): p_e = 0.54 and 0.46.
        ((45, 15, 25, 15), 0.06 / 0.46),
        ((25, 35, 5, 35), 0.14 / 0.54),
        # Perfect agreement with both answers used.
        ((3, 0, 0, 2), 1.0),
        # Always disagreeing, each rater half yes: p_o = 0, p_e = 0.5.
        ((0, 2, 2, 0), -1.0),
        # Agreement exactly at chance level.
        ((1, 1, 1, 1), 0.0),
    ],
)
def test_kappa_matches_hand_computed_values(cells, kappa):
    assert cohen_kappa(table(*cells)) == pytest.approx(kappa)


def test_kappa_is_undefined_without_pairs():
    assert cohen_kappa([]) is None
    assert percent_agreement([]) is None


def test_kappa_is_one_when_both_raters_give_one_same_answer_throughout():
    """p_e = 1 and p_o = 1: the formula's 0 / 0, read as complete agreement."""
    assert cohen_kappa([(T, T)] * 4) == 1.0
    assert cohen_kappa([(F, F)]) == 1.0


def test_kappa_is_zero_when_one_rater_never_varies_and_the_other_does():
    # p_e = p_o = 0.75: agreement no better than chance.
    assert cohen_kappa([(T, T), (T, T), (T, T), (T, F)]) == pytest.approx(0.0)


def test_percent_agreement_counts_agreeing_pairs():
    assert percent_agreement(table(20, 5, 10, 15)) == pytest.approx(0.7)
    assert percent_agreement([(T, F)]) == 0.0


# --- A credential's reviews ---------------------------------------------------------------------


@pytest.fixture
def reviewed(app):
    """A credential whose submissions (from two platforms) were reviewed twice."""
    add_organisation(app, "lakemont", "Lakemont Institute")
    moodle, _ = add_platform(app, "District Moodle")
    canvas, _ = add_platform(app, "State Canvas")
    ada = add_person(app, moodle, "ada", "ada@x.example", "Ada")
    bea = add_person(app, canvas, "bea", "bea@x.example", "Bea")
    v1 = add_credential(app, "lakemont", "hinge", review={"second_review": True})
    # Version 2 renames a criterion and adds one.
    reflection = {"key": "reflection", "part": "plan", "title": "Reflects", "pass_descriptor": "x"}
    renamed = [{**CRITERIA[0], "title": "Purpose stated"}, CRITERIA[1], reflection]
    v2 = add_credential(app, "lakemont", "hinge", criteria=renamed, number=2)
    judgements = [
        # (version, platform, first: purpose, evidence; second: purpose, evidence)
        (v1, moodle, (T, T), (T, T)),
        (v1, canvas, (T, F), (T, T)),
        (v2, moodle, (F, F), (F, T)),
        (v2, canvas, (T, T), (F, T)),
    ]
    for n, (version, platform, first, second) in enumerate(judgements):
        educator = add_person(app, platform, f"educator-{n}")
        attempt = add_attempt(app, platform, educator, version)
        add_review(app, attempt, ada, Review.FIRST, dict(zip(KEYS, first, strict=True)))
        add_review(app, attempt, bea, Review.SECOND, dict(zip(KEYS, second, strict=True)))
    # Left out: a single review, a second review still claimed, a null judgement.
    lone = add_attempt(app, moodle, add_person(app, moodle, "lone"), v2)
    add_review(app, lone, ada, Review.FIRST, {"purpose": T, "evidence": T})
    open_claim = add_attempt(app, moodle, add_person(app, moodle, "claimed"), v2)
    add_review(app, open_claim, ada, Review.FIRST, {"purpose": T, "evidence": F})
    add_review(app, open_claim, bea, Review.SECOND, {"purpose": T}, state=Review.CLAIMED)
    return v1[0]


def test_calibration_pairs_first_and_second_reviews_per_criterion(app, reviewed):
    with get_db(app).begin() as session:
        result = calibration(session, reviewed)
    by_key = {c.key: c for c in result.criteria}
    assert [c.key for c in result.criteria] == ["purpose", "evidence", "reflection"]
    assert by_key["purpose"].title == "Purpose stated"  # from the latest version having it
    purpose = by_key["purpose"].agreement
    # Pairs (T,T) (T,T) (F,F) (T,F): p_o = 3/4; first yes 3/4, second yes 2/4, so
    # p_e = 3/4 · 2/4 + 1/4 · 2/4 = 1/2 and kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2.
    assert purpose.pairs == 4
    assert purpose.percent == pytest.approx(0.75)
    assert purpose.kappa == pytest.approx(0.5)
    evidence = by_key["evidence"].agreement
    # Pairs (T,T) (F,T) (F,T) (T,T): the second reviewer always said met.
    assert (evidence.pairs, evidence.percent) == (4, 0.5)
    assert evidence.kappa == pytest.approx(0.0)
    assert by_key["reflection"].agreement.pairs == 0
    assert by_key["reflection"].agreement.kappa is None
    # Outcomes: earned only when both met: (E,E) (N,E) (N,N) (E,N).
    assert result.outcome.pairs == 4 and result.outcome.percent == pytest.approx(0.5)
    assert result.has_pairs


def test_calibration_summarises_each_reviewer(app, reviewed):
    with get_db(app).begin() as session:
        result = calibration(session, reviewed)
    summary = {r.name: (r.platform, r.reviews, r.met_share) for r in result.reviewers}
    # Ada: 6 submitted first reviews, 12 judgements, 8 met. Bea: 4 submitted, 8 judged, 6 met.
    assert summary["Ada"] == ("District Moodle", 6, pytest.approx(8 / 12))
    assert summary["Bea"] == ("State Canvas", 4, pytest.approx(6 / 8))


def test_calibration_of_a_credential_without_reviews_has_no_pairs(app):
    add_organisation(app, "lakemont", "Lakemont Institute")
    credential_id, _ = add_credential(app, "lakemont", "hinge")
    with get_db(app).begin() as session:
        result = calibration(session, credential_id)
    assert not result.has_pairs and result.reviewers == []
    assert [c.title for c in result.criteria] == ["Clear purpose", "Uses evidence"]
    assert result.outcome.kappa is None

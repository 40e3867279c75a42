"""The rubric's rules on their own: outcome by the passing rule, what is left to judge, when two
reviews agree, and where a credential's review settings come from."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from app.grading import rules

CONTENT: dict[str, Any] = {
    "criteria": [
        {"key": "a", "part": "p", "title": "A", "pass_descriptor": "a"},
        {"key": "b", "part": "p", "title": "B", "pass_descriptor": "b"},
        {"key": "c", "part": "q", "title": "C", "pass_descriptor": "c"},
    ]
}


def judged(*met: bool | None, comment: str = "") -> dict[str, dict[str, Any]]:
    return {k: {"met": m, "comment": comment} for k, m in zip("abc", met, strict=True)}


def test_every_criterion_met_earns_under_the_default_rule():
    assert rules.outcome(CONTENT, judged(True, True, True)) == rules.EARNED


def test_one_criterion_not_yet_is_not_yet_under_the_default_rule():
    assert rules.outcome(CONTENT, judged(True, False, True)) == rules.NOT_YET


@pytest.mark.parametrize(
    ("met", "expected"), [((True, True, False), "earned"), ((True, False, False), "not_yet")]
)
def test_at_least_rule_counts_met_criteria(met, expected):
    content = {**CONTENT, "passing_rule": {"kind": "at_least", "count": 2}}
    assert rules.outcome(content, judged(*met)) == expected


def test_an_unjudged_criterion_counts_as_not_met():
    assert rules.outcome(CONTENT, {"a": {"met": True}, "b": {"met": True}}) == rules.NOT_YET


def test_a_rubric_without_criteria_never_earns():
    assert rules.outcome({"criteria": []}, {}) == rules.NOT_YET


def test_at_least_more_than_there_are_criteria_means_all():
    content = {**CONTENT, "passing_rule": {"kind": "at_least", "count": 9}}
    assert rules.passing_rule_of(content) == rules.PassingRule("at_least", 3)
    assert rules.outcome(content, judged(True, True, False)) == rules.NOT_YET


def test_unjudged_lists_criteria_without_met_or_not_yet_in_rubric_order():
    left = rules.unjudged(CONTENT, {"b": {"met": True}, "c": {"met": None}})
    assert [c.key for c in left] == ["a", "c"]


def test_not_yet_without_a_comment_is_listed():
    found = rules.missing_comments(
        CONTENT, {"a": {"met": False, "comment": "  "}, "b": {"met": False, "comment": "why"}}
    )
    assert [c.key for c in found] == ["a"]


def test_reviews_agree_only_when_every_criterion_matches():
    assert rules.agree(CONTENT, judged(True, False, True), judged(True, False, True))
    assert not rules.agree(CONTENT, judged(True, False, True), judged(True, True, True))


def test_two_reviews_that_differ_on_a_criterion_but_not_the_outcome_disagree():
    assert rules.outcome(CONTENT, judged(True, False, True)) == rules.outcome(
        CONTENT, judged(False, True, True)
    )
    assert not rules.agree(CONTENT, judged(True, False, True), judged(False, True, True))


def test_combined_joins_both_comments_once_each():
    first = {
        "a": {"met": False, "comment": "Add the hinge."},
        "b": {"met": True, "comment": "Good."},
        "c": {"met": True, "comment": ""},
    }
    second = {
        "a": {"met": False, "comment": "Add the hinge."},
        "b": {"met": True, "comment": "Clear."},
        "c": {"met": True, "comment": ""},
    }
    result = rules.combined(CONTENT, first, second)
    assert result["a"] == {"met": False, "comment": "Add the hinge."}
    assert result["b"]["comment"] == "Good.\n\nClear."
    assert result["c"] == {"met": True, "comment": ""}


def test_describe_says_the_rule_in_words():
    assert rules.PassingRule("all", 3).describe(3) == "Earned when every criterion is met."
    assert "at least 2 of the 3" in rules.PassingRule("at_least", 2).describe(3)


def _version(review: dict[str, Any] | None) -> Any:
    return SimpleNamespace(content={"review": review} if review is not None else {})


def _organisation(blind: bool = False, days: int = 14) -> Any:
    return SimpleNamespace(blind_review=blind, turnaround_days=days)


def test_settings_come_from_the_version_first():
    found = rules.settings_of(
        _version({"second_review": True, "blind": True, "turnaround_days": 5}),
        _organisation(days=20),
    )
    assert found == rules.ReviewSettings(second_review=True, blind=True, turnaround_days=5)


def test_settings_fall_back_to_the_organisation():
    found = rules.settings_of(_version(None), _organisation(blind=True, days=21))
    assert found == rules.ReviewSettings(second_review=False, blind=True, turnaround_days=21)


def test_an_organisation_in_blind_review_makes_every_credential_blind():
    assert rules.settings_of(_version({"blind": False}), _organisation(blind=True)).blind

"""The rubric's rules: which criteria a review must judge, the outcome the credential's passing
rule gives, whether two reviews agree, and a credential's review settings.

Plain functions over a credential version's content (the catalog format's ``version`` object):
no database, so the rules are tested on their own and shared by the review page, the decision
and the benchmark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.catalog.models import CredentialVersion, Organisation

EARNED = "earned"
NOT_YET = "not_yet"

MAX_COMMENT_CHARS = 4000
MAX_FEEDBACK_CHARS = 10000


@dataclass(frozen=True)
class Criterion:
    key: str
    part: str
    title: str
    pass_descriptor: str


@dataclass(frozen=True)
class PassingRule:
    """``all`` criteria met, or ``at_least`` ``count`` of them."""

    kind: str
    count: int

    def describe(self, total: int) -> str:
        if self.kind == "at_least" and self.count < total:
            return f"Earned when at least {self.count} of the {total} criteria are met."
        return "Earned when every criterion is met."


@dataclass(frozen=True)
class ReviewSettings:
    second_review: bool
    """Two independent reviews; a disagreement goes to a lead reviewer."""
    blind: bool
    """Reviewers see no names, emails or courses."""
    turnaround_days: int
    """Submissions waiting longer than this are overdue."""


def criteria_of(content: Mapping[str, Any]) -> list[Criterion]:
    """Return the rubric's criteria in order."""
    return [
        Criterion(
            key=str(item["key"]),
            part=str(item.get("part", "")),
            title=str(item.get("title", item["key"])),
            pass_descriptor=str(item.get("pass_descriptor", "")),
        )
        for item in content.get("criteria") or []
        if isinstance(item, Mapping) and item.get("key")
    ]


def passing_rule_of(content: Mapping[str, Any]) -> PassingRule:
    """Return the version's passing rule; every criterion met when it names none."""
    rule = content.get("passing_rule") or {}
    total = len(criteria_of(content))
    if rule.get("kind") == "at_least" and isinstance(rule.get("count"), int):
        return PassingRule("at_least", max(1, min(int(rule["count"]), total or 1)))
    return PassingRule("all", total)


def outcome(content: Mapping[str, Any], judged: Mapping[str, Mapping[str, Any]]) -> str:
    """Return ``earned`` or ``not_yet`` for judgements keyed by criterion.

    Every criterion must have been judged before this is called (``unjudged``); a criterion
    missing from ``judged`` counts as not met."""
    criteria = criteria_of(content)
    met = sum(1 for c in criteria if (judged.get(c.key) or {}).get("met") is True)
    rule = passing_rule_of(content)
    needed = rule.count if rule.kind == "at_least" else len(criteria)
    return EARNED if criteria and met >= needed else NOT_YET


def unjudged(
    content: Mapping[str, Any], judged: Mapping[str, Mapping[str, Any]]
) -> list[Criterion]:
    """Return the criteria not yet marked met or not yet, in rubric order."""
    return [
        c for c in criteria_of(content) if (judged.get(c.key) or {}).get("met") not in (True, False)
    ]


def missing_comments(
    content: Mapping[str, Any], judged: Mapping[str, Mapping[str, Any]]
) -> list[Criterion]:
    """Return the criteria marked not yet without a comment: the educator needs to know why."""
    return [
        c
        for c in criteria_of(content)
        if (judged.get(c.key) or {}).get("met") is False
        and not str((judged.get(c.key) or {}).get("comment") or "").strip()
    ]


def agree(
    content: Mapping[str, Any],
    first: Mapping[str, Mapping[str, Any]],
    second: Mapping[str, Mapping[str, Any]],
) -> bool:
    """Whether two independent reviews agree: the same judgement on every criterion.

    Agreeing on the outcome only is not enough: the educator is told, criterion by criterion,
    what was met, and two reviewers who differ on a criterion would tell them two things."""
    return all(
        (first.get(c.key) or {}).get("met") == (second.get(c.key) or {}).get("met")
        for c in criteria_of(content)
    )


def joined(texts: list[str]) -> str:
    """Join two reviewers' texts: each once, in order, blank ones left out."""
    return "\n\n".join(dict.fromkeys(t.strip() for t in texts if t.strip()))


def combined(
    content: Mapping[str, Any],
    first: Mapping[str, Mapping[str, Any]],
    second: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Return two agreeing reviews as one judgement, each criterion's comments joined."""
    return {
        c.key: {
            "met": (first.get(c.key) or {}).get("met") is True,
            "comment": joined(
                [
                    str((first.get(c.key) or {}).get("comment") or ""),
                    str((second.get(c.key) or {}).get("comment") or ""),
                ]
            ),
        }
        for c in criteria_of(content)
    }


def settled(
    content: Mapping[str, Any], judged: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Return one review's judgements as the educator sees them: every criterion, met or not."""
    return {
        c.key: {
            "met": (judged.get(c.key) or {}).get("met") is True,
            "comment": str((judged.get(c.key) or {}).get("comment") or "").strip(),
        }
        for c in criteria_of(content)
    }


def settings_of(version: CredentialVersion, organisation: Organisation) -> ReviewSettings:
    """Return how a version is reviewed: its own settings, else its organisation's."""
    review = version.content.get("review") or {}
    days = review.get("turnaround_days")
    return ReviewSettings(
        second_review=bool(review.get("second_review")),
        blind=bool(review.get("blind")) or bool(organisation.blind_review),
        turnaround_days=int(days)
        if isinstance(days, int) and days > 0
        else int(organisation.turnaround_days or 14),
    )


@dataclass(frozen=True)
class Waiting:
    days: int
    overdue: bool


def waiting(submitted_at: datetime, settings: ReviewSettings, now: datetime) -> Waiting:
    """Return how long a submission has waited, and whether that is past the target."""
    waited = now.replace(tzinfo=None) - submitted_at.replace(tzinfo=None)
    return Waiting(waited.days, waited > timedelta(days=settings.turnaround_days))


def decision_problems(
    content: Mapping[str, Any], judged: Mapping[str, Mapping[str, Any]]
) -> tuple[str, list[str]] | None:
    """Return what keeps a judgement from becoming a decision (a message and the fields to
    fix), or ``None``: every criterion judged, and every "not yet" explained."""
    missing = unjudged(content, judged)
    unexplained = missing_comments(content, judged)
    if not missing and not unexplained:
        return None
    parts = []
    if missing:
        titles = ", ".join(c.title for c in missing)
        parts.append(f"mark every criterion met or not yet ({titles}).")
    if unexplained:
        titles = ", ".join(c.title for c in unexplained)
        parts.append(f"say what is missing for each criterion marked not yet ({titles}).")
    fields = [f"criterion-{c.key}" for c in missing] + [f"comment-{c.key}" for c in unexplained]
    return "Before the decision: " + " ".join(parts), fields

"""Reconciliation: read what each gradebook holds (AGS results, ``result.readonly``) and send
again every decision the LMS does not show — a grade a teacher overwrote by hand, a column
restored from a backup, a score lost on the LMS's side.

Only decided scores are compared (a submission sends no grade), by the fraction of points, so
a column whose points changed in the LMS is not mistaken for a different grade. A score to send
again gets a new version: the worker sends it like any other, with a newer timestamp.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.grading.models import ScoreDelivery
from app.lti import ags
from app.lti.models import LineItem, LtiUser
from app.lti.platform_services import PlatformServiceError
from app.lti.platforms import SCOPE_RESULT_READONLY
from app.tenancy import ALL_PLATFORMS

ALL = {ALL_PLATFORMS: True}
TOLERANCE = 1e-6


@dataclass
class Report:
    """What a reconciliation found."""

    columns: int = 0
    checked: int = 0
    agreeing: int = 0
    resent: int = 0
    unreadable: list[str] = field(default_factory=list)
    """Columns whose results could not be read, with the reason."""


def _fraction(given: float | None, maximum: float | None) -> float | None:
    if given is None or not maximum:
        return None
    return float(given) / float(maximum)


def reconcile(
    session: Session, client: ags.AgsClient, *, registration_id: int | None = None
) -> Report:
    """Compare every delivered decision with the LMS's result and queue those that differ."""
    query = (
        select(ScoreDelivery, LineItem)
        .join(LineItem, LineItem.id == ScoreDelivery.line_item_id)
        .where(ScoreDelivery.status == ScoreDelivery.DELIVERED, LineItem.url.is_not(None))
        .execution_options(**ALL)
    )
    if registration_id is not None:
        query = query.where(ScoreDelivery.registration_id == registration_id)
    rows = session.execute(
        query.add_columns(LtiUser.sub).join(LtiUser, LtiUser.id == ScoreDelivery.user_id)
    ).all()
    by_column: dict[int, list[tuple[ScoreDelivery, str]]] = defaultdict(list)
    items: dict[int, LineItem] = {}
    for delivery, item, sub in rows:
        if (delivery.body or {}).get("gradingProgress") != "FullyGraded":
            continue
        by_column[item.id].append((delivery, sub))
        items[item.id] = item
    report = Report()
    again: list[int] = []
    for item_id, cells in by_column.items():
        item = items[item_id]
        report.columns += 1
        if SCOPE_RESULT_READONLY not in (item.scopes or ()):
            report.unreadable.append(
                f"{item.url}: the LMS did not grant the tool the results scope."
            )
            continue
        try:
            results = client.results(item.registration_id, str(item.url))
        except PlatformServiceError as exc:
            report.unreadable.append(f"{item.url}: {exc.message}")
            continue
        held = {r.user_id: _fraction(r.result_score, r.result_maximum) for r in results}
        for delivery, sub in cells:
            report.checked += 1
            body = delivery.body
            ours = _fraction(body.get("scoreGiven"), body.get("scoreMaximum"))
            theirs = held.get(sub)
            if ours is not None and theirs is not None and abs(ours - theirs) <= TOLERANCE:
                report.agreeing += 1
            else:
                again.append(delivery.id)
    if again:
        now = utcnow()
        session.execute(
            update(ScoreDelivery)
            .where(ScoreDelivery.id.in_(again), ScoreDelivery.status == ScoreDelivery.DELIVERED)
            .values(
                version=ScoreDelivery.version + 1,
                status=ScoreDelivery.PENDING,
                tries=0,
                available_at=now,
                last_error="Sent again: the LMS's gradebook did not show this grade.",
            )
            .execution_options(synchronize_session=False, **ALL)
        )
        report.resent = len(again)
    session.commit()
    return report

"""Reconciliation: read what each gradebook holds (AGS results, ``result.readonly``) and send
again a decision the LMS does not show — a column restored from a backup, a score lost on the
LMS's side — unless a teacher's grade stands there.

A teacher's grade wins in the LMS (LTI-CHECKLIST G): Moodle keeps a grade overridden in its
grader report against every later score, which it still accepts (``reference/moodle-as-it-is.md``
item 3); Canvas keeps a teacher's grade against a score sent with ``prioritize_non_tool_grade``,
as Microcred's decisions are. AGS results cannot tell such a grade from a lost or restored one,
so a cell that disagrees is sent again once, where sending can replace a grade at all (not on
Canvas: ``Platform.resending_replaces_a_grade``). If the LMS took that very version and still
shows another grade, or shows again the teacher's grade found before, the grade there is a
teacher's: the cell is recorded as ``overridden`` with it, is not sent again, and instructors
read on the activity's Gradebook sync page (and here) what to do to have Microcred's score
there. A cell whose LMS grade agrees again (the override was removed) is in the gradebook again.

Only decided scores are compared (a submission sends no grade), by the fraction of points, so
a column whose points changed in the LMS is not mistaken for a different grade. A score to send
again gets a new version: the worker sends it like any other, with a newer timestamp.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.db import table_of, utcnow
from app.grading.models import ScoreDelivery
from app.lti import ags
from app.lti.models import LineItem, LtiResourceLink, LtiUser, Registration
from app.lti.platform_services import PlatformServiceError, Throttled
from app.lti.platforms import SCOPE_RESULT_READONLY, Platform, plugin
from app.tenancy import ALL_PLATFORMS

ALL = {ALL_PLATFORMS: True}
TOLERANCE = 1e-6
THROTTLE_WAITS = (1.0, 2.0, 4.0, 8.0, 16.0)
"""How long reconciliation waits, try after try, for an LMS that asks it to slow down (31 s in
all) before it leaves the column to the next run."""
COMPARED = (ScoreDelivery.DELIVERED, ScoreDelivery.OVERRIDDEN)
"""The cells whose LMS grade is compared: those the LMS took, a teacher's grade or not."""


@dataclass(frozen=True)
class TeachersGrade:
    """A cell whose gradebook shows a teacher's grade instead of Microcred's decision."""

    learner: str
    link: str
    platform: str
    """The LMS family's name (``Moodle``, ``Canvas``, …)."""
    advice: str
    """What to do to have Microcred's score there instead (``Platform.teachers_grade_advice``)."""
    lms_given: float | None
    lms_maximum: float | None
    ours_given: float | None
    ours_maximum: float | None

    @property
    def lms_grade(self) -> str:
        return _points(self.lms_given, self.lms_maximum) or "no grade"

    @property
    def ours(self) -> str:
        """Microcred's decision in the LMS column's points (the LMS scales what it is sent)."""
        given, maximum = self.ours_given, self.ours_maximum
        if given is not None and maximum and self.lms_maximum:
            given, maximum = given * self.lms_maximum / maximum, self.lms_maximum
        return _points(given, maximum) or "no grade"


@dataclass
class Report:
    """What a reconciliation found."""

    columns: int = 0
    checked: int = 0
    agreeing: int = 0
    resent: int = 0
    teachers_grades: list[TeachersGrade] = field(default_factory=list)
    """Cells where a teacher's grade stands in the LMS (found now or before): not sent again."""
    unreadable: list[str] = field(default_factory=list)
    """Columns whose results could not be read, with the reason."""


def _fraction(given: float | None, maximum: float | None) -> float | None:
    if given is None or not maximum:
        return None
    return float(given) / float(maximum)


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and abs(a - b) <= TOLERANCE


def _points(given: float | None, maximum: float | None) -> str:
    if given is None:
        return ""
    return f"{given:g} of {maximum:g}" if maximum else f"{given:g}"


def teachers_grade_message(found: TeachersGrade) -> str:
    """The cell's state in words for its instructors (``ScoreDelivery.last_error``)."""
    shows = (
        f"a teacher's grade, {found.lms_grade},"
        if found.lms_given is not None
        else "no grade (a teacher's),"
    )
    return (
        f"The LMS shows {shows} and keeps it over Microcred's score ({found.ours}): a grade a "
        "teacher sets in the LMS stands there, so Microcred stopped sending this score. To have "
        f"Microcred's score there instead: {found.advice}"
    )


def _results(
    client: ags.AgsClient, item: LineItem, platform: Platform, sleep: Callable[[float], None]
) -> list[ags.ResultInfo]:
    """Read a column's results, waiting while the LMS asks the tool to slow down."""
    for wait in (*THROTTLE_WAITS, None):
        try:
            return client.results(item.registration_id, str(item.url), platform=platform)
        except Throttled as exc:
            if wait is None:
                raise
            sleep(max(wait, exc.retry_after or 0.0))
    raise AssertionError("unreachable: the last try returns or raises")


def reconcile(
    session: Session,
    client: ags.AgsClient,
    *,
    registration_id: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Compare every decision the LMS took with the LMS's result; queue those it does not show
    to be sent again, and record those where a teacher's grade stands. A column whose LMS asks
    the tool to slow down (Canvas's rate limit) is read again after a wait (``sleep``)."""
    query = (
        select(
            ScoreDelivery, LineItem, LtiUser, LtiResourceLink.title, Registration.platform_family
        )
        .join(LineItem, LineItem.id == ScoreDelivery.line_item_id)
        .join(LtiUser, LtiUser.id == ScoreDelivery.user_id)
        .join(LtiResourceLink, LtiResourceLink.id == LineItem.resource_link_id)
        .join(Registration, Registration.id == ScoreDelivery.registration_id)
        .where(ScoreDelivery.status.in_(COMPARED), LineItem.url.is_not(None))
        .order_by(ScoreDelivery.id)
        .execution_options(**ALL)
    )
    if registration_id is not None:
        query = query.where(ScoreDelivery.registration_id == registration_id)
    by_column: dict[int, list[tuple[ScoreDelivery, LtiUser, str, str]]] = defaultdict(list)
    items: dict[int, LineItem] = {}
    for delivery, item, user, link_title, family in session.execute(query).all():
        if (delivery.body or {}).get("gradingProgress") != "FullyGraded":
            continue
        by_column[item.id].append((delivery, user, link_title or "", family))
        items[item.id] = item
    report = Report()
    again: list[int] = []
    agreed: list[int] = []
    standing: list[dict[str, Any]] = []
    for item_id, cells in by_column.items():
        item = items[item_id]
        report.columns += 1
        if SCOPE_RESULT_READONLY not in (item.scopes or ()):
            report.unreadable.append(
                f"{item.url}: the LMS did not grant the tool the results scope."
            )
            continue
        try:
            results = _results(client, item, plugin(cells[0][3]), sleep)
        except Throttled as exc:
            report.unreadable.append(
                f"{item.url}: {exc.message} It still did after "
                f"{len(THROTTLE_WAITS) + 1} tries over {sum(THROTTLE_WAITS):g} s: run the "
                "reconciliation again later, when the LMS is less busy."
            )
            continue
        except PlatformServiceError as exc:
            report.unreadable.append(f"{item.url}: {exc.message}")
            continue
        held = {r.user_id: r for r in results}
        for delivery, user, title, family in cells:
            report.checked += 1
            body = delivery.body
            ours = _fraction(body.get("scoreGiven"), body.get("scoreMaximum"))
            result = held.get(user.sub)
            given = result.result_score if result else None
            maximum = result.result_maximum if result else None
            theirs = _fraction(given, maximum)
            if _same(ours, theirs):
                report.agreeing += 1
                if (
                    delivery.status != ScoreDelivery.DELIVERED
                    or delivery.lms_score_given is not None
                ):
                    agreed.append(delivery.id)
                continue
            platform = plugin(family)
            if not _teachers_grade(delivery, theirs, platform.resending_replaces_a_grade):
                again.append(delivery.id)
                continue
            found = TeachersGrade(
                learner=user.display_name,
                link=title,
                platform=platform.label,
                advice=platform.teachers_grade_advice(),
                lms_given=given,
                lms_maximum=maximum,
                ours_given=body.get("scoreGiven"),
                ours_maximum=body.get("scoreMaximum"),
            )
            report.teachers_grades.append(found)
            standing.append(
                {
                    "b_id": delivery.id,
                    "b_version": delivery.version,
                    "b_given": given,
                    "b_maximum": maximum,
                    "b_error": teachers_grade_message(found),
                }
            )
    _record(session, again=again, agreed=agreed, standing=standing)
    report.resent = len(again)
    session.commit()
    return report


def _teachers_grade(delivery: ScoreDelivery, theirs: float | None, resend_replaces: bool) -> bool:
    """Whether the LMS's grade ``theirs``, which differs from the decision, is one a teacher set
    and sending cannot change."""
    if delivery.resent_version == delivery.version:
        return True  # the LMS took this very version after a mismatch, and still differs
    if theirs is None:
        return False  # a grade lost, or cleared by a teacher: sending may put it there
    recorded = _fraction(delivery.lms_score_given, delivery.lms_score_maximum)
    return (
        delivery.status == ScoreDelivery.OVERRIDDEN
        or _same(theirs, recorded)
        or not resend_replaces
    )


_MINE = ScoreDelivery.status.in_(COMPARED)


def _record(
    session: Session, *, again: list[int], agreed: list[int], standing: list[dict[str, Any]]
) -> None:
    """Write what reconciliation decided, for cells still as it read them."""
    now = utcnow()
    if again:
        session.execute(
            update(ScoreDelivery)
            .where(ScoreDelivery.id.in_(again), _MINE)
            .values(
                version=ScoreDelivery.version + 1,
                resent_version=ScoreDelivery.version + 1,
                status=ScoreDelivery.PENDING,
                tries=0,
                available_at=now,
                last_error="Sent again: the LMS's gradebook did not show this grade.",
            )
            .execution_options(synchronize_session=False, **ALL)
        )
    if agreed:
        session.execute(
            update(ScoreDelivery)
            .where(ScoreDelivery.id.in_(agreed), _MINE)
            .values(
                status=ScoreDelivery.DELIVERED,
                lms_score_given=None,
                lms_score_maximum=None,
                last_error=None,
            )
            .execution_options(synchronize_session=False, **ALL)
        )
    if standing:
        table = table_of(ScoreDelivery)
        session.connection().execute(
            update(table)
            .where(
                table.c.id == bindparam("b_id"),
                table.c.version == bindparam("b_version"),
                table.c.status.in_(COMPARED),
            )
            .values(
                status=ScoreDelivery.OVERRIDDEN,
                lms_score_given=bindparam("b_given"),
                lms_score_maximum=bindparam("b_maximum"),
                last_error=bindparam("b_error"),
            ),
            standing,
        )

"""Where each score stands on its way to the gradebook, in words an instructor can act on, and
the retry a person may ask for (instructors for their link, operators across platforms)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import Forbidden, NotFound
from app.grading.models import ScoreDelivery
from app.linking import services as linking
from app.lti.launch import Launch
from app.lti.models import LineItem, LtiContext, LtiResourceLink, LtiUser, Registration
from app.lti.platforms import plugin
from app.tenancy import ALL_PLATFORMS

ALL = {ALL_PLATFORMS: True}
STATUS_LABELS = {
    ScoreDelivery.DELIVERED: "In the gradebook",
    ScoreDelivery.PENDING: "Waiting to be sent",
    ScoreDelivery.FAILED: "Not sent",
    ScoreDelivery.OVERRIDDEN: "Teacher's grade in the LMS",
    ScoreDelivery.NO_COLUMN: "Not graded in the LMS",
}
RETRIABLE = (ScoreDelivery.PENDING, ScoreDelivery.FAILED, ScoreDelivery.OVERRIDDEN)
"""What a person may send again: a cell the LMS does not have, or one where a teacher's grade
stands (to put Microcred's there). A cell of a link without a column has nowhere to go."""


@dataclass(frozen=True)
class SyncRow:
    """One learner's cell of one gradebook column, as the tool last tried to set it."""

    delivery_id: int
    learner: str
    email: str | None
    what: str
    """What the cell should say: "Submitted, awaiting review", "Earned (full points)"…"""
    status: str
    status_label: str
    reason: str | None
    tries: int
    next_try_at: datetime | None
    delivered_at: datetime | None
    desired_at: datetime
    platform: str = ""
    course: str = ""
    link: str = ""

    @property
    def can_retry(self) -> bool:
        return self.status in (ScoreDelivery.FAILED, ScoreDelivery.OVERRIDDEN) or (
            self.status == ScoreDelivery.PENDING and self.tries > 0
        )


def what_of(body: dict[str, object]) -> str:
    """The desired cell in words. Points are not named: the LMS scales the score to its
    column's own points, which the tool does not always know."""
    if body.get("gradingProgress") != "FullyGraded":
        return "Submitted, awaiting review (no grade yet)"
    given, maximum = body.get("scoreGiven"), body.get("scoreMaximum")
    if given and given == maximum:
        return "Earned (full points)"
    return "Not yet (0 points)"


def _row(delivery: ScoreDelivery, user: LtiUser, **where: str) -> SyncRow:
    pending = delivery.status == ScoreDelivery.PENDING
    return SyncRow(
        delivery_id=delivery.id,
        learner=user.display_name,
        email=user.email,
        what=what_of(delivery.body or {}),
        status=delivery.status,
        status_label=STATUS_LABELS.get(delivery.status, delivery.status),
        reason=delivery.last_error if delivery.status != ScoreDelivery.DELIVERED else None,
        tries=delivery.tries,
        next_try_at=delivery.available_at if pending and delivery.tries else None,
        delivered_at=delivery.delivered_at,
        desired_at=delivery.desired_at,
        **where,
    )


class NotForLearners(Forbidden):
    code = "gradebook_for_teachers"
    title = "Only the course's teachers see this"


def require_teacher(session: Session, launch: Launch) -> int:
    """The course link whose column a teacher looks at; refuse learners and other places."""
    if not launch.may_add_content:
        raise NotForLearners(
            "The gradebook sync of an activity is for the course's instructors and teaching "
            "assistants.",
            hint="Your own result is on the activity's page.",
        )
    link_id = linking.link_id_of(session, launch)
    if link_id is None:
        raise NotFound(
            "This page belongs to a course activity.",
            hint="Open the activity from your course, then choose “Gradebook sync”.",
        )
    return link_id


def for_link(session: Session, resource_link_id: int) -> list[SyncRow]:
    """Every learner's cell in the column of one course link (the session's platform)."""
    rows = session.execute(
        select(ScoreDelivery, LtiUser)
        .join(LineItem, LineItem.id == ScoreDelivery.line_item_id)
        .join(LtiUser, LtiUser.id == ScoreDelivery.user_id)
        .where(LineItem.resource_link_id == resource_link_id)
        .order_by(LtiUser.family_name, LtiUser.given_name, LtiUser.name, ScoreDelivery.id)
    ).all()
    order = {
        ScoreDelivery.FAILED: 0,
        ScoreDelivery.OVERRIDDEN: 1,
        ScoreDelivery.PENDING: 2,
        ScoreDelivery.DELIVERED: 3,
    }
    found = [_row(d, u) for d, u in rows]
    return sorted(found, key=lambda r: order.get(r.status, 4))


def no_column(session: Session, resource_link_id: int) -> str | None:
    """Why the course link can have no gradebook column in the LMS, if it cannot (the
    session's platform)."""
    return session.scalar(
        select(LineItem.no_column).where(LineItem.resource_link_id == resource_link_id)
    )


def labels_for_link(session: Session, resource_link_id: int) -> dict[int, str]:
    """Each learner's gradebook state in the column of one course link, in words, by user id
    (one statement, for the class progress page)."""
    rows = session.execute(
        select(ScoreDelivery.user_id, ScoreDelivery.status)
        .join(LineItem, LineItem.id == ScoreDelivery.line_item_id)
        .where(LineItem.resource_link_id == resource_link_id)
    ).all()
    return {user_id: STATUS_LABELS.get(status, status) for user_id, status in rows}


def retry(session: Session, delivery_ids: Sequence[int], *, resource_link_id: int | None) -> int:
    """Send these cells again now (a failed one with its tries counted afresh); with
    ``resource_link_id`` only cells of that link's column. A cell where a teacher's grade
    stands is sent as the LMS needs it to take Microcred's score instead
    (``Platform.over_teachers_grade``). Return how many will be sent."""
    if not delivery_ids:
        return 0
    chosen = [
        ScoreDelivery.id.in_(list(delivery_ids)),
        ScoreDelivery.status.in_(RETRIABLE),
    ]
    if resource_link_id is not None:
        chosen.append(
            ScoreDelivery.line_item_id.in_(
                select(LineItem.id).where(LineItem.resource_link_id == resource_link_id)
            )
        )
    overridden = session.execute(
        select(ScoreDelivery, Registration.platform_family)
        .join(Registration, Registration.id == ScoreDelivery.registration_id)
        .where(*chosen, ScoreDelivery.status == ScoreDelivery.OVERRIDDEN)
    ).all()
    for row, family in overridden:
        row.body = plugin(family).over_teachers_grade(dict(row.body))
    session.flush()
    query = update(ScoreDelivery).where(*chosen)
    changed = session.execute(
        query.values(
            status=ScoreDelivery.PENDING, tries=0, available_at=utcnow(), last_error=None
        ).execution_options(synchronize_session=False)
    )
    session.commit()
    count = int(getattr(changed, "rowcount", 0) or 0)
    if count == 0:
        raise NotFound(
            "There is nothing to send again: the score is already in the gradebook, or it is "
            "not one of this activity's.",
            hint="Reload the page to see where each score stands.",
        )
    return count


# --- Operators: every platform ----------


@dataclass(frozen=True)
class PlatformSync:
    """How one platform's gradebook sync stands."""

    registration_id: int
    platform: str
    delivered: int
    pending: int
    failed: int
    oldest_pending_at: datetime | None
    overridden: int = 0
    """Cells where a teacher's grade stands in the LMS."""
    no_column: int = 0
    """Cells of links the LMS keeps no grades for."""


def overview(session: Session) -> list[PlatformSync]:
    """Counts per platform and status, with the oldest waiting score (one statement)."""
    rows = session.execute(
        select(
            Registration.id,
            Registration.name,
            ScoreDelivery.status,
            func.count(),
            func.min(ScoreDelivery.desired_at),
        )
        .join(ScoreDelivery, ScoreDelivery.registration_id == Registration.id)
        .group_by(Registration.id, Registration.name, ScoreDelivery.status)
        .order_by(Registration.name)
        .execution_options(**ALL)
    ).all()
    names: dict[int, str] = {}
    counts: dict[tuple[int, str], int] = {}
    oldest: dict[int, datetime] = {}
    for registration_id, name, status, count, first in rows:
        names[registration_id] = name
        counts[registration_id, status] = count
        if status == ScoreDelivery.PENDING:
            oldest[registration_id] = first
    return [
        PlatformSync(
            registration_id=rid,
            platform=name,
            delivered=counts.get((rid, ScoreDelivery.DELIVERED), 0),
            pending=counts.get((rid, ScoreDelivery.PENDING), 0),
            failed=counts.get((rid, ScoreDelivery.FAILED), 0),
            oldest_pending_at=oldest.get(rid),
            overridden=counts.get((rid, ScoreDelivery.OVERRIDDEN), 0),
            no_column=counts.get((rid, ScoreDelivery.NO_COLUMN), 0),
        )
        for rid, name in names.items()
    ]


FAILURES_SHOWN = 200


def failures(session: Session, registration_id: int | None = None) -> list[SyncRow]:
    """Scores that did not reach their gradebook, newest first, across platforms."""
    query = (
        select(ScoreDelivery, LtiUser, Registration.name, LtiContext.title, LtiResourceLink.title)
        .join(LtiUser, LtiUser.id == ScoreDelivery.user_id)
        .join(Registration, Registration.id == ScoreDelivery.registration_id)
        .join(LineItem, LineItem.id == ScoreDelivery.line_item_id)
        .join(LtiResourceLink, LtiResourceLink.id == LineItem.resource_link_id)
        .join(LtiContext, LtiContext.id == LtiResourceLink.context_id)
        .where(ScoreDelivery.status == ScoreDelivery.FAILED)
        .order_by(ScoreDelivery.id.desc())
        .limit(FAILURES_SHOWN)
        .execution_options(**ALL)
    )
    if registration_id is not None:
        query = query.where(ScoreDelivery.registration_id == registration_id)
    return [
        _row(d, u, platform=p or "", course=c or "", link=lk or "")
        for d, u, p, c, lk in session.execute(query).all()
    ]


def operator_retry(
    session: Session,
    *,
    actor: str,
    operator_id: int | None,
    ids: Sequence[int],
    registration_id: int | None,
) -> int:
    """An operator sends chosen scores (or every failed one, of one platform or all) again;
    recorded in the audit log. Return how many."""
    audit.record(
        session,
        actor=actor,
        operator_id=operator_id,
        action="gradebook.retry",
        target=f"registration:{registration_id}" if registration_id else "",
        details={"deliveries": list(ids)} if ids else {"all_failed": True},
    )
    if ids:
        return retry(session, ids, resource_link_id=None)
    return retry_failed(session, registration_id)


def retry_failed(session: Session, registration_id: int | None = None) -> int:
    """Send every failed score (of one platform) again now; return how many."""
    query = update(ScoreDelivery).where(ScoreDelivery.status == ScoreDelivery.FAILED)
    if registration_id is not None:
        query = query.where(ScoreDelivery.registration_id == registration_id)
    changed = session.execute(
        query.values(
            status=ScoreDelivery.PENDING, tries=0, available_at=utcnow(), last_error=None
        ).execution_options(synchronize_session=False, **ALL)
    )
    session.commit()
    return int(getattr(changed, "rowcount", 0) or 0)

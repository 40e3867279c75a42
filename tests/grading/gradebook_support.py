"""Builders for the gradebook tests: graded course activities in the development LMS (a link
with its gradebook column, as Deep Linking with a line item makes it) and the delivery rows."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from app.db import get_db
from app.devlms.models import (
    DevCourse,
    DevGrade,
    DevLineItem,
    DevLink,
    DevScoreLog,
    DevTool,
    DevUser,
)
from app.grading.models import ScoreDelivery
from app.lti.models import LineItem, Registration
from tests.support.live import LiveServers
from tests.support.lms import DEMO_COURSE


def add_graded_activity(
    live: LiveServers, slug: str, *, course: str = DEMO_COURSE, points: float = 10.0
) -> str:
    """Put a graded link to ``slug`` into a course (a link and its column); return its title."""
    title = f"Graded {slug} in {course} {uuid.uuid4().hex[:6]}"
    with get_db(live.devlms).begin() as session:
        course_row = session.scalars(select(DevCourse).where(DevCourse.title == course)).one()
        tool = session.scalars(select(DevTool)).one()
        resource_link_id = uuid.uuid4().hex
        item = DevLineItem(
            course_id=course_row.id,
            tool_id=tool.id,
            label=title,
            score_maximum=points,
            resource_link_id=resource_link_id,
            tag="microcred",
        )
        session.add(item)
        session.flush()
        session.add(
            DevLink(
                course_id=course_row.id,
                tool_id=tool.id,
                resource_link_id=resource_link_id,
                title=title,
                custom={"microcred_credential": slug, "microcred_version": "latest"},
                line_item_id=item.id,
            )
        )
    return title


def deliveries(live: LiveServers, **where: Any) -> list[ScoreDelivery]:
    with get_db(live.tool).begin() as session:
        query = select(ScoreDelivery).order_by(ScoreDelivery.id)
        for key, value in where.items():
            query = query.where(getattr(ScoreDelivery, key) == value)
        return list(session.scalars(query))


def line_items(live: LiveServers) -> list[LineItem]:
    with get_db(live.tool).begin() as session:
        return list(session.scalars(select(LineItem).order_by(LineItem.id)))


def set_family(live: LiveServers, family: str) -> None:
    with get_db(live.tool).begin() as session:
        for registration in session.scalars(select(Registration)):
            registration.platform_family = family


def lms_grade(live: LiveServers, title: str, email: str) -> DevGrade | None:
    """The development LMS's gradebook cell of ``email`` in the column of link ``title``."""
    with get_db(live.devlms).begin() as session:
        return session.scalars(
            select(DevGrade)
            .join(DevLink, DevLink.line_item_id == DevGrade.line_item_id)
            .join(DevUser, DevUser.id == DevGrade.user_id)
            .where(DevLink.title == title, DevUser.email == email)
        ).first()


def lms_posts(live: LiveServers, title: str, email: str) -> list[dict[str, Any]]:
    """Every score the development LMS accepted for ``email`` in that column, in order."""
    with get_db(live.devlms).begin() as session:
        return [
            row.body
            for row in session.scalars(
                select(DevScoreLog)
                .join(DevLink, DevLink.line_item_id == DevScoreLog.line_item_id)
                .join(DevUser, DevUser.id == DevScoreLog.user_id)
                .where(DevLink.title == title, DevUser.email == email)
                .order_by(DevScoreLog.id)
            )
        ]


def run_worker(live: LiveServers, **settings: Any) -> Any:
    """Run a worker of the live tool until nothing is due; return its counters."""
    from app.grading import worker
    from app.lti import runtime

    with live.tool.app_context():
        client = runtime().ags()
    options = {"threads": 4, "retry_base_seconds": 0.05, "idle_seconds": 0.05, **settings}
    found = worker.Worker(get_db(live.tool), client, worker.Settings(**options))
    return found.run(until_idle=True)


def tokens_issued(live: LiveServers) -> int:
    from sqlalchemy import func

    from app.devlms.models import DevAccessToken

    with get_db(live.devlms).begin() as session:
        return int(session.scalar(select(func.count()).select_from(DevAccessToken)) or 0)


def enrol_as(live: LiveServers, email: str, role: str) -> None:
    """Change a person's role in the demo course (e.g. a learner who is no longer one)."""
    from app.devlms.models import DevEnrolment

    with get_db(live.devlms).begin() as session:
        user = session.scalars(select(DevUser).where(DevUser.email == email)).one()
        for enrolment in session.scalars(
            select(DevEnrolment).where(DevEnrolment.user_id == user.id)
        ):
            enrolment.role = role


def lms_columns(live: LiveServers, resource_link_title: str) -> list[DevLineItem]:
    """The development LMS's columns for the link titled so (by its resource link id)."""
    with get_db(live.devlms).begin() as session:
        link = session.scalars(select(DevLink).where(DevLink.title == resource_link_title)).one()
        return list(
            session.scalars(
                select(DevLineItem).where(DevLineItem.resource_link_id == link.resource_link_id)
            )
        )

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


def _cell_of(live: LiveServers, title: str) -> tuple[int, int]:
    """The course and column ids of the link titled ``title`` in the development LMS."""
    with get_db(live.devlms).begin() as session:
        link = session.scalars(select(DevLink).where(DevLink.title == title)).one()
        assert link.line_item_id is not None, f"{title} has no column"
        return link.course_id, link.line_item_id


def override_in_lms(live: LiveServers, title: str, email: str, grade: str) -> None:
    """A teacher of the course types ``grade`` into ``email``'s cell of the column of link
    ``title`` on the development LMS's gradebook page (Moodle: an override)."""
    from tests.support.lms import LmsUser
    from tests.support.score_sender import INSTRUCTOR

    course_id, item_id = _cell_of(live, title)
    saved = LmsUser(live, INSTRUCTOR).override_grade(course_id, item_id, email, grade)
    assert saved.status_code == 200, saved.text[:500]


def remove_override_in_lms(live: LiveServers, title: str, email: str) -> None:
    """A teacher removes the override of that cell (Moodle's grader report)."""
    from tests.support.lms import LmsUser
    from tests.support.score_sender import INSTRUCTOR

    course_id, item_id = _cell_of(live, title)
    removed = LmsUser(live, INSTRUCTOR).remove_override(course_id, item_id, email)
    assert removed.status_code == 200, removed.text[:500]


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


DECIDED = {
    "activityProgress": "Completed",
    "gradingProgress": "FullyGraded",
    "scoreGiven": 10.0,
    "scoreMaximum": 10.0,
    "comment": "Earned: 5 of 5 criteria met.",
}
SUBMITTED = {"activityProgress": "Submitted", "gradingProgress": "PendingManual"}


def add_cells(live: LiveServers, columns: int) -> list[int]:
    """``columns`` gradebook columns in the demo course, each with a score waiting for every
    learner of the course (rows as submissions leave them); return the delivery ids.

    The tool's side is what launches would have recorded: the course, one link per column with
    its line item, and the learners."""
    from app.devlms.models import DevEnrolment
    from app.devlms.platform import line_item_url
    from app.lti.models import Deployment, LtiContext, LtiResourceLink, LtiUser
    from app.lti.platforms import TOOL_SCOPES

    with get_db(live.devlms).begin() as lms:
        course = lms.scalars(select(DevCourse).where(DevCourse.title == DEMO_COURSE)).one()
        tool = lms.scalars(select(DevTool)).one()
        learners = list(
            lms.scalars(
                select(DevUser)
                .join(DevEnrolment, DevEnrolment.user_id == DevUser.id)
                .where(DevEnrolment.course_id == course.id, DevEnrolment.role == "Learner")
            )
        )
        items = [
            DevLineItem(course_id=course.id, tool_id=tool.id, label=f"Column {n}", score_maximum=10)
            for n in range(columns)
        ]
        lms.add_all(items)
        lms.flush()
        urls = [line_item_url(live.devlms_url, course.id, i.id, tool) for i in items]
        context_id, deployment_id = course.context_id, tool.deployment_id
        people = [(u.sub, u.email) for u in learners]
    ids: list[int] = []
    with get_db(live.tool).begin() as session:
        deployment = session.scalars(
            select(Deployment).where(Deployment.deployment_id == deployment_id)
        ).one()
        registration = session.get_one(Registration, deployment.registration_id)
        context = session.scalars(
            select(LtiContext).where(
                LtiContext.deployment_id == deployment.id, LtiContext.context_id == context_id
            )
        ).first()  # the course's launches have recorded it (on the cluster)
        if context is None:
            context = LtiContext(
                registration_id=registration.id,
                deployment_id=deployment.id,
                context_id=context_id,
                title=DEMO_COURSE,
            )
            session.add(context)
        users = []
        for sub, email in people:
            user = session.scalars(
                select(LtiUser).where(
                    LtiUser.registration_id == registration.id, LtiUser.sub == sub
                )
            ).first()
            if user is None:
                user = LtiUser(registration_id=registration.id, sub=sub, email=email)
                session.add(user)
            users.append(user)
        session.flush()
        for n, url in enumerate(urls):
            link = LtiResourceLink(
                registration_id=registration.id,
                context_id=context.id,
                resource_link_id=f"c{n}-{uuid.uuid4().hex[:8]}",
            )
            session.add(link)
            session.flush()
            item = LineItem(
                registration_id=registration.id,
                resource_link_id=link.id,
                url=url,
                scopes=list(TOOL_SCOPES),
            )
            session.add(item)
            session.flush()
            for user in users:
                row = ScoreDelivery(
                    registration_id=registration.id,
                    line_item_id=item.id,
                    user_id=user.id,
                    body=SUBMITTED,
                )
                session.add(row)
                session.flush()
                ids.append(row.id)
    return ids


def set_body(live: LiveServers, body: dict[str, Any], ids: list[int] | None = None) -> None:
    """A newer desired state for these cells (all when ``ids`` is None), as a decision sets."""
    from sqlalchemy import update

    from app.db import utcnow

    query = update(ScoreDelivery).values(
        body=body,
        version=ScoreDelivery.version + 1,
        status=ScoreDelivery.PENDING,
        tries=0,
        available_at=utcnow(),
        desired_at=utcnow(),
    )
    if ids is not None:
        query = query.where(ScoreDelivery.id.in_(ids))
    with get_db(live.tool).begin() as session:
        session.execute(query)


def lms_cells(live: LiveServers) -> dict[tuple[int, int], tuple[DevGrade, list[dict[str, Any]]]]:
    """Every gradebook cell of the development LMS with the scores it accepted, in order."""
    with get_db(live.devlms).begin() as session:
        posts: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for log in session.scalars(select(DevScoreLog).order_by(DevScoreLog.id)):
            posts.setdefault((log.line_item_id, log.user_id), []).append(log.body)
        return {
            (g.line_item_id, g.user_id): (g, posts.get((g.line_item_id, g.user_id), []))
            for g in session.scalars(select(DevGrade))
        }


def set_faults(live: LiveServers, **values: Any) -> None:
    from app.devlms import faults

    with get_db(live.devlms).begin() as session:
        faults.set_faults(session, **values)


def add_learners(live: LiveServers, count: int) -> None:
    """Enrol ``count`` more learners in the demo course (the demo has three)."""
    from sqlalchemy import insert

    from app.devlms.models import DevEnrolment

    subs = [f"extra-learner-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    with get_db(live.devlms).begin() as session:
        course = session.scalars(select(DevCourse).where(DevCourse.title == DEMO_COURSE)).one()
        session.execute(
            insert(DevUser),
            [
                {
                    "sub": sub,
                    "given_name": "Extra",
                    "family_name": f"Learner {n}",
                    "email": f"{sub}@example.edu",
                }
                for n, sub in enumerate(subs)
            ],
        )
        users = session.scalars(select(DevUser.id).where(DevUser.sub.in_(subs))).all()
        session.execute(
            insert(DevEnrolment),
            [{"course_id": course.id, "user_id": u, "role": "Learner"} for u in users],
        )


def set_available_now(live: LiveServers, delivery_id: int) -> None:
    """Make a score waiting for its retry due at once."""
    from sqlalchemy import update

    from app.db import utcnow

    with get_db(live.tool).begin() as session:
        session.execute(
            update(ScoreDelivery)
            .where(ScoreDelivery.id == delivery_id)
            .values(available_at=utcnow())
        )

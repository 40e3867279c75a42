"""Course rosters in the development LMS, for the NRPS and progress tests: more learners than
one roster page holds, the tool's grant of the roster service, and the LMS's token count."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from app.db import get_db
from app.devlms.models import DevAccessToken, DevCourse, DevEnrolment, DevTool, DevUser
from app.devlms.platform import SCOPE_NRPS
from tests.support.live import LiveServers
from tests.support.lms import DEMO_COURSE


def enrol_learners(
    live: LiveServers, count: int, *, course: str = DEMO_COURSE, family: str = "Learner"
) -> list[str]:
    """Enrol ``count`` new learners in ``course``; return their emails, in order."""
    emails = []
    with get_db(live.devlms).begin() as session:
        course_id = session.scalars(select(DevCourse.id).where(DevCourse.title == course)).one()
        for n in range(count):
            tag = uuid.uuid4().hex[:8]
            user = DevUser(
                sub=f"roster-{tag}",
                given_name=f"Learner{n:03d}",
                family_name=family,
                email=f"learner{n:03d}.{tag}@example.edu",
            )
            session.add(user)
            session.flush()
            session.add(DevEnrolment(course_id=course_id, user_id=user.id, role="Learner"))
            emails.append(user.email)
    return emails


def token_requests(live: LiveServers) -> int:
    """How many access tokens the LMS has issued."""
    with get_db(live.devlms).begin() as session:
        return session.scalar(select(func.count()).select_from(DevAccessToken)) or 0


def withdraw_roster_service(live: LiveServers) -> None:
    """Take the roster scope from the tool, as an admin turning the LMS's NRPS service off
    would: launches then carry no NRPS claim."""
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool)).one()
        tool.scopes = [s for s in tool.scopes if s != SCOPE_NRPS]

"""Builders for the evidence tests: course activities for a credential in the development LMS,
launches that land on the workspace, and the attempt rows behind them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from html import unescape
from typing import Any

import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevEnrolment, DevLink, DevTool, DevUser
from app.evidence.models import Answer, Attempt, EvidenceFile, EvidenceLink
from tests.support.live import LiveServers
from tests.support.lms import DEMO_COURSE, LmsUser

HINGE = "questioning-to-check-for-understanding"
FEEDBACK = "feedback-that-moves-learning-forward"
LEARNER = "jordan.lee@example.edu"
OTHER_LEARNER = "priya.natarajan@example.edu"
INSTRUCTOR = "maria.alvarez@example.edu"


def add_activity(
    live: LiveServers, slug: str, *, course: str = DEMO_COURSE, version: str = "latest"
) -> str:
    """Put a link to ``slug`` into a course, as Deep Linking would; return its title."""
    title = f"Micro-credential {slug} in {course} {uuid.uuid4().hex[:6]}"
    with get_db(live.devlms).begin() as session:
        course_row = session.scalars(select(DevCourse).where(DevCourse.title == course)).one()
        tool = session.scalars(select(DevTool)).one()
        session.add(
            DevLink(
                course_id=course_row.id,
                tool_id=tool.id,
                resource_link_id=uuid.uuid4().hex,
                title=title,
                custom={"microcred_credential": slug, "microcred_version": version},
            )
        )
    return title


def second_course(live: LiveServers, title: str = "Assessment for Learning") -> str:
    """A second course with the demo's people enrolled (same roles)."""
    with get_db(live.devlms).begin() as session:
        demo = session.scalars(select(DevCourse).where(DevCourse.title == DEMO_COURSE)).one()
        course = DevCourse(title=title, label="EDU-202", context_id=uuid.uuid4().hex)
        session.add(course)
        session.flush()
        for enrolment in demo.enrolments:
            session.add(
                DevEnrolment(course_id=course.id, user_id=enrolment.user_id, role=enrolment.role)
            )
    return title


@dataclass
class Session:
    """A launched educator: their browser and the session token of the page they are on."""

    user: LmsUser
    token: str
    base: str
    page: requests.Response

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.user.http.get(self.base + path, params={"lt": self.token, **params}, timeout=30)

    def post(self, path: str, **data: Any) -> requests.Response:
        response = self.user.http.post(
            self.base + path, data={"lt": self.token, **data}, timeout=30
        )
        self._follow(response)
        return response

    def put_json(self, path: str, body: Any) -> requests.Response:
        return self.user.http.put(
            self.base + path,
            json=body,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            timeout=30,
        )

    def _follow(self, response: requests.Response) -> None:
        found = re.search(r"[?&]lt=([^&#\"]+)", response.url)
        if found:
            self.token = found.group(1)


def launch(live: LiveServers, email: str, link_title: str) -> Session:
    user = LmsUser(live, email)
    page = user.launch(link_title)
    assert page.status_code == 200, page.text[:500]
    token = re.search(r"[?&]lt=([^&#\"]+)", page.url)
    assert token, page.url
    return Session(user, token.group(1), live.tool_url, page)


def start(session: Session, slug: str) -> requests.Response:
    """Press "Start this micro-credential" (or go to the workspace if started)."""
    response = session.post(f"/work/{slug}/start")
    assert response.status_code == 200, response.text[:800]
    assert f"/work/{slug}" in response.url
    return response


def attempt_id(html: str) -> int:
    found = re.search(r'data-attempt="(\d+)"', html)
    assert found, "no attempt on the page"
    return int(found.group(1))


def link_from(html: str, path_start: str) -> str:
    found = re.search(rf'href="({re.escape(path_start)}[^"]*)"', html)
    assert found, f"no link to {path_start}"
    return unescape(found.group(1))


def attempts(live: LiveServers, email: str = LEARNER) -> list[Attempt]:
    from app.lti.models import LtiUser

    with get_db(live.devlms).begin() as session:
        sub = session.scalars(select(DevUser.sub).where(DevUser.email == email)).one()
    with get_db(live.tool).begin() as session:
        user = session.scalars(select(LtiUser).where(LtiUser.sub == sub)).first()
        if user is None:
            return []
        return list(
            session.scalars(
                select(Attempt).where(Attempt.user_id == user.id).order_by(Attempt.number)
            )
        )


def set_state(live: LiveServers, attempt: int, state: str) -> None:
    """Record a decision directly (the review feature comes later)."""
    from app.db import utcnow

    with get_db(live.tool).begin() as session:
        row = session.get(Attempt, attempt)
        assert row is not None
        row.state = state
        row.decided_at = utcnow()


def answer_text(live: LiveServers, attempt: int, part: str) -> str | None:
    with get_db(live.tool).begin() as session:
        return session.scalars(
            select(Answer.text).where(Answer.attempt_id == attempt, Answer.part_key == part)
        ).first()


def rows_of(live: LiveServers, model: Any, attempt: int) -> list[Any]:
    with get_db(live.tool).begin() as session:
        return list(
            session.scalars(select(model).where(model.attempt_id == attempt).order_by(model.id))
        )


__all__ = ["EvidenceFile", "EvidenceLink"]


def other_platform_attempt(live: LiveServers, like: int) -> tuple[int, int]:
    """Register another platform ("beta") with one user and give that user a draft attempt at
    the same credential version as attempt ``like``; return (registration id, attempt id)."""
    from app.lti.models import LtiUser, Registration

    with get_db(live.tool).begin() as session:
        registration = Registration(
            name="beta",
            issuer="https://beta.example",
            client_id="c",
            auth_login_url="https://beta.example/auth",
            auth_token_url="https://beta.example/token",
            key_set_url="https://beta.example/jwks",
        )
        session.add(registration)
        session.flush()
        user = LtiUser(registration_id=registration.id, sub="beta-user")
        session.add(user)
        session.flush()
        template = session.get(Attempt, like)
        assert template is not None
        theirs = Attempt(
            registration_id=registration.id,
            user_id=user.id,
            credential_id=template.credential_id,
            version_id=template.version_id,
            number=1,
            state=Attempt.DRAFT,
            changes_note="",
        )
        session.add(theirs)
        session.flush()
        return registration.id, theirs.id


ASSESSOR_NAME = "Quentin Assessor-Blackwood"
"""The reviewer's name in ``decide``: the educator's pages never show it."""


def record_decision(
    session: Any,
    attempt: Attempt,
    outcome: str,
    criteria: dict[str, dict[str, Any]],
    feedback: str = "",
) -> Any:
    """Decide a submitted attempt as the review service does: a submitted round-1 review by an
    assessor of the attempt's platform, the decision standing on it, the attempt's new state."""
    from datetime import timedelta

    from app.db import utcnow
    from app.grading.models import Decision, Review
    from app.lti.models import LtiUser

    now = utcnow()
    assessor = session.scalars(
        select(LtiUser).where(
            LtiUser.registration_id == attempt.registration_id, LtiUser.sub == "assessor-1"
        )
    ).first()
    if assessor is None:
        assessor = LtiUser(
            registration_id=attempt.registration_id,
            sub="assessor-1",
            name=ASSESSOR_NAME,
            email="q.blackwood@example.edu",
        )
        session.add(assessor)
        session.flush()
    review = Review(
        registration_id=attempt.registration_id,
        attempt_id=attempt.id,
        round=Review.FIRST,
        reviewer_id=assessor.id,
        state=Review.SUBMITTED,
        criteria=criteria,
        feedback=feedback,
        outcome=outcome,
        claimed_at=now - timedelta(minutes=30),
        expires_at=now + timedelta(hours=1),
        submitted_at=now,
    )
    session.add(review)
    session.flush()
    decision = Decision(
        registration_id=attempt.registration_id,
        attempt_id=attempt.id,
        review_id=review.id,
        outcome=outcome,
        criteria=criteria,
        feedback=feedback,
        decided_at=now,
    )
    session.add(decision)
    attempt.state = outcome
    attempt.decided_at = now
    session.flush()
    return decision


def decide(
    live: LiveServers,
    attempt: int,
    outcome: str,
    criteria: dict[str, dict[str, Any]],
    feedback: str = "",
) -> None:
    """``record_decision`` on the tool's database, for an attempt given by id."""
    with get_db(live.tool).begin() as session:
        row = session.get(Attempt, attempt)
        assert row is not None
        record_decision(session, row, outcome, criteria, feedback)


HINGE_NOT_YET = {
    "diagnostic-question": {"met": True, "comment": "A real hinge: each distractor is named."},
    "planned-decision-rule": {"met": True, "comment": ""},
    "every-student-responds": {
        "met": False,
        "comment": "The photo shows only the front two rows; show every student's answer.",
    },
    "responsive-adjustment": {"met": True, "comment": "Clear numbers and a fitting move."},
    "next-steps": {
        "met": False,
        "comment": "Name the lesson and the date where you will use a hinge question next.",
    },
}
"""A "not yet" on the hinge-question credential: two criteria (two parts) need work."""

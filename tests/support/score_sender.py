"""Send AGS scores to the live development LMS as a tool would (a real access token), and read
what its gradebook kept, for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from sqlalchemy import func, select

from app.db import get_db
from app.devlms.models import DevGrade, DevLineItem, DevScoreLog, DevUser
from app.devlms.platform import SCOPE_LINEITEM, SCOPE_RESULT, SCOPE_SCORE
from tests.support.live import LiveServers
from tests.support.tokens import access_token, demo_tool

SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LEARNER = "jordan.lee@example.edu"
INSTRUCTOR = "maria.alvarez@example.edu"


class ScoreSender:
    """The demo course's graded column, seen by the demo tool holding one access token."""

    def __init__(self, live: LiveServers, scopes: list[str] | None = None) -> None:
        self.live = live
        self.http = requests.Session()
        token = access_token(live, scopes or [SCOPE_LINEITEM, SCOPE_SCORE, SCOPE_RESULT])
        self.http.headers["Authorization"] = f"Bearer {token}"
        with get_db(live.devlms).begin() as session:
            item = session.scalars(select(DevLineItem)).one()
            self.item_id, self.course_id = item.id, item.course_id
            self.subs = {u.email: u.sub for u in session.scalars(select(DevUser))}
        tool_id = demo_tool(live).id
        base = f"{live.devlms_url}/api/lti/courses/{self.course_id}/lineitems"
        self.lineitems = f"{base}?type_id={tool_id}"
        self.scores = f"{base}/{self.item_id}/lineitem/scores?type_id={tool_id}"
        self.results = f"{base}/{self.item_id}/lineitem/results?type_id={tool_id}"
        self.memberships = f"{live.devlms_url}/api/lti/courses/{self.course_id}/memberships"
        self._sent = 0

    def body(self, email: str = LEARNER, **changes: Any) -> dict[str, Any]:
        """A FullyGraded score of 80/100 for ``email``; ``changes`` replace fields, ``None``
        drops one. Each body is a second newer than the last (Moodle refuses two in one
        second)."""
        self._sent += 1
        stamp = datetime.now(UTC) + timedelta(seconds=self._sent)
        body: dict[str, Any] = {
            "userId": self.subs[email],
            "timestamp": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "scoreGiven": 80,
            "scoreMaximum": 100,
            "comment": "Well evidenced.",
            **changes,
        }
        return {k: v for k, v in body.items() if v is not None}

    def post(self, body: dict[str, Any] | None = None) -> requests.Response:
        return self.http.post(
            self.scores,
            json=body if body is not None else self.body(),
            headers={"Content-Type": SCORE_TYPE},
            timeout=30,
        )

    def grade(self, email: str = LEARNER) -> DevGrade | None:
        """The learner's gradebook cell in the column, or ``None``."""
        with get_db(self.live.devlms).begin() as session:
            grade = session.scalars(
                select(DevGrade)
                .join(DevUser, DevUser.id == DevGrade.user_id)
                .where(DevUser.email == email, DevGrade.line_item_id == self.item_id)
            ).first()
            if grade is not None:
                session.expunge(grade)
            return grade

    def logged(self) -> int:
        """How many score POSTs the LMS accepted into its log."""
        with get_db(self.live.devlms).begin() as session:
            return session.scalar(select(func.count()).select_from(DevScoreLog)) or 0

"""The review queue and the review page send as many SQL statements with 40 submissions (with
reviews in every state) as with 3: the queue's rows, reviews, rubrics and filter choices are read
in a fixed number of queries (issue 9; bench/review.py measures it at 100 000). Counted
in-process (the tool's Flask test client) inside a real launch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import get_db, utcnow
from app.evidence.models import Attempt
from app.grading.models import Review
from app.linking.models import LinkedCredential, LinkVisit
from app.lti.models import LtiUser
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, add_activity, launch
from tests.grading.support import claim, submitted
from tests.support.catalog import seed_sample_catalog
from tests.support.statements import statements_per_request


@pytest.fixture
def activity(live) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    return add_activity(live, HINGE)


def add_submissions(live, like: int, count: int) -> None:
    """``count`` more submitted attempts by new educators who opened the same course link,
    a third of them claimed by someone, a third with a submitted first review."""
    with get_db(live.tool).begin() as session:
        template = session.get(Attempt, like)
        assert template is not None
        link_id = session.scalars(
            select(LinkedCredential.resource_link_id).where(
                LinkedCredential.credential_id == template.credential_id
            )
        ).first()
        reviewer = session.scalars(select(LtiUser.id).where(LtiUser.sub == "gen-reviewer")).first()
        if reviewer is None:
            row = LtiUser(registration_id=template.registration_id, sub="gen-reviewer")
            session.add(row)
            session.flush()
            reviewer = row.id
        start = session.scalar(select(LtiUser.id).order_by(LtiUser.id.desc())) or 0
        for n in range(count):
            user = LtiUser(
                registration_id=template.registration_id,
                sub=f"gen-{start}-{n}",
                name=f"Educator {n}",
            )
            session.add(user)
            session.flush()
            session.add(
                LinkVisit(
                    registration_id=template.registration_id,
                    resource_link_id=link_id,
                    user_id=user.id,
                )
            )
            attempt = Attempt(
                registration_id=template.registration_id,
                user_id=user.id,
                credential_id=template.credential_id,
                version_id=template.version_id,
                number=1,
                state=Attempt.SUBMITTED if n % 3 == 0 else Attempt.IN_REVIEW,
                submitted_at=utcnow() - timedelta(days=n if n % 2 else 10 + n),
            )
            session.add(attempt)
            session.flush()
            if n % 3:
                session.add(
                    Review(
                        registration_id=template.registration_id,
                        attempt_id=attempt.id,
                        round=1,
                        reviewer_id=reviewer,
                        state=Review.CLAIMED if n % 3 == 1 else Review.SUBMITTED,
                        outcome=None if n % 3 == 1 else "earned",
                        expires_at=utcnow() + timedelta(hours=1),
                    )
                )


def test_review_statements_do_not_grow_with_the_submissions(live, activity):
    attempt = submitted(launch(live, LEARNER, activity))
    instructor = launch(live, INSTRUCTOR, activity)
    claim(instructor, attempt)
    paths = {
        "queue": ("/review", {}),
        "queue, credential": ("/review", {"credential": HINGE}),
        "queue, waited": ("/review", {"waited": "7"}),
        "review page": (f"/review/attempts/{attempt}", {}),
    }
    add_submissions(live, attempt, 2)
    small = statements_per_request(live, instructor.token, paths)
    add_submissions(live, attempt, 38)
    large = statements_per_request(live, instructor.token, paths)
    assert small == large
    assert large["queue"] <= 12, large

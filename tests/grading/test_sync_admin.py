"""The console's gradebook sync page: per-platform counts, the scores not sent across
platforms with their reasons, and sending them again (operators only, audited)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import get_db
from app.grading.models import ScoreDelivery
from app.lti.models import Deployment, LineItem, LtiContext, LtiResourceLink
from tests.admin.console import check_html
from tests.catalog.authoring_support import account, add_organisation, post, text_of
from tests.grading.admin_support import add_credential, add_person, add_platform

NOT_A_STUDENT = (
    "The LMS would not take a grade for this person: they are not enrolled as a student in "
    "this course (or their enrolment ended). (HTTP 400: Incorrect score received)"
)


def add_delivery(app, registration_id: int, user_id: int, status: str, reason: str | None) -> int:
    """A score for a column of a course of the platform; return its id."""
    with get_db(app).begin() as session:
        deployment = Deployment(
            registration_id=registration_id, deployment_id="d1", status="active"
        )
        session.add(deployment)
        session.flush()
        context = LtiContext(
            registration_id=registration_id,
            deployment_id=deployment.id,
            context_id="c1",
            title="Science 7",
        )
        session.add(context)
        session.flush()
        link = LtiResourceLink(
            registration_id=registration_id,
            context_id=context.id,
            resource_link_id="r1",
            title="Hinge questions",
        )
        session.add(link)
        session.flush()
        item = LineItem(
            registration_id=registration_id, resource_link_id=link.id, url="https://lms/li/1"
        )
        session.add(item)
        session.flush()
        delivery = ScoreDelivery(
            registration_id=registration_id,
            line_item_id=item.id,
            user_id=user_id,
            body={
                "activityProgress": "Completed",
                "gradingProgress": "FullyGraded",
                "scoreGiven": 10.0,
                "scoreMaximum": 10.0,
            },
            status=status,
            tries=1,
            last_error=reason,
        )
        session.add(delivery)
        session.flush()
        return delivery.id


@pytest.fixture
def failed(app) -> int:
    add_organisation(app, "lakemont", "Lakemont Institute")
    add_credential(app, "lakemont", "hinge")
    moodle, _ = add_platform(app, "District Moodle")
    sam = add_person(app, moodle, "sam-1", "sam@district.example", "Sam Reid")
    return add_delivery(app, moodle, sam, ScoreDelivery.FAILED, NOT_A_STUDENT)


def test_operators_see_scores_not_sent_with_the_reason(app, failed):
    operator = account(app, "olive@example.org", operator=True)
    page = operator.get("/admin/gradebook")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "District Moodle" in text
    assert "Sam Reid" in text
    assert "Science 7 · Hinge questions" in text
    assert "Earned (full points)" in text
    assert NOT_A_STUDENT in text
    check_html(page.text)


def test_operator_sends_a_failed_score_again_and_it_is_audited(app, failed):
    operator = account(app, "olive@example.org", operator=True)
    response = post(operator, "/admin/gradebook/retry", {"delivery": str(failed)})
    assert response.status_code == 303
    with get_db(app).begin() as session:
        row = session.get(ScoreDelivery, failed)
        assert row is not None
        assert (row.status, row.tries, row.last_error) == (ScoreDelivery.PENDING, 0, None)
        [event] = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "gradebook.retry")
        ).all()
        assert event.actor == "olive@example.org"


def test_operator_sends_every_failed_score_of_a_platform_again(app, failed):
    operator = account(app, "olive@example.org", operator=True)
    with get_db(app).begin() as session:
        registration_id = session.get(ScoreDelivery, failed).registration_id
    response = post(operator, "/admin/gradebook/retry", {"platform": str(registration_id)})
    page = operator.get(response.headers["Location"])
    assert "1 score will be sent again now." in text_of(page.text)


def test_authors_cannot_open_the_gradebook_sync(app, failed):
    author = account(app, "author@example.org", memberships={"lakemont": "author"})
    assert author.get("/admin/gradebook").status_code == 403

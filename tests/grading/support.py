"""Builders for the review tests: a submitted attempt made through the educator's real pages,
a reviewer launched from the development LMS, and the review settings of the sample credential."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from sqlalchemy import select, update

from app.catalog.models import Credential, CredentialVersion, Organisation
from app.db import get_db
from app.evidence.models import Attempt
from app.grading.models import Review
from tests.evidence.support import HINGE, Session, attempt_id, launch, start
from tests.support.live import LiveServers

CRITERIA = (
    "diagnostic-question",
    "planned-decision-rule",
    "every-student-responds",
    "responsive-adjustment",
    "next-steps",
)


TA = "samuel.okafor@example.edu"


def make_role(live, email: str, role: str) -> None:
    from app.devlms.models import DevEnrolment, DevUser

    with get_db(live.devlms).begin() as session:
        user = session.scalars(select(DevUser).where(DevUser.email == email)).one()
        session.execute(
            update(DevEnrolment).where(DevEnrolment.user_id == user.id).values(role=role)
        )


def submitted(educator: Session) -> int:
    """Start, fill and submit the hinge-question credential as ``educator``; return the attempt."""
    attempt = attempt_id(start(educator, HINGE).text)
    for part, text in (("overview", "My class of 28 and the hinge."), ("reflection", "I learned.")):
        saved = educator.put_json(
            f"/work/attempts/{attempt}/answers/{part}", {"text": text, "version": 0}
        )
        assert saved.ok, saved.text[:300]
    for part in ("lesson-plan", "response-evidence"):
        added = educator.post(
            f"/work/attempts/{attempt}/links",
            part=part,
            url="https://docs.example.org/plan",
            title="My plan",
        )
        assert added.status_code == 200, added.text[:300]
    done = educator.post(f"/work/attempts/{attempt}/submit")
    assert done.status_code == 200, done.text[:300]
    return attempt


def set_review(live: LiveServers, *, organisation_blind: bool | None = None, **review: Any) -> None:
    """Change the hinge credential's review settings (every version) and its organisation's."""
    with get_db(live.tool).begin() as session:
        credential = session.scalars(select(Credential).where(Credential.slug == HINGE)).one()
        table = CredentialVersion.__table__
        for version in session.scalars(
            select(CredentialVersion).where(CredentialVersion.credential_id == credential.id)
        ):
            content = dict(version.content)
            content["review"] = {**(content.get("review") or {}), **review}
            # A published version is immutable through the ORM (its events refuse); a test
            # that needs other settings changes the row underneath.
            session.execute(table.update().where(table.c.id == version.id).values(content=content))
        if organisation_blind is not None:
            organisation = session.get(Organisation, credential.organisation_id)
            assert organisation is not None
            organisation.blind_review = organisation_blind


def judgement(met: dict[str, bool] | None = None, comment: str = "Because.") -> dict[str, Any]:
    """Every criterion met unless ``met`` says otherwise; not-yet criteria carry a comment."""
    met = met or {}
    return {
        key: {"met": met.get(key, True), "comment": "" if met.get(key, True) else comment}
        for key in CRITERIA
    }


def form_of(criteria: dict[str, Any], feedback: str = "") -> dict[str, str]:
    data = {"feedback": feedback}
    for key, judged in criteria.items():
        if judged["met"] is not None:
            data[f"met-{key}"] = "met" if judged["met"] else "not_yet"
        data[f"comment-{key}"] = judged["comment"]
    return data


def claim(reviewer: Session, attempt: int):
    """Press "Review" in the queue; return the review page response."""
    return reviewer.post(f"/review/attempts/{attempt}/claim")


def review_ids(html: str) -> tuple[int, int]:
    """The review id and draft version on a review page."""
    review = re.search(r'data-review="(\d+)"', html)
    version = re.search(r'data-version="(\d+)"', html)
    assert review and version, "no review in progress on the page"
    return int(review.group(1)), int(version.group(1))


def draft(reviewer: Session, attempt: int, review: int, version: int, criteria: dict, feedback=""):
    return reviewer.user.http.post(
        f"{reviewer.base}/review/attempts/{attempt}/draft",
        json={"review": review, "version": version, "criteria": criteria, "feedback": feedback},
        headers={"Authorization": f"Bearer {reviewer.token}", "Accept": "application/json"},
        timeout=30,
    )


def decide(reviewer: Session, attempt: int, criteria: dict[str, Any], feedback: str = "Well done."):
    """Claim, fill the form, continue to the decision and confirm it; return the final page."""
    page = claim(reviewer, attempt)
    assert page.status_code == 200, page.text[:500]
    review, version = review_ids(page.text)
    saved = reviewer.post(
        f"/review/attempts/{attempt}/save",
        review=str(review),
        version=str(version),
        action="decide",
        **form_of(criteria, feedback),
    )
    assert saved.status_code == 200 and "/decide" in saved.url, saved.text[:800]
    version_field = re.search(r'name="version" value="(\d+)"', saved.text)
    assert version_field
    return reviewer.post(
        f"/review/attempts/{attempt}/decide", version=version_field.group(1), action="confirm"
    )


def state_of(live: LiveServers, attempt: int) -> str:
    with get_db(live.tool).begin() as session:
        row = session.get(Attempt, attempt)
        assert row is not None
        return row.state


def reviews(live: LiveServers, attempt: int) -> list[Review]:
    with get_db(live.tool).begin() as session:
        found = list(
            session.scalars(
                select(Review).where(Review.attempt_id == attempt).order_by(Review.round)
            )
        )
        session.expunge_all()
        return found


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


__all__ = ["launch"]

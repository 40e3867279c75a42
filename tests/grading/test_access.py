"""Who may open a submission's evidence and review it beyond their own course: reviewers'
downloads (names hidden in blind review, ranges for video), assessor grants across courses and
platforms, and the decision's atomicity with its outbox event (issue 9)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from app.catalog.models import Credential, Organisation
from app.db import get_db, utcnow
from app.evidence.models import Answer, Attempt, EvidenceFile
from app.grading import outbox, services
from app.grading.models import AssessorGrant, Decision, Review
from app.lti.models import LtiUser
from app.outbox.models import OutboxEvent
from tests.evidence.support import (
    HINGE,
    INSTRUCTOR,
    OTHER_LEARNER,
    Session,
    add_activity,
    launch,
    other_platform_attempt,
    second_course,
)
from tests.grading.support import (
    TA,
    claim,
    decide,
    judgement,
    make_role,
    review_ids,
    set_review,
    state_of,
    submitted,
)

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def upload(educator: Session, attempt: int, name: str = "Jordan Lee lesson plan.pdf") -> int:
    response = educator.user.http.post(
        f"{educator.base}/work/attempts/{attempt}/parts/lesson-plan/files",
        data={"lt": educator.token},
        files={"file": (name, PDF, "application/pdf")},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:500]
    with get_db(educator.user.live.tool).begin() as session:
        return session.scalars(
            select(EvidenceFile.id).where(EvidenceFile.attempt_id == attempt)
        ).one()


def submitted_with_file(educator: Session) -> tuple[int, int]:
    from tests.evidence.support import attempt_id, start

    attempt = attempt_id(start(educator, HINGE).text)
    file_id = upload(educator, attempt)
    finish_and_submit(educator, attempt, link_part="response-evidence")
    return attempt, file_id


def finish_and_submit(educator: Session, attempt: int, *, link_part: str) -> None:
    """Write the two text parts, link the one part still without evidence, submit."""
    for part, text in (("overview", "The hinge."), ("reflection", "I learned.")):
        assert educator.put_json(
            f"/work/attempts/{attempt}/answers/{part}", {"text": text, "version": 0}
        ).ok
    educator.post(
        f"/work/attempts/{attempt}/links",
        part=link_part,
        url="https://docs.example.org/r",
        title="Responses",
    )
    assert educator.post(f"/work/attempts/{attempt}/submit").status_code == 200


# --- Evidence files -------------------------------------------------------------------------


def test_a_reviewer_downloads_the_evidence_by_its_name(live, educator, instructor):
    _, file_id = submitted_with_file(educator)
    got = instructor.get(f"/evidence/files/{file_id}/download")
    assert got.status_code == 200 and got.content == PDF
    assert "Jordan%20Lee%20lesson%20plan.pdf" in got.headers["Content-Disposition"]


def test_in_blind_review_the_download_name_is_neutral(live, educator, instructor):
    set_review(live, blind=True)
    _, file_id = submitted_with_file(educator)
    got = instructor.get(f"/evidence/files/{file_id}/download")
    assert got.status_code == 200
    assert "Jordan" not in got.headers["Content-Disposition"]
    assert f'filename="evidence-{file_id}.pdf"' in got.headers["Content-Disposition"]
    # The educator still sees their own name for their own file.
    own = educator.get(f"/evidence/files/{file_id}/download")
    assert "Jordan%20Lee" in own.headers["Content-Disposition"]


def test_a_pdf_opens_inline_for_the_review_page_and_answers_ranges(live, educator, instructor):
    _, file_id = submitted_with_file(educator)
    inline = instructor.get(f"/evidence/files/{file_id}/download", inline="1")
    assert inline.headers["Content-Disposition"].startswith("inline;")
    policy = inline.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' " in policy and live.devlms_url in policy
    assert "sandbox" not in policy  # Chromium's PDF viewer refuses a sandboxed document
    part = instructor.user.http.get(
        f"{live.tool_url}/evidence/files/{file_id}/download",
        params={"lt": instructor.token, "inline": "1"},
        headers={"Range": "bytes=0-7"},
        timeout=30,
    )
    assert part.status_code == 206 and part.content == PDF[:8]


def test_another_learner_cannot_download_the_evidence(live, educator, activity):
    _, file_id = submitted_with_file(educator)
    other = launch(live, OTHER_LEARNER, activity)
    assert other.get(f"/evidence/files/{file_id}/download").status_code == 404


def test_an_instructor_of_another_course_cannot_download_it(live, educator):
    _, file_id = submitted_with_file(educator)
    elsewhere = add_activity(live, HINGE, course=second_course(live, "Elsewhere"))
    teacher = launch(live, INSTRUCTOR, elsewhere)
    assert teacher.get(f"/evidence/files/{file_id}/download").status_code == 404


def test_the_review_page_shows_the_pdf_inline(live, educator, instructor):
    attempt, file_id = submitted_with_file(educator)
    page = claim(instructor, attempt).text
    assert "<iframe" in page and f"/evidence/files/{file_id}/download" in page
    assert "inline=1" in page


# --- Assessor grants ------------------------------------------------------------------------


def grant(live, email: str, organisation: str = "lakemont-itl", *, lead: bool = False) -> None:
    from app.devlms.models import DevUser

    with get_db(live.devlms).begin() as session:
        sub = session.scalars(select(DevUser.sub).where(DevUser.email == email)).one()
    with get_db(live.tool).begin() as session:
        user = session.scalars(select(LtiUser).where(LtiUser.sub == sub)).one()
        org = session.scalars(select(Organisation).where(Organisation.slug == organisation)).one()
        session.add(
            AssessorGrant(
                registration_id=user.registration_id,
                organisation_id=org.id,
                user_id=user.id,
                lead=lead,
                granted_by="test",
            )
        )


def beta_submission(live, like: int) -> int:
    """Another platform's educator's submitted attempt, with a text answer."""
    registration_id, theirs = other_platform_attempt(live, like)
    with get_db(live.tool).begin() as session:
        session.execute(
            update(Attempt)
            .where(Attempt.id == theirs)
            .values(state=Attempt.SUBMITTED, submitted_at=utcnow())
        )
        session.add(
            Answer(
                registration_id=registration_id,
                attempt_id=theirs,
                part_key="overview",
                text="Beta platform hinge question.",
            )
        )
    return theirs


def test_an_assessor_grant_reviews_another_platforms_submission(live, educator, instructor):
    theirs = beta_submission(live, submitted(educator))
    assert instructor.get(f"/review/attempts/{theirs}").status_code == 404
    grant(live, INSTRUCTOR)
    queue = instructor.get("/review").text
    assert f'data-attempt="{theirs}"' in queue
    page = claim(instructor, theirs)
    assert page.status_code == 200
    assert "Beta platform hinge question." in page.text
    done = decide(instructor, theirs, judgement())
    assert "Decision recorded: earned" in done.text
    with get_db(live.tool).begin() as session:
        decision = session.scalars(select(Decision).where(Decision.attempt_id == theirs)).one()
        attempt = session.get(Attempt, theirs)
        assert attempt is not None and decision.registration_id == attempt.registration_id
        event = session.scalars(select(OutboxEvent).where(OutboxEvent.attempt_id == theirs)).one()
        assert event.registration_id == attempt.registration_id and event.kind == "decided"


def test_an_assessor_reviews_across_courses_even_as_a_learner(live, educator, activity):
    attempt = submitted(educator)
    student = launch(live, OTHER_LEARNER, activity)
    assert student.get("/review").status_code == 403
    grant(live, OTHER_LEARNER)
    assert f'data-attempt="{attempt}"' in student.get("/review").text
    assert claim(student, attempt).status_code == 200


def test_a_revoked_grant_no_longer_reviews(live, educator, instructor):
    theirs = beta_submission(live, submitted(educator))
    grant(live, INSTRUCTOR)
    with get_db(live.tool).begin() as session:
        session.execute(update(AssessorGrant).values(revoked_at=utcnow()))
    assert instructor.get(f"/review/attempts/{theirs}").status_code == 404


def test_an_assessor_of_another_organisation_cannot_review(live, educator, instructor):
    theirs = beta_submission(live, submitted(educator))
    grant(live, INSTRUCTOR, "riverbend-pln")
    assert f'data-attempt="{theirs}"' not in instructor.get("/review").text
    assert claim(instructor, theirs).status_code == 404


def test_a_lead_grant_settles_a_disagreement(live, educator, instructor, activity):
    set_review(live, second_review=True)
    attempt = submitted(educator)
    make_role(live, TA, "TeachingAssistant")
    assistant = launch(live, TA, activity)
    decide(instructor, attempt, judgement())
    decide(assistant, attempt, judgement({"next-steps": False}, "No next step."))
    lead = launch(live, OTHER_LEARNER, activity)
    grant(live, OTHER_LEARNER, lead=False)
    assert claim(lead, attempt).status_code == 409
    with get_db(live.tool).begin() as session:
        session.execute(update(AssessorGrant).values(lead=True))
    assert claim(lead, attempt).status_code == 200


# --- Atomicity ------------------------------------------------------------------------------


class Crash(Exception):
    pass


def test_a_crash_between_the_decision_and_its_event_leaves_neither(
    live, educator, instructor, monkeypatch
):
    """The decision, the attempt's outcome and the outbox event are one transaction."""
    attempt = submitted(educator)
    review_id, version = review_ids(claim(instructor, attempt).text)

    def crash(*args, **kwargs):
        raise Crash("the process died here")

    with get_db(live.tool).session_factory() as session:
        row = session.get(Attempt, attempt)
        assert row is not None
        maria = session.scalars(select(Review.reviewer_id).where(Review.id == review_id)).one()
        reviewer = services.Reviewer(
            user_id=maria,
            registration_id=row.registration_id,
            context_id=None,
            course_lead=False,
            grants={
                session.scalars(
                    select(Credential.organisation_id).where(Credential.slug == HINGE)
                ).one(): True
            },
        )
        found = services.target(session, reviewer, attempt)
        monkeypatch.setattr(outbox, "record", crash)
        with pytest.raises(Crash):
            services.submit_review(session, reviewer, found, review_id, version, judgement(), "")
        session.rollback()
    monkeypatch.undo()
    assert state_of(live, attempt) == "in_review"
    with get_db(live.tool).begin() as session:
        assert (
            session.scalars(select(Decision).where(Decision.attempt_id == attempt)).first() is None
        )
        assert [
            e.kind
            for e in session.scalars(select(OutboxEvent).where(OutboxEvent.attempt_id == attempt))
        ] == ["submitted"]
        review = session.get(Review, review_id)
        assert review is not None and review.state == Review.CLAIMED
    # Nothing was lost: the same review can still be decided.
    assert "Decision recorded: earned" in decide(instructor, attempt, judgement()).text


def test_an_assessor_who_does_not_teach_finds_the_queue_from_the_activity(live, educator, activity):
    """Issue 28 item 2: the link was only on teachers' pages, so an assessor typed the URL."""
    launch(live, OTHER_LEARNER, activity)
    page = launch(live, OTHER_LEARNER, activity).page
    assert "/review?" not in page.text
    grant(live, OTHER_LEARNER)
    page = launch(live, OTHER_LEARNER, activity).page
    link = re.search(r'<a href="(/review\?[^"]+)">Review submissions</a>', page.text)
    assert link, "no way to the review queue"
    assert "assessor" in page.text


def test_the_reviewer_reads_the_educators_description_of_an_image(live, educator, instructor):
    """Issue 28 item 15 (WCAG 1.1.1, 1.2.1): an assessor who cannot see an image or hear a
    recording reads the educator's description or transcript, tied to the media."""
    from tests.evidence.support import attempt_id, start
    from tests.support.images import png

    attempt = attempt_id(start(educator, HINGE).text)
    sent = educator.user.http.post(
        f"{educator.base}/work/attempts/{attempt}/parts/response-evidence/files",
        data={"lt": educator.token},
        files={"file": ("whiteboards.png", png(), "image/png")},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text[:300]
    with get_db(live.tool).begin() as session:
        file_id = session.scalars(
            select(EvidenceFile.id).where(EvidenceFile.attempt_id == attempt)
        ).one()
    workspace = educator.post(
        f"/work/files/{file_id}/description",
        description="  Six whiteboards held up: four show B, two show C.  ",
    )
    assert workspace.status_code == 200, workspace.text[:300]
    assert ">Six whiteboards held up: four show B, two show C.</textarea>" in workspace.text
    finish_and_submit(educator, attempt, link_part="lesson-plan")

    page = claim(instructor, attempt).text
    assert f'aria-describedby="described-{file_id}"' in page
    assert (
        f'id="described-{file_id}"><strong>The educator\u2019s description:</strong> '
        "Six whiteboards held up: four show B, two show C." in page
    )

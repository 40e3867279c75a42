"""Reviewing a submitted attempt: who may, claiming it, the draft judgement, and the decision.

Who reviews (DESIGN "Review"): the instructors and teaching assistants of a course review the
submissions of the educators who opened that course's links to a credential; an assessor grant
(per issuer organisation) lets a designated person review that organisation's credentials from
any course on any platform. Nobody reviews their own submission. A submission someone may not
review is "not found", never "forbidden": its existence is not disclosed.

A review is a *claim* that expires (``CLAIM_MINUTES``, renewed by every save): of two assessors
opening the same submission one gets it, the other is told who has it; an abandoned claim frees
itself. Claims are decided by the database — a unique (attempt, round) row for a first claim, a
conditional UPDATE for a takeover — never by a read followed by a write.

Rounds: 1, then 2 when the credential asks for a second independent review (another assessor),
then 3 by a lead reviewer when the two disagree. The decision, the attempt's new state and the
outbox event that tells the worker (gradebook, badge) are written in one transaction.

The launch session is scoped to the reviewer's platform (app/tenancy.py); the attempt may belong
to another one (an assessor grant). Every statement here that reads review data therefore says
``all_platforms`` and carries its own access condition; once access is checked, the review page
re-scopes the request to the attempt's platform (``enter_attempt_platform``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.catalog.models import Credential, CredentialVersion, Organisation
from app.db import utcnow
from app.errors import AppError, Conflict, Forbidden, NotFound
from app.evidence.models import Attempt
from app.evidence.services import PartWork, part_works
from app.grading import outbox, rules
from app.grading.assessors import granted_organisations
from app.grading.models import Decision, Review
from app.linking.models import LinkedCredential, LinkVisit
from app.lti.launch import Launch
from app.lti.models import LtiContext, LtiResourceLink, LtiUser
from app.tenancy import ALL_PLATFORMS, scope_to_platform

CLAIM_MINUTES = 60
"""How long a claim holds without a save; every save renews it."""

ALL = {ALL_PLATFORMS: True}


class NotAReviewer(Forbidden):
    code = "not_a_reviewer"
    title = "Reviewing is for assessors"


class ClaimedByOther(Conflict):
    code = "claimed_by_other"
    title = "Someone else is reviewing this submission"


class NotYourTurn(Conflict):
    code = "not_your_turn"
    title = "This review is not yours to do"


class AlreadyDecided(Conflict):
    code = "already_decided"
    title = "This submission has been decided"


class ReviewConflict(Conflict):
    """A save quoting an older draft version: another tab saved since."""

    code = "review_conflict"
    title = "This review was saved from somewhere else"

    def __init__(self, message: str, *, hint: str, server_version: int) -> None:
        super().__init__(message, hint=hint)
        self.server_version = server_version


class InvalidReview(AppError):
    code = "invalid_review"
    title = "The review cannot be saved like this"

    def __init__(self, message: str, *, hint: str | None = None, fields: list[str] | None = None):
        super().__init__(message, hint=hint)
        self.fields = fields or []


NOT_HERE = (
    "There is no submission you may review at this address.",
    "It may have been withdrawn, or it belongs to a course you do not teach. "
    "Open the review queue from your course.",
)


# --- Who reviews ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Reviewer:
    """A person acting as an assessor in this launch, and what they may review."""

    user_id: int
    registration_id: int
    context_id: int | None
    """The launch's course (``lti_context.id``) when they teach it (instructor or TA)."""
    course_lead: bool
    """An instructor (not only a TA) of the launch's course: may settle disagreements there."""
    grants: Mapping[int, bool] = field(default_factory=dict)
    """Organisation id → lead, from active assessor grants."""
    course_title: str | None = None

    @property
    def is_assessor(self) -> bool:
        return self.context_id is not None or bool(self.grants)


def reviewer_of(session: Session, launch: Launch) -> Reviewer:
    """Return the launching person as a reviewer, or refuse (403) anyone who is not one."""
    if launch.user is None:
        raise NotAReviewer(
            "Your LMS opened Microcred without saying who you are, so you cannot review.",
            hint="Open Microcred from your course while signed in to your LMS.",
        )
    user = session.scalars(
        select(LtiUser).where(
            LtiUser.registration_id == launch.registration_id, LtiUser.sub == launch.user.sub
        )
    ).first()
    if user is None:
        raise NotAReviewer(
            "Microcred no longer knows you on this platform.",
            hint="Open Microcred again from your course.",
        )
    teaches = launch.is_instructor or launch.is_teaching_assistant
    context = None
    if teaches and launch.context is not None:
        context = session.execute(
            select(LtiContext.id, LtiContext.title).where(
                LtiContext.registration_id == launch.registration_id,
                LtiContext.context_id == launch.context.id,
            )
        ).first()
    grants = granted_organisations(session, launch.registration_id, user.id)
    reviewer = Reviewer(
        user_id=user.id,
        registration_id=launch.registration_id,
        context_id=context.id if context else None,
        # A TA's launch carries the Instructor role too (a sub-role comes with its principal
        # role, LTI Core §A.2.3): only a course's instructors who are not TAs lead.
        course_lead=bool(context) and launch.is_instructor and not launch.is_teaching_assistant,
        grants=grants,
        course_title=context.title if context else None,
    )
    if not reviewer.is_assessor:
        raise NotAReviewer(
            "Only a course's instructors and teaching assistants, and assessors named by a "
            "credential's issuer, review submissions.",
            hint="If you should review, open Microcred from a course you teach, or ask the "
            "credential's issuer to name you an assessor.",
        )
    return reviewer


def course_scope(reviewer: Reviewer) -> ColumnElement[bool]:
    """Attempts by educators who opened a link in the reviewer's course bound to the
    attempt's credential (on the reviewer's platform).

    An uncorrelated ``(user, credential) IN (…)``: the course's pairs are found once, not per
    attempt (a correlated EXISTS under the OR with the grant scope made PostgreSQL plan the
    assessor's queue at a cost that triggered JIT compilation on every request)."""
    if reviewer.context_id is None:
        return false()
    visited = (
        select(LinkVisit.user_id, LinkedCredential.credential_id)
        .join(LtiResourceLink, LtiResourceLink.id == LinkVisit.resource_link_id)
        .join(LinkedCredential, LinkedCredential.resource_link_id == LtiResourceLink.id)
        .where(LtiResourceLink.context_id == reviewer.context_id)
    )
    return and_(
        Attempt.registration_id == reviewer.registration_id,
        tuple_(Attempt.user_id, Attempt.credential_id).in_(visited),
    )


def grant_scope(reviewer: Reviewer) -> ColumnElement[bool]:
    """Attempts at any credential of an organisation the reviewer is an assessor for."""
    if not reviewer.grants:
        return false()
    return Attempt.credential_id.in_(
        select(Credential.id).where(Credential.organisation_id.in_(list(reviewer.grants)))
    )


def in_scope(reviewer: Reviewer, *, this_course_only: bool = False) -> ColumnElement[bool]:
    """Everything ``reviewer`` may review (never their own attempts)."""
    scopes = [course_scope(reviewer)]
    if not this_course_only:
        scopes.append(grant_scope(reviewer))
    return and_(Attempt.user_id != reviewer.user_id, or_(*scopes))


@dataclass(frozen=True)
class Target:
    """A submission opened for review, with what decides how it is reviewed."""

    attempt: Attempt
    version: CredentialVersion
    credential: Credential
    organisation: Organisation
    settings: rules.ReviewSettings


def target(session: Session, reviewer: Reviewer, attempt_id: int) -> Target:
    """Return a submission ``reviewer`` may review (any state after submission), or 404."""
    row = session.execute(
        select(Attempt, CredentialVersion, Credential, Organisation)
        .join(CredentialVersion, CredentialVersion.id == Attempt.version_id)
        .join(Credential, Credential.id == Attempt.credential_id)
        .join(Organisation, Organisation.id == Credential.organisation_id)
        .where(Attempt.id == attempt_id, Attempt.state != Attempt.DRAFT, in_scope(reviewer))
        .execution_options(**ALL)
    ).first()
    if row is None:
        raise NotFound(NOT_HERE[0], hint=NOT_HERE[1])
    attempt, version, credential, organisation = row
    return Target(
        attempt, version, credential, organisation, rules.settings_of(version, organisation)
    )


def reviewed_blind(session: Session, credential: Credential, version: CredentialVersion) -> bool:
    """Whether submissions at ``version`` are reviewed blind (its own setting, else its
    organisation's): the pages that show it to a course's instructors say what that means."""
    organisation = session.get(Organisation, credential.organisation_id)
    return organisation is not None and rules.settings_of(version, organisation).blind


def blind_credentials(session: Session, credential_ids: Sequence[int]) -> set[int]:
    """Which of these credentials are reviewed blind at their latest published version (its
    own setting, else its organisation's): one statement, for a page showing many."""
    if not credential_ids:
        return set()
    rows = session.execute(
        select(CredentialVersion, Organisation)
        .join(Credential, Credential.id == CredentialVersion.credential_id)
        .join(Organisation, Organisation.id == Credential.organisation_id)
        .where(
            CredentialVersion.credential_id.in_(list(credential_ids)),
            CredentialVersion.status == CredentialVersion.PUBLISHED,
        )
        .order_by(CredentialVersion.credential_id, CredentialVersion.number.desc())
    ).all()
    seen: set[int] = set()
    blind: set[int] = set()
    for version, organisation in rows:
        if version.credential_id in seen:
            continue
        seen.add(version.credential_id)
        if rules.settings_of(version, organisation).blind:
            blind.add(version.credential_id)
    return blind


def may_review_attempt(session: Session, launch: Launch, attempt_id: int) -> bool:
    """Whether the launching person may review ``attempt_id`` (and so open its evidence)."""
    try:
        reviewer = reviewer_of(session, launch)
        target(session, reviewer, attempt_id)
    except (NotFound, Forbidden):
        return False
    return True


def openable_reviews(session: Session, launch: Launch, attempt_ids: list[int]) -> set[int]:
    """Which of these attempts the launching person may open for review from a list that names
    the educators (an instructor's progress page), in a fixed number of queries: submitted ones
    in their scope, except those reviewed blind (a named link would undo the blindness)."""
    if not attempt_ids:
        return set()
    try:
        reviewer = reviewer_of(session, launch)
    except Forbidden:
        return set()
    rows = session.execute(
        select(Attempt.id, Attempt.version_id, Credential.organisation_id)
        .join(Credential, Credential.id == Attempt.credential_id)
        .where(Attempt.id.in_(attempt_ids), Attempt.state != Attempt.DRAFT, in_scope(reviewer))
        .execution_options(**ALL)
    ).all()
    if not rows:
        return set()
    # Few versions and organisations behind many attempts: each is read once.
    versions = {
        v.id: v
        for v in session.scalars(
            select(CredentialVersion).where(CredentialVersion.id.in_({r[1] for r in rows}))
        )
    }
    organisations = {
        o.id: o
        for o in session.scalars(
            select(Organisation).where(Organisation.id.in_({r[2] for r in rows}))
        )
    }
    return {
        attempt_id
        for attempt_id, version_id, organisation_id in rows
        if not rules.settings_of(versions[version_id], organisations[organisation_id]).blind
    }


def enter_attempt_platform(session: Session, attempt: Attempt) -> None:
    """Scope the rest of this request to the attempt's platform, once access is checked: its
    evidence is read with the evidence feature's own (scoped) functions."""
    scope_to_platform(session, attempt.registration_id)


# --- Rounds --------------------------------------------------------------------------------


def reviews_of(session: Session, attempt_ids: list[int]) -> dict[int, list[Review]]:
    """Return the reviews of these attempts, by attempt, in round order."""
    found: dict[int, list[Review]] = {attempt_id: [] for attempt_id in attempt_ids}
    if not attempt_ids:
        return found
    for review in session.scalars(
        select(Review)
        .where(Review.attempt_id.in_(attempt_ids))
        .order_by(Review.attempt_id, Review.round)
        .execution_options(**ALL)
    ):
        found[review.attempt_id].append(review)
    return found


def next_round(
    settings: rules.ReviewSettings, content: Mapping[str, Any], reviews: list[Review]
) -> int | None:
    """Return the round a submission waits for, or ``None`` when its reviews are complete."""
    done = {r.round: r for r in reviews if r.state == Review.SUBMITTED}
    if Review.FIRST not in done:
        return Review.FIRST
    if not settings.second_review:
        return None
    if Review.SECOND not in done:
        return Review.SECOND
    if rules.agree(content, done[Review.FIRST].criteria, done[Review.SECOND].criteria):
        return None
    return None if Review.LEAD in done else Review.LEAD


def is_lead_for(reviewer: Reviewer, target: Target) -> bool:
    """Whether ``reviewer`` may settle a disagreement on this submission."""
    if reviewer.grants.get(target.organisation.id):
        return True
    return reviewer.course_lead and target.attempt.registration_id == reviewer.registration_id


@dataclass(frozen=True)
class Standing:
    """Where a submission stands for one reviewer (the queue's status column)."""

    round: int | None
    claim: Review | None
    """The live claim on that round, if any."""
    available: bool
    """Whether this reviewer may open the review now."""
    label: str


def standing(
    reviewer: Reviewer,
    settings: rules.ReviewSettings,
    content: Mapping[str, Any],
    reviews: list[Review],
    *,
    lead: bool,
    now: datetime,
) -> Standing:
    """Return what a reviewer may do with a submission, and how to say it."""
    round_ = next_round(settings, content, reviews)
    if round_ is None:
        return Standing(None, None, False, "Reviews complete")
    mine = {
        r.round
        for r in reviews
        if r.reviewer_id == reviewer.user_id and r.state == Review.SUBMITTED
    }
    claim = next((r for r in reviews if r.round == round_ and r.state == Review.CLAIMED), None)
    if claim is not None and claim.expires_at.replace(tzinfo=None) <= now.replace(tzinfo=None):
        claim = None
    if claim is not None and claim.reviewer_id == reviewer.user_id:
        return Standing(round_, claim, True, "Your review in progress")
    if claim is not None:
        return Standing(round_, claim, False, "Being reviewed by someone else")
    if mine:
        waiting = "a lead reviewer" if round_ == Review.LEAD else "a second reviewer"
        return Standing(round_, None, False, f"You reviewed it; waiting for {waiting}")
    if round_ == Review.LEAD and not lead:
        return Standing(round_, None, False, "Reviews disagree; waiting for a lead reviewer")
    labels = {
        Review.FIRST: "Ready to review",
        Review.SECOND: "Ready for a second review",
        Review.LEAD: "Reviews disagree: ready for your lead review",
    }
    return Standing(round_, None, True, labels[round_])


# --- Claiming ------------------------------------------------------------------------------


def _claimed_by_other(
    session: Session, claim: Review, settings: rules.ReviewSettings
) -> ClaimedByOther:
    until = claim.expires_at.strftime("%H:%M UTC")
    who = "Another assessor"
    if not settings.blind:
        person = session.get(LtiUser, claim.reviewer_id, execution_options=ALL)
        if person is not None:
            who = person.name or person.email or who
    return ClaimedByOther(
        f"{who} is reviewing this submission (held until {until} unless they keep working).",
        hint="Choose another submission from the queue; this one comes back if they stop.",
    )


def claim(session: Session, reviewer: Reviewer, found: Target) -> Review:
    """Take (or keep) the review this submission waits for, for ``reviewer``."""
    attempt = found.attempt
    if attempt.state not in Attempt.WAITING:
        raise AlreadyDecided(
            "This submission has been decided already.",
            hint="Open the queue for submissions still waiting.",
        )
    now = utcnow()
    reviews = reviews_of(session, [attempt.id])[attempt.id]
    where = standing(
        reviewer,
        found.settings,
        found.version.content,
        reviews,
        lead=is_lead_for(reviewer, found),
        now=now,
    )
    if where.round is None:
        raise AlreadyDecided(
            "This submission's reviews are complete; its decision is being recorded.",
            hint="Open the queue for submissions still waiting.",
        )
    if where.claim is not None and where.claim.reviewer_id == reviewer.user_id:
        return _renew(session, where.claim, now)
    if where.claim is not None:
        raise _claimed_by_other(session, where.claim, found.settings)
    if not where.available:
        raise NotYourTurn(
            f"{where.label}.",
            hint="Independent reviews are made by different assessors; a disagreement is "
            "settled by a lead reviewer. Choose another submission from the queue.",
        )
    expires = now + timedelta(minutes=CLAIM_MINUTES)
    stale = next((r for r in reviews if r.round == where.round), None)
    if stale is not None and stale.reviewer_id == reviewer.user_id:
        # Their own claim ran out and nobody took it: it is theirs again, draft and all.
        review = _renew(session, stale, now)
    elif stale is not None:
        # An expired claim: take it over, unless someone else does first (the conditional
        # UPDATE decides). The previous holder's draft goes: reviews are independent.
        result = session.execute(
            update(Review)
            .where(Review.id == stale.id, Review.state == Review.CLAIMED, Review.expires_at <= now)
            .values(
                reviewer_id=reviewer.user_id,
                criteria={},
                feedback="",
                version=Review.version + 1,
                claimed_at=now,
                updated_at=now,
                expires_at=expires,
            )
            .execution_options(synchronize_session=False, **ALL)
        )
        if getattr(result, "rowcount", 0) != 1:
            session.refresh(stale)
            raise _claimed_by_other(session, stale, found.settings)
        session.refresh(stale)
        review = stale
    else:
        review = Review(
            registration_id=attempt.registration_id,
            attempt_id=attempt.id,
            round=where.round,
            reviewer_id=reviewer.user_id,
            state=Review.CLAIMED,
            criteria={},
            feedback="",
            claimed_at=now,
            updated_at=now,
            expires_at=expires,
        )
        try:
            with session.begin_nested():
                session.add(review)
        except IntegrityError:
            theirs = session.scalars(
                select(Review)
                .where(Review.attempt_id == attempt.id, Review.round == where.round)
                .execution_options(**ALL)
            ).one()
            raise _claimed_by_other(session, theirs, found.settings) from None
    session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.state == Attempt.SUBMITTED)
        .values(state=Attempt.IN_REVIEW)
        .execution_options(synchronize_session=False, **ALL)
    )
    session.refresh(attempt)
    return review


def _renew(session: Session, review: Review, now: datetime) -> Review:
    session.execute(
        update(Review)
        .where(Review.id == review.id)
        .values(expires_at=now + timedelta(minutes=CLAIM_MINUTES))
        .execution_options(synchronize_session=False, **ALL)
    )
    session.refresh(review)
    return review


def current_claim(session: Session, reviewer: Reviewer, found: Target) -> Review | None:
    """Return this reviewer's claim on the submission's open round, if they hold one."""
    return session.scalars(
        select(Review)
        .where(
            Review.attempt_id == found.attempt.id,
            Review.reviewer_id == reviewer.user_id,
            Review.state == Review.CLAIMED,
        )
        .execution_options(**ALL)
    ).first()


def release(session: Session, reviewer: Reviewer, found: Target) -> None:
    """Give a claimed submission back to the queue (the draft goes with the claim)."""
    held = current_claim(session, reviewer, found)
    if held is not None:
        session.delete(held)
        session.flush()
    remaining = session.scalars(
        select(Review.id).where(Review.attempt_id == found.attempt.id).execution_options(**ALL)
    ).first()
    if remaining is None:
        session.execute(
            update(Attempt)
            .where(Attempt.id == found.attempt.id, Attempt.state == Attempt.IN_REVIEW)
            .values(state=Attempt.SUBMITTED)
            .execution_options(synchronize_session=False, **ALL)
        )


# --- The judgement -------------------------------------------------------------------------


def clean_judgement(
    content: Mapping[str, Any], criteria: Mapping[str, Any], feedback: str
) -> tuple[dict[str, dict[str, Any]], str]:
    """Check a posted judgement against the rubric; return it cleaned."""
    keys = {c.key for c in rules.criteria_of(content)}
    unknown = [key for key in criteria if key not in keys]
    if unknown:
        raise InvalidReview(
            f"This rubric has no criterion {', '.join(sorted(unknown))}.",
            hint="Reload the review page: the rubric may have been shown from an older page.",
        )
    cleaned: dict[str, dict[str, Any]] = {}
    too_long: list[str] = []
    for key in keys:
        given = criteria.get(key) or {}
        if not isinstance(given, Mapping):
            raise InvalidReview(f"The judgement of {key} is not understood.")
        met = given.get("met")
        if met not in (True, False, None):
            raise InvalidReview(f"Mark {key} as met or not yet.", fields=[f"criterion-{key}"])
        comment = str(given.get("comment") or "")
        if len(comment) > rules.MAX_COMMENT_CHARS:
            too_long.append(key)
        cleaned[key] = {"met": met, "comment": comment}
    if too_long:
        raise InvalidReview(
            f"A comment can be at most {rules.MAX_COMMENT_CHARS} characters "
            f"({', '.join(sorted(too_long))} is longer).",
            hint="Shorten it; nothing was lost — your text is still in the form.",
            fields=[f"comment-{k}" for k in too_long],
        )
    if len(feedback) > rules.MAX_FEEDBACK_CHARS:
        raise InvalidReview(
            f"The overall feedback can be at most {rules.MAX_FEEDBACK_CHARS} characters.",
            hint="Shorten it; nothing was lost — your text is still in the form.",
            fields=["feedback"],
        )
    return cleaned, feedback


def _held(session: Session, reviewer: Reviewer, review_id: int, found: Target) -> Review:
    review = session.scalars(
        select(Review)
        .where(Review.id == review_id, Review.attempt_id == found.attempt.id)
        .execution_options(**ALL)
    ).first()
    if review is None or review.reviewer_id != reviewer.user_id:
        if review is not None and review.state == Review.CLAIMED:
            raise _claimed_by_other(session, review, found.settings)
        raise NotYourTurn(
            "This review is no longer yours: your claim ran out and another assessor took "
            "the submission over.",
            hint="Your last autosaved draft went with the claim. Choose another submission.",
        )
    if review.state == Review.SUBMITTED:
        raise AlreadyDecided(
            "You already submitted this review.", hint="Open the queue for the next one."
        )
    return review


def save_draft(
    session: Session,
    reviewer: Reviewer,
    found: Target,
    review_id: int,
    version: int,
    criteria: Mapping[str, Any],
    feedback: str,
) -> Review:
    """Keep the judgement so far (and the claim): exactly once per version number."""
    review = _held(session, reviewer, review_id, found)
    cleaned, feedback = clean_judgement(found.version.content, criteria, feedback)
    now = utcnow()
    result = session.execute(
        update(Review)
        .where(
            Review.id == review.id,
            Review.version == version,
            Review.reviewer_id == reviewer.user_id,
            Review.state == Review.CLAIMED,
        )
        .values(
            criteria=cleaned,
            feedback=feedback,
            version=version + 1,
            updated_at=now,
            expires_at=now + timedelta(minutes=CLAIM_MINUTES),
        )
        .execution_options(synchronize_session=False, **ALL)
    )
    session.refresh(review)
    if getattr(result, "rowcount", 0) != 1:
        if review.reviewer_id != reviewer.user_id or review.state != Review.CLAIMED:
            _held(session, reviewer, review_id, found)
        raise ReviewConflict(
            "This review was saved from another tab or window since this page was opened.",
            hint="Reload the page to see the latest draft; copy anything you typed here first.",
            server_version=review.version,
        )
    return review


@dataclass(frozen=True)
class Submitted:
    review: Review
    decision: Decision | None
    """The decision, when this review completed the submission's reviews."""
    waiting_for: str | None = None
    """``second`` or ``lead`` when another review is needed first."""


def submit_review(
    session: Session,
    reviewer: Reviewer,
    found: Target,
    review_id: int,
    version: int,
    criteria: Mapping[str, Any],
    feedback: str,
) -> Submitted:
    """Submit a judgement: every criterion judged, "not yet" explained; then, if the reviews
    are complete, the decision — with the attempt's state and the outbox event, atomically."""
    content = found.version.content
    review = save_draft(session, reviewer, found, review_id, version, criteria, feedback)
    problems = rules.decision_problems(content, review.criteria)
    if problems is not None:
        raise InvalidReview(problems[0], hint="Your draft is saved.", fields=problems[1])
    now = utcnow()
    review.state = Review.SUBMITTED
    review.outcome = rules.outcome(content, review.criteria)
    review.submitted_at = now
    review.updated_at = now
    session.flush()
    return _settle(session, found, review, now)


def _settle(session: Session, found: Target, review: Review, now: datetime) -> Submitted:
    content = found.version.content
    reviews = reviews_of(session, [found.attempt.id])[found.attempt.id]
    done = {r.round: r for r in reviews if r.state == Review.SUBMITTED}
    if next_round(found.settings, content, reviews) is not None:
        waiting = "second" if Review.SECOND not in done else "lead"
        return Submitted(review, None, waiting)
    if Review.LEAD in done:
        stands = done[Review.LEAD]
        criteria = rules.settled(content, stands.criteria)
        feedback = stands.feedback
    elif Review.SECOND in done:
        stands = done[Review.FIRST]
        criteria = rules.combined(content, stands.criteria, done[Review.SECOND].criteria)
        feedback = rules.joined([stands.feedback, done[Review.SECOND].feedback])
    else:
        stands = done[Review.FIRST]
        criteria = rules.settled(content, stands.criteria)
        feedback = stands.feedback
    return Submitted(review, decide(session, found, stands, criteria, feedback, now))


def decide(
    session: Session,
    found: Target,
    stands: Review,
    criteria: dict[str, dict[str, Any]],
    feedback: str,
    now: datetime,
) -> Decision:
    """Record the decision, the attempt's outcome and the outbox event — in the caller's
    transaction, so that either all of them are kept or none."""
    attempt = found.attempt
    result = rules.outcome(found.version.content, criteria)
    changed = session.execute(
        update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.state.in_(Attempt.WAITING))
        .values(state=result, decided_at=now, updated_at=now)
        .execution_options(synchronize_session=False, **ALL)
    )
    if getattr(changed, "rowcount", 0) != 1:
        raise AlreadyDecided(
            "This submission was decided by someone else a moment ago.",
            hint="Nothing of yours was lost: your review is kept with it.",
        )
    decision = Decision(
        registration_id=attempt.registration_id,
        attempt_id=attempt.id,
        review_id=stands.id,
        outcome=result,
        criteria=criteria,
        feedback=feedback.strip(),
        decided_at=now,
    )
    session.add(decision)
    session.flush()
    met = sum(1 for judged in criteria.values() if judged.get("met"))
    outbox.record(
        session,
        attempt,
        outbox.DECIDED,
        {
            "decision_id": decision.id,
            "outcome": result,
            "criteria_met": met,
            "criteria_total": len(criteria),
            "decided_at": now.isoformat(),
            "feedback": feedback,
        },
    )
    session.refresh(attempt)
    return decision


# --- The review page -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewPage:
    """Everything the review page shows about one submission."""

    found: Target
    criteria: list[rules.Criterion]
    rule: rules.PassingRule
    parts: list[PartWork]
    claim: Review | None
    """The viewer's claim, when they are reviewing it now."""
    reviews: list[Review]
    decision: Decision | None
    educator: str | None
    """``None`` in blind review."""
    email: str | None
    course: str | None
    previous: Decision | None
    """The decision on the educator's previous attempt, if this is a resubmission."""
    waited_days: int
    overdue: bool
    own_course: bool = False
    """Reviewed blind, and the submission comes from a course the reviewer teaches: their
    course's pages and the LMS name who has submitted (the page says so)."""


def review_page(session: Session, reviewer: Reviewer, found: Target) -> ReviewPage:
    """Read the review page's contents; from here on the request reads the attempt's platform."""
    attempt = found.attempt
    claim = current_claim(session, reviewer, found)
    reviews = reviews_of(session, [attempt.id])[attempt.id]
    enter_attempt_platform(session, attempt)
    educator = session.get(LtiUser, attempt.user_id)
    course = None
    if attempt.started_resource_link_id is not None:
        course = session.scalar(
            select(LtiContext.title)
            .join(LtiResourceLink, LtiResourceLink.context_id == LtiContext.id)
            .where(LtiResourceLink.id == attempt.started_resource_link_id)
        )
    decision = session.scalars(select(Decision).where(Decision.attempt_id == attempt.id)).first()
    previous = None
    if attempt.number > 1:
        previous = session.scalars(
            select(Decision)
            .join(Attempt, Attempt.id == Decision.attempt_id)
            .where(
                Attempt.user_id == attempt.user_id,
                Attempt.credential_id == attempt.credential_id,
                Attempt.number == attempt.number - 1,
            )
        ).first()
    waited = rules.waiting(attempt.submitted_at or attempt.created_at, found.settings, utcnow())
    blind = found.settings.blind
    return ReviewPage(
        found=found,
        criteria=rules.criteria_of(found.version.content),
        rule=rules.passing_rule_of(found.version.content),
        parts=part_works(session, attempt),
        claim=claim,
        reviews=reviews,
        decision=decision,
        educator=None if blind or educator is None else educator.display_name,
        email=None if blind or educator is None else educator.email,
        course=None if blind else course,
        previous=previous,
        waited_days=waited.days,
        overdue=waited.overdue,
        own_course=blind
        and bool(
            session.scalar(select(exists().where(Attempt.id == attempt.id, course_scope(reviewer))))
        ),
    )

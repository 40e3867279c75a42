"""Opening one educator's submission from the LMS's gradebook (issue 22).

The LMSs ask for it in two ways (app/devlms/grader_launches.py has the sources):

- Moodle's grader report sends an LtiSubmissionReviewRequest naming the educator in
  ``for_user`` (``Launch.for_user_sub``). Moodle's launch page sends one for anyone who may open
  the activity, so the name counts only for the course's instructors and TAs, and only as a
  person of the launch's platform; a learner named themselves sees their own activity.
- Canvas's SpeedGrader launches the tool at the address the tool gave the submission in its score
  (``gradebook.submission_url``), and nothing else in that launch names the learner. A learner may
  open such an address too (from their submission's details, or by typing another's): they see
  their own work, and nothing of anyone else's ("not found", never "forbidden").

A reviewer lands on the submission's review page (``services.target`` decides who may), except
for a credential reviewed blind: a link from a named gradebook cell would undo the blindness, as
it would from the class progress page (``services.openable_reviews``), so the page says so and
points to the queue. With nothing submitted yet, a page says where the educator stands in this
activity, and no more.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Forbidden, NotFound
from app.evidence.models import Attempt
from app.grading import rules, services
from app.linking import services as linking
from app.linking.models import LinkVisit
from app.lti.launch import Launch
from app.lti.models import LtiUser

NOT_YOURS = (
    "There is no submission you may open at this address.",
    "Open your own work from your course's activity; a course's instructors review theirs "
    "from the review queue.",
)


class OnlyTeachers(Forbidden):
    code = "submission_review_for_teachers"
    title = "Only the course's teachers open someone else's submission"


@dataclass(frozen=True)
class ToReview:
    """Open the review page of ``attempt_id``."""

    attempt_id: int


@dataclass(frozen=True)
class ToOwnWork:
    """Open the launching educator's own workspace for credential ``slug``."""

    slug: str


@dataclass(frozen=True)
class ToActivity:
    """Open the launched activity as it opens for its learners."""


@dataclass(frozen=True)
class ReviewedBlind:
    """The submission exists and waits in the queue, which keeps its educator's name hidden."""

    credential_title: str


@dataclass(frozen=True)
class NothingSubmitted:
    """The named educator has no submission to review in this activity (yet)."""

    name: str | None
    """Their name, when Microcred knows them from a launch; ``None`` when it does not."""
    credential_title: str | None
    """The activity's credential (``None``: the activity has none yet)."""
    opened: bool = False
    """They have opened this activity in Microcred."""
    started: bool = False
    """They have an attempt at its credential that is not submitted."""


Destination = ToReview | ToOwnWork | ToActivity | ReviewedBlind | NothingSubmitted


def open_attempt(session: Session, launch: Launch, attempt_id: int) -> Destination:
    """Where a launch at the submission's address (``/submissions/<id>``) goes: its educator to
    their work, a reviewer who may review it to its review (or the blind notice), anyone else
    to "not found"."""
    if launch.user is not None:
        own = session.scalars(
            select(Attempt)
            .join(LtiUser, LtiUser.id == Attempt.user_id)
            .where(
                Attempt.id == attempt_id,
                LtiUser.registration_id == launch.registration_id,
                LtiUser.sub == launch.user.sub,
            )
        ).first()
        if own is not None:
            return ToOwnWork(own.credential.slug)
    try:
        reviewer = services.reviewer_of(session, launch)
        found = services.target(session, reviewer, attempt_id)
    except (Forbidden, NotFound):
        raise NotFound(NOT_YOURS[0], hint=NOT_YOURS[1]) from None
    return _review_or_blind(found)


def submission_for_user(session: Session, launch: Launch) -> Destination:
    """Where an LtiSubmissionReviewRequest goes: the submission to this activity's credential of
    the person ``for_user`` names, for the course's instructors and TAs."""
    named = launch.for_user_sub
    teaches = launch.is_instructor or launch.is_teaching_assistant
    if not teaches:
        if launch.user is not None and named == launch.user.sub:
            return ToActivity()
        raise OnlyTeachers(
            "Your LMS asked Microcred to show someone else's submission, which only the "
            "course's instructors and teaching assistants may open.",
            hint="Open the activity from your course page to see your own work.",
        )
    reviewer = services.reviewer_of(session, launch)
    resolved = linking.resolve(session, launch)
    if isinstance(resolved, linking.Unbound):
        return NothingSubmitted(name=_name_of(session, launch, named), credential_title=None)
    title = resolved.version.title
    person = _person(session, launch, named)
    if person is None:
        return NothingSubmitted(name=None, credential_title=title)
    opened = (
        session.scalars(
            select(LinkVisit.id).where(
                LinkVisit.resource_link_id == resolved.binding.resource_link_id,
                LinkVisit.user_id == person.id,
            )
        ).first()
        is not None
    )
    attempts = (
        list(
            session.scalars(
                select(Attempt)
                .where(
                    Attempt.user_id == person.id,
                    Attempt.credential_id == resolved.credential.id,
                )
                .order_by(Attempt.number.desc())
            )
        )
        if opened
        else []
    )
    submitted = next((a for a in attempts if a.submitted_at is not None), None)
    if submitted is not None:
        try:
            return _review_or_blind(services.target(session, reviewer, submitted.id))
        except NotFound:
            pass  # not this reviewer's to review (e.g. their own): nothing to open here
    return NothingSubmitted(
        name=person.display_name,
        credential_title=title,
        opened=opened,
        started=any(a.submitted_at is None for a in attempts),
    )


def _review_or_blind(found: services.Target) -> ToReview | ReviewedBlind:
    if rules.settings_of(found.version, found.organisation).blind:
        return ReviewedBlind(found.version.title)
    return ToReview(found.attempt.id)


def _person(session: Session, launch: Launch, sub: str | None) -> LtiUser | None:
    """The person ``sub`` names on the launch's own platform (never another's)."""
    if not sub:
        return None
    return session.scalars(
        select(LtiUser).where(LtiUser.registration_id == launch.registration_id, LtiUser.sub == sub)
    ).first()


def _name_of(session: Session, launch: Launch, sub: str | None) -> str | None:
    person = _person(session, launch, sub)
    return person.display_name if person else None

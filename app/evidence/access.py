"""Who may touch an attempt: its educator, as the launch identifies them (platform + ``sub``).

Every view of the evidence feature goes through these functions, so the ownership rule lives in
one place. Someone else's attempt is "not found" (404), never "forbidden": its existence is not
disclosed. Reviewers' access arrives with the review feature.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, Forbidden, NotFound
from app.evidence.models import Attempt
from app.lti.launch import Launch
from app.lti.models import LtiUser


class AttemptLocked(Conflict):
    code = "attempt_locked"
    title = "This attempt can no longer be changed"


def educator(session: Session, launch: Launch) -> LtiUser:
    """The launching person's row; an anonymous launch may read but never keep work."""
    if launch.user is None:
        raise Forbidden(
            "Your LMS opened Microcred without saying who you are, so nothing you write could "
            "be kept as yours.",
            hint="Open Microcred from your course while signed in to your LMS.",
        )
    found = session.scalars(
        select(LtiUser).where(
            LtiUser.registration_id == launch.registration_id, LtiUser.sub == launch.user.sub
        )
    ).first()
    if found is None:  # the launch records the user; a missing row means it was removed since
        raise Forbidden(
            "Microcred no longer knows you on this platform.",
            hint="Open Microcred again from your course.",
        )
    return found


def own_attempt(
    session: Session, launch: Launch, attempt_id: int, *, for_update: bool = False
) -> Attempt:
    """The launching educator's attempt ``attempt_id``, or 404 if it is not theirs."""
    user = educator(session, launch)
    query = select(Attempt).where(Attempt.id == attempt_id, Attempt.user_id == user.id)
    if for_update:
        query = query.with_for_update()
    found = session.scalars(query).first()
    if found is None:
        raise NotFound(
            "There is no work of yours at this address.",
            hint="Open the micro-credential again from your course or the catalog.",
        )
    return found


def require_open(attempt: Attempt) -> None:
    """Refuse changes to an attempt that is no longer a draft (409, nothing changed)."""
    if attempt.state in Attempt.OPEN:
        return
    if attempt.state in Attempt.WAITING:
        message = "You submitted this attempt, so its evidence is locked while it is reviewed."
        hint = "Nothing was changed. You will see the reviewer's decision on this page."
    elif attempt.state == Attempt.NOT_YET:
        message = "This attempt has had its decision (not yet), so it is closed."
        hint = "Start your next attempt from the credential's page; your evidence comes with it."
    else:
        message = "You earned this credential with this attempt, so it is closed."
        hint = "Nothing was changed."
    raise AttemptLocked(message, hint=hint)

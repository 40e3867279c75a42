"""The launch bridge: finishing a launch whose browser the state cookie could not prove.

Browsers block third-party cookies in LMS iframes (Safari always, Chrome increasingly), so the
state cookie set at login often does not come back with the launch. The launch then waits, as a
*pending launch* (two minutes, single use), for the browser to show the one-time proof the login
page stored in it: from the LMS's platform storage (``lti.get_data``) when the LMS offers one,
else from the frame's own session storage. A matching proof finishes the launch (the pending
record carries the claims its pages will read, so nothing else is kept before); none means the
browser keeps nothing for the tool inside the frame, and the person is offered a new window
(LTI-CHECKLIST C). The launch cannot be replayed there: Moodle's and Canvas's message hints are
single use. The LMS family's plugin says how a new window starts a fresh launch at the LMS
(``Platform.fresh_launch``), worked out from the validated launch when it is held: where to
send the person, never who they are (the unproven launch opens no session).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.errors import AppError
from app.lti.launch import Launch, kept_claims, to_launch
from app.lti.login import proof_digest
from app.lti.models import Registration
from app.lti.platforms import FreshLaunch, plugin
from app.lti.state import StateStore
from app.lti.validation import ValidatedLaunch

PENDING_PREFIX = "pending-launch:"
PENDING_TTL_SECONDS = 120
PROOF_METHODS = ("platform_storage", "session_storage")


class BrowserNotProven(AppError):
    """No proof from the browser: the page offers the launch again in a new window."""

    status = 401
    code = "browser_not_proven"
    title = "Microcred needs its own window"

    def __init__(self, fresh_launch: FreshLaunch) -> None:
        super().__init__(
            "Your browser does not let Microcred keep anything while it is shown inside the "
            "course page, so this launch cannot be completed here.",
            hint="Open the activity again in a window of its own, as this page says.",
        )
        self.fresh_launch = fresh_launch


@dataclass(frozen=True)
class Pending:
    """A validated launch waiting for the browser's proof."""

    pending_id: str
    state: str
    storage_target: str | None
    storage_origin: str | None


def hold(store: StateStore, validated: ValidatedLaunch, state: str) -> Pending:
    """Keep a validated launch until the browser shows its proof."""
    pending_id = secrets.token_urlsafe(24)
    login, launch = validated.login, validated.launch
    fresh = plugin(launch.platform_family).fresh_launch(
        launch.issuer, login.get("message_hint"), validated.claims
    )
    store.put(
        PENDING_PREFIX + pending_id,
        {
            "launch_id": launch.launch_id,
            "registration_id": launch.registration_id,
            "proof": login.get("proof"),
            "fresh_launch": asdict(fresh),
            "claims": kept_claims(validated.claims),
        },
        PENDING_TTL_SECONDS,
    )
    return Pending(
        pending_id=pending_id,
        state=state,
        storage_target=login.get("storage_target"),
        storage_origin=login.get("storage_origin"),
    )


def confirm(
    store: StateStore, session: Session, pending_id: str, proof: str, method: str
) -> tuple[Launch, dict[str, Any], str]:
    """Finish a pending launch whose browser shows the right proof; return it, the claims its
    pages read, and the method."""
    record: dict[str, Any] | None = store.take(PENDING_PREFIX + pending_id) if pending_id else None
    if record is None:
        raise AppError(
            "This launch waited too long for your browser, or was already finished.",
            hint="Open the activity again from your course page.",
            code="pending_launch_unknown",
            title="This launch could not be completed",
        )
    expected = record.get("proof") or ""
    if not proof or not hmac.compare_digest(proof_digest(proof), expected):
        # (a launch held by an older release has no recipe: back to the course, then)
        raise BrowserNotProven(FreshLaunch(**(record.get("fresh_launch") or {"lms": "your LMS"})))
    data = record.get("claims")
    registration = session.get(Registration, record["registration_id"])
    if data is None or registration is None:
        raise AppError(
            "This launch is no longer known to Microcred.",
            hint="Open the activity again from your course page.",
            code="pending_launch_unknown",
        )
    return (
        to_launch(record["launch_id"], data, registration),
        data,
        method if method in PROOF_METHODS else "session_storage",
    )

"""A launch the LMS refused: its OIDC error response, shown to the person in the LMS's words.

When the LMS's authorization endpoint will not sign a launch, it may answer the tool instead of
the person: it form-posts ``error``, ``error_description`` and the login's ``state`` to the
launch URL (OpenID Connect Core §3.1.2.6; Canvas ``app/controllers/lti/ims/
authentication_controller.rb`` does so for ``login_required``, ``unauthorized_client``,
``invalid_request_object`` and ``launch_no_longer_valid``; Moodle ``mod/lti/auth.php`` for
``access_denied`` and the like). Without this the page would say that the id_token is missing.

Anyone can post to the launch URL, so the LMS's own words are shown only when the ``state``
names a sign-in this tool started (the login record, taken: the sign-in is over); otherwise only
the error code, which is a plain word by the OAuth grammar, is repeated.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy.orm import Session

from app.lti.errors import RELAUNCH, LaunchError
from app.lti.login import STATE_PREFIX
from app.lti.models import Registration
from app.lti.state import StateStore

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 300
_CODE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
ONE_USE = (
    "Go back to your course page, reload it, and open the activity again: each launch the LMS "
    "starts can be used once."
)


class PlatformRefusedLaunch(LaunchError):
    """The LMS answered with an OIDC error instead of a launch."""

    code = "lms_refused_launch"
    title = "The LMS did not send this launch"


def refusal(
    session: Session, store: StateStore, error: str, description: str | None, state: str | None
) -> PlatformRefusedLaunch:
    """Explain the LMS's error response: who refused, in its words, and what to do."""
    code = error.strip().lower()
    code = code if _CODE.fullmatch(code) else "unreadable"
    record = store.take(STATE_PREFIX + state) if state else None
    registration = (
        session.get(Registration, record.get("registration_id")) if record is not None else None
    )
    log.info("launch refused by the platform", extra={"error_code": code, "known": bool(record)})
    if registration is None:
        return PlatformRefusedLaunch(
            f"An LMS answered with the error {code} instead of a launch, and it does not "
            "match a sign-in Microcred started.",
            hint=RELAUNCH,
        )
    lms = registration.name
    words = " ".join((description or "").split())[:MAX_DESCRIPTION]
    said = f": “{words}” ({code})." if words else f" ({code})."
    status, hint = _what_to_do(code, lms)
    return PlatformRefusedLaunch(
        f"{lms} answered Microcred with an error instead of the launch{said}",
        hint=hint,
        status=status,
        title=f"{lms} did not send this launch",
    )


def _what_to_do(code: str, lms: str) -> tuple[int, str]:
    if code == "login_required":
        return 401, (
            f"Sign in to {lms} again in this browser, then open the activity from your course "
            "page. If you use several browser windows, open it where you are signed in."
        )
    if code in {"access_denied", "unauthorized_client"}:
        return 403, (
            f"{lms} does not let Microcred open here for you. Ask your {lms} administrator to "
            "check that Microcred is switched on and available in this course."
        )
    return 400, ONE_USE

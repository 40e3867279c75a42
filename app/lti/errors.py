"""What a refused launch says to a person.

pylti1p3 raises exceptions whose texts are written for developers ("State not found"). Each is
mapped here to a message that says what failed and who can fix it, with a stable code.
"""

from __future__ import annotations

from app.errors import AppError


class LaunchError(AppError):
    """A login or launch that the tool refused."""

    status = 400
    code = "launch_refused"
    title = "This launch could not be completed"


class DeploymentNotApproved(LaunchError):
    status = 403
    code = "deployment_not_approved"
    title = "This course's connection to Microcred is not approved yet"


RELAUNCH = "Go back to your course page and open the activity again."
ADMIN = "If it happens again, send the request id below to your LMS or tool administrator."

# (start of pylti1p3's message, our code, our message, hint). Only what pylti1p3 can still
# raise: the checks Microcred strengthens raise their own LaunchError (app/lti/validation.py).
_KNOWN: tuple[tuple[str, str, str, str], ...] = (
    (
        "Invalid id_token",
        "malformed_id_token",
        "The launch message from the LMS is not a well-formed signed token.",
        ADMIN,
    ),
    (
        "Invalid JWT format",
        "malformed_id_token",
        "The launch message from the LMS could not be decoded.",
        ADMIN,
    ),
    (
        'The LTI launch message "id_token" field is empty',
        "missing_id_token",
        "The launch arrived without its signed id_token.",
        RELAUNCH,
    ),
    (
        "Registration not found",
        "unknown_registration",
        "This LMS (issuer and client id) is not registered with Microcred.",
        "Ask your tool administrator to register this LMS, then launch again.",
    ),
    (
        "Client id not registered",
        "unknown_client_id",
        "The client id in this launch is not the one registered for this LMS.",
        "Ask your tool administrator to check the client id registered for this LMS.",
    ),
    (
        "JWT KID not found",
        "missing_kid",
        "The launch token does not say which key signed it (no 'kid').",
        ADMIN,
    ),
    (
        "Message validation failed",
        "bad_message",
        "The launch message is missing information the LTI standard requires.",
        ADMIN,
    ),
)


def explain(exc: Exception) -> LaunchError:
    """Turn a pylti1p3 exception into a LaunchError a person can act on."""
    text = str(exc)
    for prefix, code, message, hint in _KNOWN:
        if text.startswith(prefix):
            return LaunchError(message, hint=hint, code=code)
    return LaunchError(
        f"The launch message was refused: {text}",
        hint=ADMIN,
        code="launch_invalid",
    )

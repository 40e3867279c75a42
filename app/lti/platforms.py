"""What differs between LMS families, in one place per family (STYLE.md "LMS quirks").

Services ask the plugin of a registration's family instead of testing the family by name. Each
quirk says why, with where it is documented.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TOOL_NAME = "Microcred"
TOOL_DESCRIPTION = (
    "Educator micro-credentials: competency-based tasks, classroom evidence, rubric review and "
    "verifiable Open Badges."
)

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TOOL_SCOPES = (
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCOPE_NRPS,
)

# Name and email go on the badges and in the reviewers' queue; without asking, Canvas sends
# neither (privacy level "anonymous") and Moodle omits them for dynamically registered tools.
IDENTITY_CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")
LINK_HISTORY_PARAMETER = "resource_link_id_history"
TOOL_CUSTOM_PARAMETERS = {LINK_HISTORY_PARAMETER: "$ResourceLink.id.history"}
"""Custom parameters on every launch: the ids of the links a copied link came from, most recent
first, where the platform substitutes the variable (app/linking/services.py reads it)."""

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"


@dataclass(frozen=True)
class ToolUrls:
    """The tool's public URLs, from its configured origin."""

    base_url: str

    @property
    def login(self) -> str:
        return f"{self.base_url}/lti/login"

    @property
    def launch(self) -> str:
        return f"{self.base_url}/lti/launch"

    @property
    def catalog(self) -> str:
        """The educator catalog: the course menu's page (self-directed credentials)."""
        return f"{self.base_url}/catalog"

    @property
    def jwks(self) -> str:
        return f"{self.base_url}/.well-known/jwks.json"

    @property
    def logo(self) -> str:
        return f"{self.base_url}/static/microcred-logo.svg"

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[-1].split("/", 1)[0]


@dataclass(frozen=True)
class RateLimitReading:
    """What an LMS's answer to a service request says about its rate limit."""

    throttled: bool
    """The LMS refused the request to slow the tool down: send it again later, never give up."""
    remaining: float | None = None
    """The quota the LMS says is left, where it says."""


@dataclass(frozen=True)
class Pacing:
    """How many score sends a worker keeps in flight to one platform (its registration)."""

    start: int | None = None
    """Sends in flight to begin with (``None``: as many as the worker has threads)."""
    most: int | None = None
    """Never more than this many (``None``: the worker's threads)."""
    reserve: float = 0.0
    """Below this remaining quota (``RateLimitReading.remaining``), send one fewer at once."""


class Platform:
    """An LMS without known quirks: the LTI specifications as written."""

    family = "generic"
    label = "Other LTI 1.3 platform"
    pacing = Pacing()
    """No known limit: as many sends at once as the worker has threads, fewer after a 429."""

    def rate_limit(self, status: int, headers: Mapping[str, str], body: bytes) -> RateLimitReading:
        """Read an answer's rate limit: here, only HTTP 429 Too Many Requests (RFC 6585 §4)."""
        return RateLimitReading(throttled=status == 429)

    def registration_messages(self, urls: ToolUrls) -> list[dict[str, Any]]:
        """The messages (launch types) the tool asks the platform to send it."""
        return [
            {"type": RESOURCE_LINK, "target_link_uri": urls.launch, "label": TOOL_NAME},
            {
                "type": DEEP_LINKING,
                "target_link_uri": urls.launch,
                "label": "Add a micro-credential",
            },
        ]

    def tool_configuration_extensions(self) -> dict[str, Any]:
        """Family-specific members of the LTI tool configuration object."""
        return {}

    def deep_linking_item_extensions(self, launch_url: str) -> dict[str, Any]:
        """Extra properties for a Deep Linking ``ltiResourceLink`` item on this LMS."""
        return {}

    def after_registration(self) -> str:
        """What the LMS admin still has to do after Dynamic Registration, in plain words."""
        return "Make the tool available in your LMS's tool settings if it asks you to."

    def score_extensions(
        self, submitted_at: datetime | None, *, new_submission: bool
    ) -> dict[str, Any]:
        """Extra members of an AGS score on this LMS: the submission's time, and whether this
        score reports a new submission (a submit) or grades one already reported."""
        return {}

    def roster_not_granted(self) -> str:
        """What the LMS admin changes so that launches carry the course roster service (NRPS)."""
        return (
            "Ask your LMS administrator to let Microcred use the Names and Role Provisioning "
            "service (the scope contextmembership.readonly) in its tool settings."
        )


class Moodle(Platform):
    family = "moodle"
    label = "Moodle"

    def after_registration(self) -> str:
        # A tool created by Dynamic Registration stays Pending until an admin activates it
        # (mod/lti/openid-registration.php); with AGS scopes Moodle sets "Accept grades from
        # the tool" to Delegate (mod/lti/classes/local/ltiopenid/registration_helper.php).
        return (
            "In Moodle, go to Site administration → Plugins → Activity modules → External tool "
            "→ Manage tools, find Microcred under “Tools pending”, and click Activate. Then "
            "open its settings (the cog) and set “Accept grades from the tool” to Always."
        )

    def roster_not_granted(self) -> str:
        # Moodle sends the NRPS claim only when the tool's "IMS LTI Names and Role
        # Provisioning" service is on (mod/lti/service/memberships/classes/local/service/
        # memberships.php, get_launch_parameters).
        return (
            "In Moodle, go to Site administration → Plugins → Activity modules → External tool "
            "→ Manage tools, open Microcred's settings (the cog), and under Services set "
            "“IMS LTI Names and Role Provisioning” to “Use this service to retrieve members' "
            "information as per privacy settings”."
        )


CANVAS_RATE_LIMITED = b"Rate Limit Exceeded"
CANVAS_REMAINING = "X-Rate-Limit-Remaining"


class Canvas(Platform):
    family = "canvas"
    label = "Canvas"
    # Canvas throttles each developer key's LTI Advantage requests with one leaky bucket
    # (app/middleware/request_throttle.rb; https://canvas.instructure.com/doc/api/file.
    # throttling.html): each request in flight holds 50 of a high-water mark of 600, so the
    # 12th at once is refused whatever the requests cost. Start at 4 (what a busy install's
    # other traffic leaves room for), never above 10, and send fewer as the remaining quota
    # falls below two requests' up-front cost.
    pacing = Pacing(start=4, most=10, reserve=100.0)

    def rate_limit(self, status: int, headers: Mapping[str, str], body: bytes) -> RateLimitReading:
        # Canvas refuses a throttled request with 403, text/plain "403 Forbidden (Rate Limit
        # Exceeded)", no Retry-After, and says X-Rate-Limit-Remaining on every answer
        # (RequestThrottle#rate_limit_exceeded): a 403 that is not a missing permission.
        remaining = _number(headers.get(CANVAS_REMAINING))
        throttled = status == 429 or (
            status == 403
            and (CANVAS_RATE_LIMITED in body or (remaining is not None and remaining <= 0))
        )
        return RateLimitReading(throttled=throttled, remaining=remaining)

    def registration_messages(self, urls: ToolUrls) -> list[dict[str, Any]]:
        # Canvas declares placements per message (doc/api/registration.md): the course menu
        # opens the catalog; assignment and module-item selection use Deep Linking.
        return [
            {
                "type": RESOURCE_LINK,
                "target_link_uri": urls.catalog,
                "label": "Micro-credentials",
                "placements": ["course_navigation"],
            },
            {
                "type": DEEP_LINKING,
                "target_link_uri": urls.launch,
                "label": "Add a micro-credential",
                "placements": ["assignment_selection", "link_selection"],
            },
        ]

    def deep_linking_item_extensions(self, launch_url: str) -> dict[str, Any]:
        # An assignment made from the item is an "External Tool" submission type that launches
        # the tool (https://canvas.instructure.com/doc/api/file.content_item.html: the
        # submission_type extension); without it Canvas may create it as "No submission".
        return {
            "https://canvas.instructure.com/lti/submission_type": {
                "type": "external_tool",
                "external_tool_url": launch_url,
            }
        }

    def tool_configuration_extensions(self) -> dict[str, Any]:
        # Canvas's privacy level defaults to anonymous: no name or email in launches.
        return {"https://canvas.instructure.com/lti/privacy_level": "public"}

    def score_extensions(
        self, submitted_at: datetime | None, *, new_submission: bool
    ) -> dict[str, Any]:
        # Canvas's score extension (https://canvas.instructure.com/doc/api/score.html): the
        # submission's own time for SpeedGrader and late policies; new_submission only for a
        # submit (Canvas counts every score as a new attempt unless told otherwise); and
        # prioritize_non_tool_grade so that a grade a teacher entered by hand is not
        # overwritten by the tool's.
        extension: dict[str, Any] = {
            "new_submission": new_submission,
            "prioritize_non_tool_grade": True,
        }
        if submitted_at is not None:
            extension["submitted_at"] = submitted_at.isoformat(timespec="milliseconds")
        return {"https://canvas.instructure.com/lti/submission": extension}

    def after_registration(self) -> str:
        return (
            "In Canvas, review the permissions, then turn the Microcred key On in Admin → "
            "Developer Keys (Dynamic Registration usually does this) and check it is available "
            "in Admin → Apps; courses then find it in their navigation and in assignment "
            "and module “External tool” settings."
        )

    def roster_not_granted(self) -> str:
        # Canvas sends the NRPS claim only to a developer key with the contextmembership
        # scope (https://canvas.instructure.com/doc/api/file.lti_dev_key_config.html, "LTI
        # Advantage Services").
        return (
            "In Canvas, go to Admin → Developer Keys, edit the Microcred key, and under LTI "
            "Advantage Services turn on “Can retrieve user data associated with the context the "
            "tool is installed in”; then save and keep the key On."
        )


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


PLUGINS: dict[str, Platform] = {p.family: p for p in (Platform(), Moodle(), Canvas())}


def plugin(family: str | None) -> Platform:
    """Return the plugin for an LMS family (``generic`` for an unknown one)."""
    return PLUGINS.get((family or "").lower(), PLUGINS["generic"])

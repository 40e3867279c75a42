"""What differs between LMS families, in one place per family (STYLE.md "LMS quirks").

Services ask the plugin of a registration's family instead of testing the family by name. Each
quirk says why, with where it is documented.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from app.inputs import DB_INTEGER_MAX, as_id

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

HOSTED_CANVAS_ISSUERS = frozenset(
    f"https://canvas{environment}.instructure.com" for environment in ("", ".beta", ".test")
)
INSTRUCTURE_PAGES = "https://*.instructure.com"
CANVAS_SUBMISSION = "https://canvas.instructure.com/lti/submission"
"""Canvas's score extension (https://canvas.instructure.com/doc/api/score.html)."""

RESOURCE_LINK = "LtiResourceLinkRequest"
DEEP_LINKING = "LtiDeepLinkingRequest"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CANVAS_PLACEMENT = "https://www.instructure.com/placement"


@dataclass(frozen=True)
class FreshLaunch:
    """How a person starts a launch again in a window of its own.

    The launch cannot simply be replayed there: Moodle's and Canvas's message hints are single
    use (the LMS deletes what a hint names the first time its authorization endpoint reads
    it), so the LMS itself must start a new launch, top-level. ``url``: a page of the LMS that
    does so when opened; ``message``: a postMessage asking the page that frames the tool to do
    so; neither: the person goes back to the course (``return_url``) and is told honestly what
    else helps."""

    lms: str
    """The LMS as the person knows it ("Moodle", "Canvas", "your LMS")."""
    url: str | None = None
    message: dict[str, Any] | None = None
    return_url: str | None = None


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
    lms_in_words = "your LMS"
    """How the pages name this LMS to a person."""

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

    def after_registration(self) -> tuple[str, ...]:
        """What the LMS admin still has to do after Dynamic Registration, step by step, in the
        LMS's own menu words."""
        return ("Make the tool available in your LMS's tool settings if it asks you to.",)

    def score_extensions(
        self,
        submitted_at: datetime | None,
        *,
        new_submission: bool,
        submission_url: str | None = None,
    ) -> dict[str, Any]:
        """Extra members of an AGS score on this LMS: the submission's time, whether this score
        reports a new submission (a submit) or grades one already reported, and the tool's
        address of that submission (where the LMS's grading view may launch the tool)."""
        return {}

    def frame_ancestors(self, issuer: str) -> tuple[str, ...]:
        """Origins, beyond the issuer's and the auth endpoint's, that may frame the tool: where
        this LMS shows course pages that no registration field names."""
        return ()

    def roster_not_granted(self) -> str:
        """What the LMS admin changes so that launches carry the course roster service (NRPS)."""
        return (
            "Ask your LMS administrator to let Microcred use the Names and Role Provisioning "
            "service (the scope contextmembership.readonly) in its tool settings."
        )

    def no_column(self, lineitem_url: str | None) -> str | None:
        """Why a link launched with this AGS ``lineitem`` (``None``: the claim named none) can
        have no gradebook column, in words for its instructor; ``None``: it has one, or the
        tool may create one (AGS 2.0 §3.2: where the platform allows)."""
        return None

    def regrade(self, body: dict[str, Any]) -> dict[str, Any]:
        """A decided score for a cell where the LMS holds an earlier decision of the tool's (a
        "not yet", then a resubmission decided again): sent so that it replaces that one."""
        return body

    resending_replaces_a_grade = True
    """Whether sending a score again can replace a different grade the gradebook shows. Where
    it can, reconciliation sends once to find out; where a teacher's grade stands (Moodle's
    override), the LMS takes the score and keeps its grade, and one send tells."""

    def over_teachers_grade(self, body: dict[str, Any]) -> dict[str, Any]:
        """The score ``body`` to send when an instructor asks for Microcred's score in place of
        a teacher's grade the gradebook shows."""
        return body

    def teachers_grade_advice(self) -> str:
        """What an instructor does to have Microcred's score in the gradebook instead of a
        teacher's grade that stands there."""
        return (
            "Remove the teacher's grade in the LMS's gradebook, then choose “Send again” for "
            "the learner on the activity's Gradebook sync page."
        )

    def fresh_launch(
        self, issuer: str, message_hint: str | None, claims: Mapping[str, Any]
    ) -> FreshLaunch:
        """How to start this launch again in a new window, from its login's ``message_hint``
        and the launch's claims (LTI-CHECKLIST C). The specification gives a tool no way to
        ask an LMS for a new launch: back to the course it came from."""
        return FreshLaunch(lms=self.lms_in_words, return_url=_return_url(claims))


def _return_url(claims: Mapping[str, Any]) -> str | None:
    presentation = claims.get(CLAIM + "launch_presentation")
    url = presentation.get("return_url") if isinstance(presentation, Mapping) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


class Moodle(Platform):
    family = "moodle"
    label = lms_in_words = "Moodle"

    def after_registration(self) -> tuple[str, ...]:
        # A tool created by Dynamic Registration stays Pending until an admin activates it
        # (mod/lti/openid-registration.php). registration_helper::registration_to_config
        # (mod/lti/classes/local/ltiopenid/) stores it as a preconfigured tool only
        # (lti_coursevisible = LTI_COURSEVISIBLE_PRECONFIGURED) and, with AGS scopes, sets
        # "Accept grades from the tool" to Delegate. Since Moodle 4.3 there is no generic
        # "External tool" activity, so teachers find the tool only if its Tool configuration
        # usage is "Show in activity chooser…" (LTI_COURSEVISIBLE_ACTIVITYCHOOSER) or their
        # course turns on "Show in activity chooser" (mod/lti/coursetools.php, which writes
        # lti_coursevisible for that course; editing teachers and managers may).
        return (
            "Site administration → Plugins → Activity modules → External tool → Manage tools: "
            "find Microcred under “Tools pending” and click Activate.",
            "Open Microcred's settings (the cog): set “Tool configuration usage” to “Show in "
            "activity chooser and as a preconfigured tool” and “Accept grades from the tool” to "
            "“Always”, then Save changes. Until then teachers do not find Microcred under “Add "
            "an activity or resource”: Moodle adds a registered tool as a preconfigured tool "
            "only.",
            "Or leave the usage as it is and let each course choose: in the course, More → LTI "
            "External tools, turn on “Show in activity chooser” for Microcred (editing teachers "
            "may).",
        )

    def fresh_launch(
        self, issuer: str, message_hint: str | None, claims: Mapping[str, Any]
    ) -> FreshLaunch:
        # Moodle's hint is {"cmid":5,"launchid":"ltilaunch5_…"} (mod/lti/locallib.php,
        # lti_build_login_request), and auth.php deletes the session entry behind launchid the
        # first time it reads it. The activity's launch page, mod/lti/launch.php?id=<cmid> under
        # the site's wwwroot (Moodle's issuer), opened top-level posts a new login initiation
        # first-party. Deep Linking (no cmid) starts from the activity form instead.
        cmid = _moodle_cmid(message_hint)
        return FreshLaunch(
            lms=self.lms_in_words,
            url=f"{issuer.rstrip('/')}/mod/lti/launch.php?id={cmid}" if cmid else None,
            return_url=_return_url(claims),
        )

    def teachers_grade_advice(self) -> str:
        # A grade overridden in the grader report stays whatever the tool sends; Moodle keeps
        # the tool's score as the raw grade and shows it again once the override is removed
        # (lib/grade/grade_item.php update_raw_grade).
        return (
            "In Moodle's grader report, turn editing on, open the learner's grade, untick "
            "“Overridden” and save: Moodle then shows the score Microcred sent. The next "
            "reconciliation (or “Send again”) confirms it."
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
    label = lms_in_words = "Canvas"
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
        # The submission_type extension (https://canvas.instructure.com/doc/api/
        # file.content_item.html) asks for an "External Tool" assignment. Canvas's Deep
        # Linking does not read it (concerns/deep_linking_services.rb makes an item with a
        # lineItem an external-tool assignment anyway); it is sent only because it is the
        # documented way to ask, and is harmless where ignored.
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
        self,
        submitted_at: datetime | None,
        *,
        new_submission: bool,
        submission_url: str | None = None,
    ) -> dict[str, Any]:
        # Canvas's score extension (https://canvas.instructure.com/doc/api/score.html): the
        # submission's own time for SpeedGrader and late policies; new_submission only for a
        # submit (Canvas counts every score as a new attempt unless told otherwise); and, on a
        # decision, prioritize_non_tool_grade so that a grade a teacher entered by hand is not
        # overwritten by the tool's (see regrade for a decision after an earlier one). A
        # submit also gives the submission's address as a basic_lti_launch: Canvas has no
        # LtiSubmissionReviewRequest, and SpeedGrader launches the tool only at such a URL
        # (scores_controller.rb submit_homework; SpeedGrader's external_tool_url), with nothing
        # else in the launch naming the learner.
        # A submission sends no score, and Canvas clears the grade of a score without one
        # unless preserve_score: a teacher's grade (or the tool's earlier decision) stays in
        # the gradebook while the new work awaits review.
        extension: dict[str, Any] = {"new_submission": new_submission}
        if new_submission:
            extension["preserve_score"] = True
        else:
            extension["prioritize_non_tool_grade"] = True
        if submitted_at is not None:
            extension["submitted_at"] = submitted_at.isoformat(timespec="milliseconds")
        if new_submission and submission_url:
            extension["submission_type"] = "basic_lti_launch"
            extension["submission_data"] = submission_url
        return {CANVAS_SUBMISSION: extension}

    def no_column(self, lineitem_url: str | None) -> str | None:
        # Canvas sends ``lineitem`` in every assignment launch and in no other (lib/lti/
        # messages/resource_link_request.rb), and creates a line item with resourceLinkId only
        # for an assignment's link (404 or 412 otherwise: line_items_controller.rb).
        if lineitem_url:
            return None
        return (
            "In Canvas this activity is a module item (or a page link), not an assignment: "
            "Canvas keeps no grades for it, so Microcred sends none. To have results in "
            "Canvas's gradebook, add Microcred as an assignment (Assignments → + Assignment, "
            "Submission type “External Tool”, Find → Microcred)."
        )

    # Microcred's decisions ask Canvas to keep a teacher's grade (prioritize_non_tool_grade,
    # score_extensions): a score sent again never replaces one (scores_controller.rb
    # score_submission), and Canvas's result record would then report Microcred's score while
    # the gradebook shows the teacher's.
    resending_replaces_a_grade = False

    def over_teachers_grade(self, body: dict[str, Any]) -> dict[str, Any]:
        # Without prioritize_non_tool_grade Canvas grades the submission with the tool's score.
        extension = dict(body.get(CANVAS_SUBMISSION) or {})
        extension["prioritize_non_tool_grade"] = False
        return {**body, CANVAS_SUBMISSION: extension}

    def regrade(self, body: dict[str, Any]) -> dict[str, Any]:
        # prioritize_non_tool_grade keeps *any* score the submission has (scores_controller.rb
        # submission_has_score?), the tool's own earlier "not yet" too: a new decision would
        # never reach the gradebook. A teacher's grade given before the first decision is kept;
        # one given on an earlier attempt is replaced by the decision on the new one.
        return self.over_teachers_grade(body)

    def teachers_grade_advice(self) -> str:
        return (
            "Choose “Send again” for the learner on the activity's Gradebook sync page: "
            "Microcred then sends its score without asking Canvas to keep the teacher's "
            "grade, and Canvas replaces the teacher's grade with it."
        )

    def frame_ancestors(self, issuer: str) -> tuple[str, ...]:
        # Hosted Canvas signs as canvas[.beta|.test].instructure.com, but its course pages are
        # on each school's own instructure.com host (doc/api/lti_dev_key_config.md), which no
        # launch has named before the first one is framed there. Self-hosted Canvas and vanity
        # domains are learned from signed launches or set by an operator.
        return (INSTRUCTURE_PAGES,) if issuer in HOSTED_CANVAS_ISSUERS else ()

    def fresh_launch(
        self, issuer: str, message_hint: str | None, claims: Mapping[str, Any]
    ) -> FreshLaunch:
        # Canvas deletes the launch behind its hint at authorize (fetch_and_delete_launch). Its
        # web pages answer requestFullWindowLaunch (doc/api/lti_window_post_message.md;
        # ui/shared/lti/jquery/subjects/requestFullWindowLaunch.ts) by opening the course's
        # external_tools/retrieve, which launches the resource link again; its mobile apps
        # answer no postMessage, hence the return URL as well.
        data: dict[str, Any] = {"url": claims.get(CLAIM + "target_link_uri")}
        placement = claims.get(CANVAS_PLACEMENT)
        if isinstance(placement, str) and placement:
            data["placement"] = placement
        link = claims.get(CLAIM + "resource_link")
        if isinstance(link, Mapping) and isinstance(link.get("id"), str):
            data["resource_link_id"] = link["id"]
        data["launchType"] = "new_window"
        return FreshLaunch(
            lms=self.lms_in_words,
            message={"subject": "requestFullWindowLaunch", "data": data}
            if isinstance(data["url"], str)
            else None,
            return_url=_return_url(claims),
        )

    def after_registration(self) -> tuple[str, ...]:
        return (
            "In Canvas, review the permissions, then turn the Microcred key On in Admin → "
            "Developer Keys (Dynamic Registration usually does this) and check it is available "
            "in Admin → Apps; courses then find it in their navigation and in assignment "
            "and module “External tool” settings.",
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


def _moodle_cmid(message_hint: str | None) -> int | None:
    try:
        hint = json.loads(message_hint or "")
    except (ValueError, RecursionError):  # the LMS's text: nested too deep is not a hint either
        return None
    cmid = hint.get("cmid") if isinstance(hint, dict) else None
    if isinstance(cmid, str):
        cmid = as_id(cmid)
    if isinstance(cmid, bool) or not isinstance(cmid, int):
        return None
    return cmid if 0 < cmid <= DB_INTEGER_MAX else None


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


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Parse ``Retry-After``: delay seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())

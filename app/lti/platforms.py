"""What differs between LMS families, in one place per family (STYLE.md "LMS quirks").

Services ask the plugin of a registration's family instead of testing the family by name. Each
quirk says why, with where it is documented.
"""

from __future__ import annotations

import json
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

HOSTED_CANVAS_ISSUERS = frozenset(
    f"https://canvas{environment}.instructure.com" for environment in ("", ".beta", ".test")
)
INSTRUCTURE_PAGES = "https://*.instructure.com"

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


class Platform:
    """An LMS without known quirks: the LTI specifications as written."""

    family = "generic"
    label = "Other LTI 1.3 platform"
    lms_in_words = "your LMS"
    """How the pages name this LMS to a person."""

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

    def after_registration(self) -> str:
        # A tool created by Dynamic Registration stays Pending until an admin activates it
        # (mod/lti/openid-registration.php); with AGS scopes Moodle sets "Accept grades from
        # the tool" to Delegate (mod/lti/classes/local/ltiopenid/registration_helper.php).
        return (
            "In Moodle, go to Site administration → Plugins → Activity modules → External tool "
            "→ Manage tools, find Microcred under “Tools pending”, and click Activate. Then "
            "open its settings (the cog) and set “Accept grades from the tool” to Always."
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


class Canvas(Platform):
    family = "canvas"
    label = lms_in_words = "Canvas"

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
        self,
        submitted_at: datetime | None,
        *,
        new_submission: bool,
        submission_url: str | None = None,
    ) -> dict[str, Any]:
        # Canvas's score extension (https://canvas.instructure.com/doc/api/score.html): the
        # submission's own time for SpeedGrader and late policies; new_submission only for a
        # submit (Canvas counts every score as a new attempt unless told otherwise); and
        # prioritize_non_tool_grade so that a grade a teacher entered by hand is not
        # overwritten by the tool's. A submit also gives the submission's address as a
        # basic_lti_launch: Canvas has no LtiSubmissionReviewRequest, and SpeedGrader launches
        # the tool only at such a URL (scores_controller.rb submit_homework; SpeedGrader's
        # external_tool_url), with nothing else in the launch naming the learner.
        extension: dict[str, Any] = {
            "new_submission": new_submission,
            "prioritize_non_tool_grade": True,
        }
        if submitted_at is not None:
            extension["submitted_at"] = submitted_at.isoformat(timespec="milliseconds")
        if new_submission and submission_url:
            extension["submission_type"] = "basic_lti_launch"
            extension["submission_data"] = submission_url
        return {"https://canvas.instructure.com/lti/submission": extension}

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


def _moodle_cmid(message_hint: str | None) -> int | None:
    try:
        hint = json.loads(message_hint or "")
    except ValueError:
        return None
    cmid = hint.get("cmid") if isinstance(hint, dict) else None
    if isinstance(cmid, str) and cmid.isdigit():
        cmid = int(cmid)
    return cmid if isinstance(cmid, int) and not isinstance(cmid, bool) and cmid > 0 else None


PLUGINS: dict[str, Platform] = {p.family: p for p in (Platform(), Moodle(), Canvas())}


def plugin(family: str | None) -> Platform:
    """Return the plugin for an LMS family (``generic`` for an unknown one)."""
    return PLUGINS.get((family or "").lower(), PLUGINS["generic"])

"""Where a tool appears in a course, per flavour: the Deep Linking entry points (with the
settings each LMS sends from that screen) and the course menu item.

LTI Deep Linking 2.0 §4.4.1 (https://www.imsglobal.org/spec/lti-dl/v2p0#deep-linking-settings):
the platform says, per request, which item types it accepts (``accept_types``), how the links
may be presented (``accept_presentation_document_targets``), whether more than one item may come
back (``accept_multiple``) and whether it creates them without asking (``auto_create``). Moodle
and Canvas decide these by the screen the instructor starts from:

- Moodle has one entry point, "Select content" on the external tool activity form. Its LTI 1.3
  request (``lti_build_content_item_selection_request`` in moodle/moodle ``mod/lti/locallib.php``)
  accepts ``ltiResourceLink`` only, presentation targets ``frame``, ``iframe``, ``window``,
  ``accept_multiple`` true (since Moodle 3.10, ``mod/lti/upgrade.txt``: each returned item
  becomes an activity), ``auto_create`` false, and sends ``title`` (the tool's name when the form
  has none) with no ``accept_media_types``.
- Canvas has one per placement (``DEEP_LINKING_DETAILS`` in instructure/canvas-lms
  ``lib/lti/messages/deep_linking_request.rb``): ``assignment_selection`` (New assignment →
  Submission type: External tool → Find) accepts one ``ltiResourceLink`` (``accept_multiple``
  false, ``auto_create`` false, targets ``iframe`` ``window``, media type
  ``application/vnd.ims.lti.v1.ltilink``); ``link_selection`` (Modules → Add item → External
  tool) accepts several. Canvas sends no ``title`` or ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.devlms.models import DevTool

CANVAS_FLAVOURS = frozenset({"canvas", "canvas_mobile"})
STORAGE_FRAME = "post_message_forwarding"
"""The name of Canvas's platform storage frame, beside the tool's iframe on the course page."""
LTI_LINK_MEDIA_TYPE = "application/vnd.ims.lti.v1.ltilink"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
DEFAULT_COURSE_NAVIGATION_LABEL = "Micro-credentials"


@dataclass(frozen=True)
class DeepLinkingPlacement:
    """One screen an instructor starts Deep Linking from, and what the LMS asks for there."""

    code: str
    """The LMS's own name for the entry point (Canvas's placement name)."""
    action: str
    """The button on the course page, as the LMS words it."""
    heading: str
    """The heading over the tool's frame while the instructor chooses."""
    link_placement: str
    """What the returned links become (``DevLink.placement``): ``link`` or ``assignment``."""
    accept_multiple: bool
    auto_create: bool
    document_targets: tuple[str, ...]
    accept_media_types: str | None
    """Canvas joins its media types into one string; Moodle's LTI 1.3 request has none."""
    sends_title: bool
    """Moodle titles its request (the activity name, else the tool's name); Canvas does not."""
    always_graded: bool
    """A Canvas assignment always has a gradebook column, lineItem or not."""

    def settings(self, return_url: str, data: str | None, tool: DevTool) -> dict[str, Any]:
        """Return the ``deep_linking_settings`` claim for a request from this entry point
        (``data``: ``None`` for Canvas, which keeps what it needs in the return URL)."""
        settings: dict[str, Any] = {
            "deep_link_return_url": return_url,
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": list(self.document_targets),
            "accept_multiple": self.accept_multiple,
            "auto_create": self.auto_create,
        }
        if data is not None:
            settings["data"] = data
        if self.accept_media_types:
            settings["accept_media_types"] = self.accept_media_types
        if self.sends_title:
            settings["title"] = tool.name
        return settings


MOODLE_SELECT_CONTENT = DeepLinkingPlacement(
    code="select_content",
    action="Add an activity",
    heading="Add an activity: select content",
    link_placement="link",
    accept_multiple=True,
    auto_create=False,
    document_targets=("frame", "iframe", "window"),
    accept_media_types=None,
    sends_title=True,
    always_graded=False,
)
CANVAS_ASSIGNMENT_SELECTION = DeepLinkingPlacement(
    code="assignment_selection",
    action="New assignment",
    heading="New assignment: choose what it is",
    link_placement="assignment",
    accept_multiple=False,
    auto_create=False,
    document_targets=("iframe", "window"),
    accept_media_types=LTI_LINK_MEDIA_TYPE,
    sends_title=False,
    always_graded=True,
)
CANVAS_LINK_SELECTION = DeepLinkingPlacement(
    code="link_selection",
    action="Add to module",
    heading="Add to module: choose items",
    link_placement="link",
    accept_multiple=True,
    auto_create=False,
    document_targets=("iframe", "window"),
    accept_media_types=LTI_LINK_MEDIA_TYPE,
    sends_title=False,
    always_graded=False,
)

_MOODLE = (MOODLE_SELECT_CONTENT,)
_CANVAS = (CANVAS_ASSIGNMENT_SELECTION, CANVAS_LINK_SELECTION)


def deep_linking_placements(tool: DevTool) -> tuple[DeepLinkingPlacement, ...]:
    """Return the entry points the course page offers for ``tool``, in the LMS's order."""
    return _CANVAS if tool.flavour in CANVAS_FLAVOURS else _MOODLE


def default_placement(tool: DevTool) -> DeepLinkingPlacement:
    """Return the entry point meant when none is named: Moodle's only one, Canvas's module
    item (the one that accepts several items, as Deep Linking did here before placements)."""
    return CANVAS_LINK_SELECTION if tool.flavour in CANVAS_FLAVOURS else MOODLE_SELECT_CONTENT


def find_placement(tool: DevTool, code: str | None) -> DeepLinkingPlacement | None:
    """Return the tool's entry point named ``code`` (the default when ``None``), or ``None``
    when its flavour has no such screen."""
    if code is None:
        return default_placement(tool)
    return next((p for p in deep_linking_placements(tool) if p.code == code), None)


def placement_by_code(code: str) -> DeepLinkingPlacement | None:
    """Return the entry point named ``code`` in any flavour (a Deep Linking return is judged by
    the settings its request carried, even if the tool's flavour has changed since)."""
    return next((p for p in (*_MOODLE, *_CANVAS) if p.code == code), None)


def describe_placements(tool: DevTool) -> str:
    """Name the entry points of ``tool``'s flavour, for an error message."""
    return ", ".join(p.code for p in deep_linking_placements(tool))


# --- the course menu ----------
# Canvas's course_navigation placement puts the tool in the course menu; Moodle has no course
# menu placement for LTI tools (its Dynamic Registration offers Deep Linking in ContentArea only,
# see registration.openid_configuration), so a Moodle-flavoured tool gets no menu item and is
# reached through its activities. Canvas builds the placement from the registered message
# (``build_placement_for`` in instructure/canvas-lms app/models/lti/ims/registration.rb): its
# ``label`` is the item's text, its ``custom_parameters`` are added to the tool's, and the
# ``https://canvas.instructure.com/lti/visibility`` extension (admins, members, public) says who
# sees it.

VISIBILITY = "https://canvas.instructure.com/lti/visibility"
TEACHING_ROLES = frozenset({"Instructor", "TeachingAssistant"})
ADMINISTRATOR = "Administrator"
"""The role of a site administrator in a course they are not enrolled in (they may open any)."""
CONTENT_ROLES = TEACHING_ROLES | {"ContentDeveloper", ADMINISTRATOR}
"""Who may add content: teachers, a course designer (Canvas's "Designer": ContentDeveloper) and
a site administrator."""


def _course_navigation_message(tool: DevTool) -> dict[str, Any] | None:
    config = (tool.registration_document or {}).get(TOOL_CONFIGURATION) or {}
    for message in config.get("messages") or []:
        if not isinstance(message, dict) or message.get("type") != "LtiResourceLinkRequest":
            continue
        placements = message.get("placements") or []
        if any(
            isinstance(p, str) and p.rsplit("/", 1)[-1] == "course_navigation" for p in placements
        ):
            return message
    return None


def has_course_navigation(tool: DevTool, role: str | None = None) -> bool:
    """Whether the course menu shows ``tool`` (to someone in ``role``, when given): a
    Canvas-flavoured, active tool with a course navigation URI, visible to that role."""
    if not (
        tool.flavour in CANVAS_FLAVOURS
        and tool.status == "active"
        and bool(tool.course_navigation_uri)
    ):
        return False
    visibility = (_course_navigation_message(tool) or {}).get(VISIBILITY)
    return role is None or visibility != "admins" or role in TEACHING_ROLES


def course_navigation_label(tool: DevTool) -> str:
    """Return the menu item's text: the registered message's ``label`` (LTI DR §3.2.1.1); else,
    as Canvas does, the tool's name; for a tool set up by hand (no registration), the text of
    Microcred's own Canvas configuration (``app/lti/setup_views.py``)."""
    if tool.registration_document is None:
        return DEFAULT_COURSE_NAVIGATION_LABEL
    label = (_course_navigation_message(tool) or {}).get("label")
    return label.strip() if isinstance(label, str) and label.strip() else tool.name


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def course_navigation_custom(tool: DevTool) -> dict[str, str]:
    """Return the custom parameters of a course menu launch: the tool's, then the placement's
    (Canvas's ``set_custom_fields(placement)``, read by ``JwtMessage#custom_parameters``)."""
    config = (tool.registration_document or {}).get(TOOL_CONFIGURATION) or {}
    message = _course_navigation_message(tool) or {}
    return {
        **_strings(config.get("custom_parameters")),
        **_strings(message.get("custom_parameters")),
    }

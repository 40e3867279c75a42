"""Moodle's activity chooser and its course page of tools, "LTI External tools" (Moodle 4.3+).

Moodle keeps, per site tool, its *Tool configuration usage* (``lti_types.coursevisible``,
``LTI_COURSEVISIBLE_*`` in moodle/moodle ``mod/lti/locallib.php``, the ``show_in_course_*``
strings in ``mod/lti/lang/en/lti.php``): 0 "Do not show; use only when a matching tool URL is
entered", 1 "Show as preconfigured tool when adding an external tool", 2 "Show in activity
chooser and as a preconfigured tool". Since 4.3 there is no generic "External tool" activity to
pick a preconfigured tool from (``modedit.php?add=lti`` without a tool answers 404), so a tool a
course does not show in its chooser cannot be added there at all.

- Dynamic Registration stores 1 (``registration_helper::registration_to_config`` sets
  ``lti_coursevisible = LTI_COURSEVISIBLE_PRECONFIGURED``): a registered tool is in no chooser.
  The manual form's default is 1 as well; the demo's tool, set up by hand, is at 2.
- More → LTI External tools (``mod/lti/coursetools.php``, the ``course_external_tools_list``
  report) lists the active tools whose usage is not 0, each with a "Show in activity chooser"
  toggle. It is open to who may add preconfigured tools (``mod/lti:addpreconfiguredinstance``)
  and the toggle to who may add course tools (``mod/lti:addcoursetool``): both the editing
  teacher's and the manager's, neither a non-editing teacher's (``mod/lti/db/access.php``).
  The toggle stores 2 or 1 for that course only (``lti_coursevisible``;
  ``external/toggle_showinactivitychooser.php``).
- The chooser shows a tool when its usage is 2, or the course's choice is 2 and its usage is
  not 0; and the course's choice, if it made one, is 2 (``lti_get_lti_types_by_course``).

The course page itself says nothing about a tool that is not in its chooser, as Moodle's does
not. Canvas has no such setting: a Canvas-flavoured tool's add screens come from its placements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.devlms.models import DevCourse, DevCourseToolVisibility, DevLink, DevTool
from app.devlms.placements import ADMINISTRATOR, CANVAS_FLAVOURS

DO_NOT_SHOW = 0
PRECONFIGURED = 1
ACTIVITY_CHOOSER = 2
USAGE_SETTING = "Tool configuration usage"
USAGES = {
    DO_NOT_SHOW: "Do not show; use only when a matching tool URL is entered",
    PRECONFIGURED: "Show as preconfigured tool when adding an external tool",
    ACTIVITY_CHOOSER: "Show in activity chooser and as a preconfigured tool",
}
"""Moodle's options for the Tool configuration usage, in its words and order."""
PAGE_TITLE = "LTI External tools"
SHOW_IN_CHOOSER = "Show in activity chooser"
NO_PERMISSION = (
    "Sorry, but you do not currently have permissions to do that (View course external tools)."
)
"""Moodle's ``nopermissions`` error with ``courseexternaltoolsnoviewpermissions``."""
MANAGING_ROLES = frozenset({"Instructor", "ContentDeveloper", ADMINISTRATOR})
"""Who may open the page and use its toggles: an editing teacher, a course designer and a site
administrator (Moodle's manager), not a teaching assistant (a non-editing teacher)."""


def is_moodle(tool: DevTool) -> bool:
    return tool.flavour not in CANVAS_FLAVOURS


def may_manage(role: str) -> bool:
    """Whether someone in ``role`` may open the course's LTI External tools and use its toggles."""
    return role in MANAGING_ROLES


def _course_choices(session: Session, course_id: int) -> dict[int, int]:
    rows = session.execute(
        select(DevCourseToolVisibility.tool_id, DevCourseToolVisibility.course_visible).where(
            DevCourseToolVisibility.course_id == course_id
        )
    ).all()
    return {tool_id: visible for tool_id, visible in rows}


def _in_chooser(tool: DevTool, course_choice: int | None) -> bool:
    if not is_moodle(tool):
        return True
    if course_choice is not None:
        return course_choice == ACTIVITY_CHOOSER and tool.course_visible != DO_NOT_SHOW
    return tool.course_visible == ACTIVITY_CHOOSER


def _active_tools(session: Session) -> Sequence[DevTool]:
    return session.scalars(
        select(DevTool).where(DevTool.status == "active").order_by(DevTool.id)
    ).all()


def addable_tools(session: Session, course: DevCourse) -> list[DevTool]:
    """Return the tools the course's add screens offer: Moodle-flavoured tools in its activity
    chooser, and every active Canvas-flavoured tool."""
    choices = _course_choices(session, course.id)
    return [t for t in _active_tools(session) if _in_chooser(t, choices.get(t.id))]


def may_add(session: Session, course: DevCourse, tool: DevTool) -> bool:
    """Whether the course's add screens offer ``tool`` (``addable_tools``)."""
    choice = _course_choices(session, course.id).get(tool.id)
    return tool.status == "active" and _in_chooser(tool, choice)


@dataclass(frozen=True)
class CourseTool:
    """A row of the course's LTI External tools page."""

    tool: DevTool
    description: str
    usage_count: int
    """How many activities of the course launch it."""
    shown: bool
    """Whether the course's activity chooser offers it."""


def _description(tool: DevTool) -> str:
    config = (tool.registration_document or {}).get(
        "https://purl.imsglobal.org/spec/lti-tool-configuration"
    )
    description = config.get("description") if isinstance(config, dict) else None
    return description.strip() if isinstance(description, str) else ""


def _listed(tool: DevTool) -> bool:
    return is_moodle(tool) and tool.status == "active" and tool.course_visible != DO_NOT_SHOW


def course_tools(session: Session, course: DevCourse) -> list[CourseTool]:
    """Return the rows of the course's LTI External tools page, by name."""
    choices = _course_choices(session, course.id)
    usage = dict(
        session.execute(
            select(DevLink.tool_id, func.count(DevLink.id))
            .where(DevLink.course_id == course.id)
            .group_by(DevLink.tool_id)
        ).all()
    )
    rows = [
        CourseTool(
            tool=tool,
            description=_description(tool),
            usage_count=int(usage.get(tool.id, 0)),
            shown=_in_chooser(tool, choices.get(tool.id)),
        )
        for tool in _active_tools(session)
        if _listed(tool)
    ]
    return sorted(rows, key=lambda row: (row.tool.name.lower(), row.tool.id))


def show_in_chooser(session: Session, course: DevCourse, tool_id: int, shown: bool) -> DevTool:
    """Record the course's "Show in activity chooser" choice for a tool its page lists.

    ``LookupError`` when the page does not list the tool (unknown, pending, not Moodle-flavoured,
    or its usage is "Do not show")."""
    tool = session.get(DevTool, tool_id)
    if tool is None or not _listed(tool):
        raise LookupError(tool_id)
    visible = ACTIVITY_CHOOSER if shown else PRECONFIGURED
    chosen = select(DevCourseToolVisibility).where(
        DevCourseToolVisibility.course_id == course.id, DevCourseToolVisibility.tool_id == tool.id
    )
    choice = session.scalars(chosen).first()
    if choice is None:
        try:
            with session.begin_nested():
                session.add(
                    DevCourseToolVisibility(
                        course_id=course.id, tool_id=tool.id, course_visible=visible
                    )
                )
        except IntegrityError:  # the same choice made at the same moment elsewhere
            choice = session.scalars(chosen).one()
    if choice is not None:
        choice.course_visible = visible
    session.commit()
    return tool


def set_usage(session: Session, tool_id: int, usage: int) -> DevTool | None:
    """Set a tool's Tool configuration usage (the site administrator's); ``None`` for an unknown
    tool, ``ValueError`` for a value Moodle does not offer."""
    if usage not in USAGES:
        raise ValueError(f"Choose one of the {USAGE_SETTING} options.")
    tool = session.get(DevTool, tool_id)
    if tool is None:
        return None
    tool.course_visible = usage
    session.commit()
    return tool

"""Courses of the development LMS: what a course page lists, and course copy.

Course copy is what makes a tool's link mapping testable: Canvas's "Copy this course" and
Moodle's backup/restore give every copied link a new resource link id and the copied course a
new context id, while the links keep their titles, URLs and custom parameters; gradebook columns
are copied with new ids (and no grades). Unlike a real copy, this one also copies the
enrolments, so the same people can launch the copy at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.devlms.models import DevCourse, DevEnrolment, DevLineItem, DevLink, DevTool
from app.devlms.placements import CANVAS_FLAVOURS, has_course_navigation

COPY_SUFFIX = " (copy)"
COPY_ROLES = frozenset({"Instructor"})
"""Who may copy a course from its page: its teachers (Canvas gives TAs no copy permission by
default; this LMS's site administrators are in no course, so they have no course page)."""


def course_links(session: Session, course_id: int) -> Sequence[DevLink]:
    """Return the course's links (activities, module items, assignments) in the order added."""
    return session.scalars(
        select(DevLink).where(DevLink.course_id == course_id).order_by(DevLink.id)
    ).all()


def active_tools(session: Session) -> Sequence[DevTool]:
    """Return the tools an instructor can add to a course."""
    return session.scalars(
        select(DevTool).where(DevTool.status == "active").order_by(DevTool.id)
    ).all()


def course_menu_tools(session: Session, role: str) -> list[DevTool]:
    """Return the tools with an item in the course menu (Canvas's course_navigation) that
    someone in ``role`` sees."""
    return [tool for tool in active_tools(session) if has_course_navigation(tool, role)]


def canvas_tool_for_url(session: Session, url: str, client_id: str | None) -> DevTool | None:
    """Return the active Canvas-flavoured tool whose launch URLs share ``url``'s origin, the
    one with ``client_id`` first (as Canvas's ``Lti::ToolFinder.from_url`` prefers it)."""
    wanted = _origin(url)
    found = [
        tool
        for tool in active_tools(session)
        if tool.flavour in CANVAS_FLAVOURS
        and wanted
        and wanted in {_origin(tool.target_link_uri), _origin(tool.course_navigation_uri or "")}
    ]
    found.sort(key=lambda tool: tool.client_id != client_id)
    return found[0] if found else None


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def may_copy(role: str) -> bool:
    """Whether someone in ``role`` in a course may copy it."""
    return role in COPY_ROLES


@dataclass(frozen=True)
class CourseCopy:
    """A finished copy: the new course and what was copied into it."""

    course: DevCourse
    links: int
    columns: int


def copy_course(session: Session, source: DevCourse) -> CourseCopy:
    """Copy ``source`` into a new course: a new context id, the same enrolments, every link with
    a new resource link id (same title, text, URL, custom parameters and placement), every
    gradebook column with a new id, each link pointing at its copied column."""
    copy = DevCourse(
        title=(source.title + COPY_SUFFIX)[:200],
        label=source.label,
        context_id=uuid.uuid4().hex,
        copied_from_id=source.id,
    )
    session.add(copy)
    session.flush()
    for enrolment in source.enrolments:
        session.add(DevEnrolment(course_id=copy.id, user_id=enrolment.user_id, role=enrolment.role))

    links = course_links(session, source.id)
    new_link_ids = {link.resource_link_id: uuid.uuid4().hex for link in links}
    columns = session.scalars(
        select(DevLineItem).where(DevLineItem.course_id == source.id).order_by(DevLineItem.id)
    ).all()
    new_columns: dict[int, DevLineItem] = {}
    for column in columns:
        new_columns[column.id] = DevLineItem(
            course_id=copy.id,
            tool_id=column.tool_id,
            label=column.label,
            score_maximum=column.score_maximum,
            resource_id=column.resource_id,
            tag=column.tag,
            start_date_time=column.start_date_time,
            end_date_time=column.end_date_time,
            # A column made by the tool for no link (AGS POST) stays unlinked.
            resource_link_id=new_link_ids.get(column.resource_link_id or ""),
        )
    session.add_all(new_columns.values())
    session.flush()
    for link in links:
        copied_column = new_columns.get(link.line_item_id) if link.line_item_id else None
        session.add(
            DevLink(
                course_id=copy.id,
                tool_id=link.tool_id,
                resource_link_id=new_link_ids[link.resource_link_id],
                title=link.title,
                text=link.text,
                url=link.url,
                custom=dict(link.custom or {}),
                placement=link.placement,
                line_item_id=copied_column.id if copied_column else None,
            )
        )
    session.commit()
    return CourseCopy(course=copy, links=len(links), columns=len(new_columns))

"""Moodle 4.3+'s activity chooser on the development LMS: a tool added by Dynamic Registration is
a preconfigured tool only, so it is not in a course's "Add an activity or resource" until a
teacher turns on "Show in activity chooser" on the course's More → LTI External tools page, or the
site administrator sets its "Tool configuration usage" to "Show in activity chooser and as a
preconfigured tool" (moodle-as-it-is.md item 2). A tool set up by hand, as the demo's is, keeps
showing. The course page says nothing about a hidden tool, as Moodle's does not."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevCourse, DevEnrolment, DevLink, DevTool, DevUser
from tests.support.lms import LmsUser, deep_link_path
from tests.support.registration import register

TEACHER = "maria.alvarez@example.edu"
LEARNER = "jordan.lee@example.edu"
ADMIN = "alex.admin@example.edu"
REGISTERED = "Registered tool"
COURSE_TOOLS = "/mod/lti/coursetools.php"


def registered_tool(live, *, activate: bool = True) -> int:
    """Register a tool as Moodle (Dynamic Registration) and, as its admin would, activate it;
    return its id."""
    client_id = register(live, "moodle", client_name=REGISTERED)["client_id"]
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool).where(DevTool.client_id == client_id)).one()
        tool_id = tool.id
    if activate:
        answer = LmsUser(live, ADMIN).http.post(
            f"{live.devlms_url}/admin/lti-tools/{tool_id}/activate", timeout=30
        )
        assert answer.status_code == 200, answer.text
    return tool_id


def demo_tool_id(live) -> int:
    """The demo's tool, set up by hand (no registration document)."""
    with get_db(live.devlms).begin() as session:
        return session.scalars(
            select(DevTool.id).where(DevTool.registration_document.is_(None))
        ).one()


def course_page(user: LmsUser, course_id: int | None = None) -> str:
    page = user.http.get(
        f"{user.live.devlms_url}/courses/{course_id or user.course_id()}", timeout=30
    )
    assert page.status_code == 200, page.text
    return page.text


def offers(page: str, tool_id: int) -> bool:
    """Whether the course page's "Add an activity or resource" offers the tool."""
    return re.search(rf"\?add={tool_id}&amp;placement=select_content", page) is not None


def tools_page(user: LmsUser, course_id: int | None = None):
    return user.http.get(
        f"{user.live.devlms_url}{COURSE_TOOLS}",
        params={"id": course_id or user.course_id()},
        timeout=30,
    )


def switch(page: str, tool_id: int) -> str:
    """The "Show in activity chooser" switch of the tool's row on the LTI External tools page."""
    match = re.search(rf'<button[^>]*role="switch"[^>]*data-tool="{tool_id}"[^>]*>', page)
    assert match, f"no switch for tool {tool_id}"
    return match.group(0)


def show_in_chooser(user: LmsUser, tool_id: int, shown: bool, course_id: int | None = None):
    return user.http.post(
        f"{user.live.devlms_url}{COURSE_TOOLS}",
        params={"id": course_id or user.course_id()},
        data={"tooltypeid": tool_id, "coursevisible": "1" if shown else "0"},
        timeout=30,
    )


def set_usage(live, tool_id: int, usage: int):
    return LmsUser(live, ADMIN).http.post(
        f"{live.devlms_url}/admin/lti-tools/{tool_id}/usage",
        data={"coursevisible": usage},
        timeout=30,
    )


def enrol(live, email: str, role: str) -> int:
    """Enrol ``email`` in a new course as ``role``; return the course's id."""
    with get_db(live.devlms).begin() as session:
        user = session.scalars(select(DevUser).where(DevUser.email == email)).one()
        course = DevCourse(title="Second course", label="SEC", context_id=uuid.uuid4().hex)
        session.add(course)
        session.flush()
        session.add(DevEnrolment(course_id=course.id, user_id=user.id, role=role))
        return course.id


def test_a_registered_tool_is_not_in_the_activity_chooser_and_the_course_page_says_nothing(live):
    tool_id = registered_tool(live)
    teacher = LmsUser(live, TEACHER)
    page = course_page(teacher)
    assert offers(page, demo_tool_id(live))  # set up by hand: in the chooser
    assert not offers(page, tool_id)
    assert REGISTERED not in page
    # Nor can the add screen be reached by its address.
    opened = teacher.http.get(
        f"{live.devlms_url}/courses/{teacher.course_id()}",
        params={"add": tool_id, "placement": "select_content"},
        timeout=30,
    )
    assert REGISTERED not in opened.text and "Choose content to add" not in opened.text
    launch = teacher.http.get(
        f"{live.devlms_url}{deep_link_path(teacher.course_id(), tool_id)}", timeout=30
    )
    assert launch.status_code == 404


def test_the_course_lti_external_tools_page_lists_it_with_the_switch_off(live):
    tool_id = registered_tool(live)
    teacher = LmsUser(live, TEACHER)
    assert "LTI External tools" in course_page(teacher)  # the More menu's item
    page = tools_page(teacher)
    assert page.status_code == 200
    assert "<h1>LTI External tools</h1>" in page.text
    assert "Show in activity chooser" in page.text and REGISTERED in page.text
    assert 'aria-checked="false"' in switch(page.text, tool_id)
    assert 'aria-checked="true"' in switch(page.text, demo_tool_id(live))


def test_a_pending_tool_is_not_on_the_course_page_of_tools(live):
    tool_id = registered_tool(live, activate=False)
    page = tools_page(LmsUser(live, TEACHER))
    assert page.status_code == 200
    assert REGISTERED not in page.text
    assert show_in_chooser(LmsUser(live, TEACHER), tool_id, True).status_code == 404


def test_a_teacher_shows_it_in_the_activity_chooser_of_one_course(live):
    tool_id = registered_tool(live)
    teacher = LmsUser(live, TEACHER)
    other_course = enrol(live, TEACHER, "Instructor")
    answer = show_in_chooser(teacher, tool_id, True)
    assert answer.status_code == 200 and answer.url.endswith(
        f"{COURSE_TOOLS}?id={teacher.course_id()}"
    )
    assert 'aria-checked="true"' in switch(answer.text, tool_id)

    assert offers(course_page(teacher), tool_id)
    # The add screen starts Deep Linking (the tool here is a stand-in registered only in the LMS).
    initiation = teacher.initiation(deep_link_path(teacher.course_id(), tool_id))
    assert initiation.fields["lti_message_hint"]
    assert not offers(course_page(teacher, other_course), tool_id)

    assert show_in_chooser(teacher, tool_id, False).status_code == 200
    assert not offers(course_page(teacher), tool_id)


def test_the_site_admin_shows_it_in_every_course_and_a_teacher_may_still_hide_it(live):
    tool_id = registered_tool(live)
    admin_page = LmsUser(live, ADMIN).http.get(f"{live.devlms_url}/admin/lti-tools", timeout=30)
    assert "Tool configuration usage" in admin_page.text
    assert re.search(
        r'<option value="1" selected>Show as preconfigured tool when adding an external tool<',
        admin_page.text,
    )
    assert ">Show in activity chooser and as a preconfigured tool<" in admin_page.text
    assert ">Do not show; use only when a matching tool URL is entered<" in admin_page.text

    saved = set_usage(live, tool_id, 2)
    assert saved.status_code == 200 and "Changes saved" in saved.text
    teacher = LmsUser(live, TEACHER)
    assert offers(course_page(teacher), tool_id)
    assert offers(course_page(teacher, enrol(live, TEACHER, "Instructor")), tool_id)

    assert show_in_chooser(teacher, tool_id, False).status_code == 200
    assert not offers(course_page(teacher), tool_id)


def test_do_not_show_takes_it_off_every_course_and_off_the_course_page_of_tools(live):
    tool_id = registered_tool(live)
    teacher = LmsUser(live, TEACHER)
    assert show_in_chooser(teacher, tool_id, True).status_code == 200
    assert set_usage(live, tool_id, 0).status_code == 200
    assert not offers(course_page(teacher), tool_id)
    assert REGISTERED not in tools_page(teacher).text
    assert show_in_chooser(teacher, tool_id, True).status_code == 404


def test_a_tool_already_in_a_course_keeps_launching_when_hidden_from_the_chooser(live):
    """Hiding a tool from the chooser changes what can be added, not what was added."""
    teacher = LmsUser(live, TEACHER)
    tool_id = demo_tool_id(live)
    assert show_in_chooser(teacher, tool_id, False).status_code == 200
    assert not offers(course_page(teacher), tool_id)
    assert "Welcome, Maria Alvarez" in teacher.launch().text
    with get_db(live.devlms).begin() as session:
        assert session.scalars(select(DevLink).where(DevLink.tool_id == tool_id)).first()


@pytest.mark.parametrize("role", ["TeachingAssistant", "Learner"])
def test_who_may_not_add_tools_does_not_get_the_course_page_of_tools(live, role):
    """Moodle: mod/lti:addpreconfiguredinstance and addcoursetool are the editing teacher's and
    the manager's; a non-editing teacher and a student get "nopermissions"."""
    tool_id = registered_tool(live)
    course_id = enrol(live, LEARNER, role)
    person = LmsUser(live, LEARNER)
    assert "LTI External tools" not in course_page(person, course_id)
    refused = tools_page(person, course_id)
    assert refused.status_code == 403
    assert "View course external tools" in refused.text
    assert show_in_chooser(person, tool_id, True, course_id).status_code == 403
    assert not offers(course_page(LmsUser(live, TEACHER)), tool_id)


def test_the_switch_refuses_what_is_not_a_yes_or_no_or_not_a_tool(live):
    teacher = LmsUser(live, TEACHER)
    url = f"{live.devlms_url}{COURSE_TOOLS}"
    params = {"id": teacher.course_id()}
    bad = teacher.http.post(
        url,
        params=params,
        data={"tooltypeid": demo_tool_id(live), "coursevisible": "maybe"},
        timeout=30,
    )
    assert bad.status_code == 400
    unknown = teacher.http.post(
        url, params=params, data={"tooltypeid": 999, "coursevisible": 1}, timeout=30
    )
    assert unknown.status_code == 404
    assert teacher.http.get(url, params={"id": 999}, timeout=30).status_code == 404


def test_tool_configuration_usage_is_the_site_admins_and_takes_moodles_three_values(live):
    tool_id = registered_tool(live)
    assert set_usage(live, tool_id, 3).status_code == 400
    refused = LmsUser(live, TEACHER).http.post(
        f"{live.devlms_url}/admin/lti-tools/{tool_id}/usage", data={"coursevisible": 2}, timeout=30
    )
    assert refused.status_code == 403
    assert set_usage(live, 999, 2).status_code == 404
    assert not offers(course_page(LmsUser(live, TEACHER)), tool_id)

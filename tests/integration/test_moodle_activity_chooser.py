"""After Dynamic Registration in Moodle 4.3+, teachers do not find Microcred: Moodle registers it
as a preconfigured tool only, in no course's activity chooser (moodle-as-it-is.md item 2).
Microcred's "registration complete" page tells the admin both ways out, in Moodle's menu words:
the site-wide "Tool configuration usage", and a teacher's per-course More → LTI External tools →
"Show in activity chooser". These tests follow those words on the development LMS, behaving as
Moodle, and end with a teacher in Microcred's picker."""

from __future__ import annotations

import re
from html import unescape

import requests
from sqlalchemy import select

from app.db import get_db
from app.devlms.models import DevTool
from app.lti import registration_links
from tests.support.lms import LmsUser, deep_link_path, forms
from tests.support.registration import registration_token

TEACHER = "maria.alvarez@example.edu"
ADMIN = "alex.admin@example.edu"


def registered_in_moodle(live) -> tuple[str, int]:
    """Register Microcred in the LMS as Moodle with an operator's link, click Register, and (as
    the page says first) activate it; return the "registration complete" page's text and the
    new tool's id in the LMS."""
    with get_db(live.tool).begin() as session:
        link_url = registration_links.issue(
            session, label="District Moodle", created_by="ops@example.org"
        ).url(live.tool_url)
    configuration_url, token = registration_token(live, "moodle")
    params = {"openid_configuration": configuration_url, "registration_token": token}
    done = requests.post(link_url, data=params, timeout=30)
    assert done.status_code == 200, done.text
    client_id = re.search(r'data-field="client-id">([^<]+)<', done.text)
    assert client_id
    with get_db(live.devlms).begin() as session:
        tool_id = session.scalars(
            select(DevTool.id).where(DevTool.client_id == client_id.group(1))
        ).one()
    activated = LmsUser(live, ADMIN).http.post(
        f"{live.devlms_url}/admin/lti-tools/{tool_id}/activate", timeout=30
    )
    assert activated.status_code == 200
    return unescape(re.sub(r"\s+", " ", done.text)), tool_id


def course_page(teacher: LmsUser) -> str:
    page = teacher.http.get(f"{teacher.live.devlms_url}/courses/{teacher.course_id()}", timeout=30)
    assert page.status_code == 200
    return page.text


def offers(page: str, tool_id: int) -> bool:
    return re.search(rf"\?add={tool_id}&amp;placement=select_content", page) is not None


def in_the_picker(teacher: LmsUser, tool_id: int) -> None:
    """The teacher adds an activity of the tool: Microcred's picker opens."""
    picker = teacher.complete(teacher.initiation(deep_link_path(teacher.course_id(), tool_id)))
    assert picker.status_code == 200, picker.text
    assert "/lti/deep-link" in picker.url


def test_the_registration_complete_page_tells_the_moodle_admin_how_teachers_find_microcred(live):
    page, _tool_id = registered_in_moodle(live)
    assert "Tools pending" in page and "Activate" in page
    assert (
        "“Tool configuration usage” to “Show in activity chooser and as a preconfigured tool”"
        in (page)
    )
    assert "More → LTI External tools" in page and "“Show in activity chooser”" in page
    assert "Add an activity or resource" in page  # where teachers look for it


def test_an_admin_who_sets_the_tool_configuration_usage_lets_every_teacher_add_microcred(live):
    page, tool_id = registered_in_moodle(live)
    teacher = LmsUser(live, TEACHER)
    assert not offers(course_page(teacher), tool_id)

    setting = re.search(r"“(Tool configuration usage)” to “([^”]+)”", page)
    assert setting, "the page names no Tool configuration usage"
    admin = LmsUser(live, ADMIN)
    tools = admin.http.get(f"{live.devlms_url}/admin/lti-tools", timeout=30).text
    assert setting.group(1) in tools
    [form] = [f for f in forms(tools) if f.action == f"/admin/lti-tools/{tool_id}/usage"]
    option = re.search(
        rf'id="usage-{tool_id}"[^>]*>.*?<option value="(\d)"[^>]*>{re.escape(setting.group(2))}<',
        tools,
        re.S,
    )
    assert option, f"the LMS offers no option “{setting.group(2)}”"
    saved = admin.http.post(
        f"{live.devlms_url}{form.action}", data={"coursevisible": option.group(1)}, timeout=30
    )
    assert saved.status_code == 200

    assert offers(course_page(teacher), tool_id)
    in_the_picker(teacher, tool_id)


def test_a_teacher_who_turns_it_on_in_the_course_finds_microcred_in_the_chooser(live):
    page, tool_id = registered_in_moodle(live)
    teacher = LmsUser(live, TEACHER)
    course = course_page(teacher)
    assert not offers(course, tool_id)

    words = re.search(r"(More) → (LTI External tools), turn on “([^”]+)”", page)
    assert words, "the page names no per-course step"
    more, item, switch_name = words.groups()
    menu = re.search(
        rf"<summary>{more}</summary>.*?<a href=\"([^\"]+)\"[^>]*>{item}</a>", course, re.S
    )
    assert menu, f"the course page has no {more} → {item}"
    tools = teacher.http.get(f"{live.devlms_url}{unescape(menu.group(1))}", timeout=30)
    assert tools.status_code == 200
    assert f'id="show-in-chooser">{switch_name}<' in tools.text
    [form] = [f for f in forms(tools.text) if f.fields.get("tooltypeid") == str(tool_id)]
    turned_on = teacher.http.post(
        f"{live.devlms_url}{unescape(form.action)}",
        data={**form.fields, "coursevisible": "1"},
        timeout=30,
    )
    assert turned_on.status_code == 200

    assert offers(course_page(teacher), tool_id)
    in_the_picker(teacher, tool_id)

"""The course menu item (Canvas's course_navigation placement) on the development LMS: who sees
it, and the LtiResourceLinkRequest it launches, as Canvas sends it for a launch with no resource
link of its own (lib/lti/messages/resource_link_request.rb: the course's opaque id and name)."""

from __future__ import annotations

from sqlalchemy import select

from app.db import get_db
from app.devlms import registration
from app.devlms.models import DevCourse, DevTool
from tests.support.lms import LmsUser, course_navigation_path, only_tool_id, set_flavour
from tests.support.registration import TOOL_CONFIGURATION, register, tool_configuration

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
INSTRUCTOR = "maria.alvarez@example.edu"
LEARNER = "jordan.lee@example.edu"


def course_page(live, email: str) -> str:
    user = LmsUser(live, email)
    response = user.http.get(f"{live.devlms_url}/courses/{user.course_id()}", timeout=30)
    assert response.status_code == 200
    return response.text


def menu_claims(live, email: str = LEARNER, tool_id: int | None = None) -> dict:
    user = LmsUser(live, email)
    path = course_navigation_path(user.course_id(), tool_id or only_tool_id(live))
    return user.id_token_claims(path)


def test_seeded_tool_opens_the_catalog_from_the_course_menu(live):
    with get_db(live.devlms).begin() as session:
        tool = session.scalars(select(DevTool)).one()
        assert tool.course_navigation_uri == f"{live.tool_url}/catalog"


def test_moodle_flavour_has_no_course_menu_item(live):
    """Moodle has no course menu placement for LTI tools."""
    assert "Micro-credentials" not in course_page(live, LEARNER)


def test_moodle_flavoured_course_menu_launch_is_refused(live):
    learner = LmsUser(live, LEARNER)
    path = course_navigation_path(learner.course_id(), only_tool_id(live))
    response = learner.http.get(f"{live.devlms_url}{path}", timeout=30)
    assert response.status_code == 404
    assert "no item in this course" in response.text


def test_canvas_flavour_shows_the_course_menu_item_to_learners(live):
    set_flavour(live, "canvas")
    assert "Micro-credentials</a>" in course_page(live, LEARNER)


def test_course_menu_launch_targets_the_course_navigation_uri(live):
    set_flavour(live, "canvas")
    claims = menu_claims(live)
    assert claims[LTI + "message_type"] == "LtiResourceLinkRequest"
    assert claims[LTI + "target_link_uri"] == f"{live.tool_url}/catalog"


def test_course_menu_launch_names_the_course_as_its_resource_link(live):
    set_flavour(live, "canvas")
    claims = menu_claims(live)
    assert claims[LTI + "resource_link"] == {
        "id": claims[LTI + "context"]["id"],
        "title": "Teaching with Evidence",
    }
    assert claims[LTI + "custom"] == {}


def test_course_menu_launch_is_stable_per_course(live):
    set_flavour(live, "canvas")
    first = menu_claims(live)[LTI + "resource_link"]["id"]
    assert menu_claims(live, INSTRUCTOR)[LTI + "resource_link"]["id"] == first


def test_course_menu_launch_offers_line_items_but_no_line_item(live):
    set_flavour(live, "canvas")
    ags = menu_claims(live)[AGS]
    assert "lineitems" in ags and "lineitem" not in ags


def test_course_menu_launch_in_a_copy_names_the_copy(live):
    set_flavour(live, "canvas")
    teacher = LmsUser(live, INSTRUCTOR)
    copy_id = teacher.copy_course()
    claims = teacher.id_token_claims(course_navigation_path(copy_id, only_tool_id(live)))
    with get_db(live.devlms).begin() as session:
        copy = session.get(DevCourse, copy_id)
        assert claims[LTI + "resource_link"]["id"] == copy.context_id
    assert claims[LTI + "resource_link"]["title"] == "Teaching with Evidence (copy)"


def course_navigation_message(live, **changes) -> dict:
    message = {
        "type": "LtiResourceLinkRequest",
        "target_link_uri": f"{live.tool_url}/catalog",
        "label": "Educator badges",
        "placements": ["course_navigation"],
        "custom_parameters": {"view": "catalog"},
    }
    message.update(changes)
    return message


def registered_canvas_tool(live, message: dict) -> int:
    """Register a Canvas tool with ``message`` by Dynamic Registration; return its id."""
    answer = register(
        live, "canvas", **{TOOL_CONFIGURATION: tool_configuration(live, messages=[message])}
    )
    with get_db(live.devlms).begin() as session:
        return registration.find_tool(session, answer["client_id"]).id


def test_registered_label_names_the_menu_item(live):
    registered_canvas_tool(live, course_navigation_message(live))
    assert "Educator badges</a>" in course_page(live, LEARNER)


def test_registered_custom_parameters_are_sent_from_the_menu_item(live):
    tool_id = registered_canvas_tool(live, course_navigation_message(live))
    assert menu_claims(live, tool_id=tool_id)[LTI + "custom"] == {"view": "catalog"}


def test_menu_item_for_admins_is_hidden_from_learners(live):
    """Canvas's https://canvas.instructure.com/lti/visibility extension."""
    message = course_navigation_message(
        live, **{"https://canvas.instructure.com/lti/visibility": "admins"}
    )
    registered_canvas_tool(live, message)
    assert "Educator badges" not in course_page(live, LEARNER)
    assert "Educator badges</a>" in course_page(live, INSTRUCTOR)

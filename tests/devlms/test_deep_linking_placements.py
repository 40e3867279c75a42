"""Deep Linking from the development LMS's add screens, per flavour: the entry points a course
page offers and the ``deep_linking_settings`` each sends, as Moodle's "Select content" and
Canvas's assignment_selection / link_selection do (LTI-CHECKLIST F, platform side)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from tests.support.lms import LmsUser, deep_link_path, only_tool_id, set_flavour

DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
INSTRUCTOR = "maria.alvarez@example.edu"
LEARNER = "jordan.lee@example.edu"


def settings_from(live, placement: str | None) -> dict:
    teacher = LmsUser(live, INSTRUCTOR)
    path = deep_link_path(teacher.course_id(), only_tool_id(live), placement)
    claims = teacher.id_token_claims(path)
    assert claims[LTI + "message_type"] == "LtiDeepLinkingRequest"
    settings: dict = claims[DL_SETTINGS]
    return settings


def without_url_and_data(settings: dict) -> dict:
    assert settings.pop("deep_link_return_url").endswith("/deep_linking/return")
    assert settings.pop("data")
    return settings


def without_canvas_url(settings: dict, placement: str) -> dict:
    """Canvas sends no ``data``: the placement is in its return URL, on the course's own
    ``deep_linking_response`` (deep_linking_request.rb return_url, deep_link_params)."""
    url = urlsplit(settings.pop("deep_link_return_url"))
    assert re.fullmatch(r"/courses/\d+/deep_linking_response", url.path), url.path
    assert parse_qs(url.query) == {"modal": ["true"], "placement": [placement]}
    assert "data" not in settings
    return settings


def test_moodle_select_content_accepts_several_links_in_any_frame(live):
    """Moodle mod/lti/locallib.php lti_build_content_item_selection_request: multiple true
    (since 3.10), auto_create false, targets frame/iframe/window, titled with the tool's name."""
    settings = without_url_and_data(settings_from(live, "select_content"))
    assert settings == {
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["frame", "iframe", "window"],
        "accept_multiple": True,
        "auto_create": False,
        "title": "Microcred",
    }


def test_moodle_deep_link_without_a_placement_is_select_content(live):
    assert settings_from(live, None)["accept_presentation_document_targets"] == [
        "frame",
        "iframe",
        "window",
    ]


def test_canvas_new_assignment_accepts_one_link(live):
    """Canvas lib/lti/messages/deep_linking_request.rb DEEP_LINKING_DETAILS
    ["assignment_selection"]."""
    set_flavour(live, "canvas")
    settings = without_canvas_url(
        settings_from(live, "assignment_selection"), "assignment_selection"
    )
    assert settings == {
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_media_types": "application/vnd.ims.lti.v1.ltilink",
        "accept_multiple": False,
        "auto_create": False,
    }


def test_canvas_add_to_module_accepts_several_links(live):
    """Canvas DEEP_LINKING_DETAILS["link_selection"]."""
    set_flavour(live, "canvas")
    settings = without_canvas_url(settings_from(live, "link_selection"), "link_selection")
    assert settings == {
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_media_types": "application/vnd.ims.lti.v1.ltilink",
        "accept_multiple": True,
        "auto_create": False,
    }


def test_canvas_deep_link_without_a_placement_is_add_to_module(live):
    set_flavour(live, "canvas")
    assert settings_from(live, None)["accept_multiple"] is True


def test_moodle_tool_has_no_new_assignment_screen(live):
    teacher = LmsUser(live, INSTRUCTOR)
    path = deep_link_path(teacher.course_id(), only_tool_id(live), "assignment_selection")
    response = teacher.http.get(f"{live.devlms_url}{path}", timeout=30)
    assert response.status_code == 400
    assert "no &#39;assignment_selection&#39; screen" in response.text
    assert "select_content" in response.text


def test_learner_cannot_start_deep_linking(live):
    learner = LmsUser(live, LEARNER)
    path = deep_link_path(learner.course_id(), only_tool_id(live), "select_content")
    response = learner.http.get(f"{live.devlms_url}{path}", timeout=30)
    assert response.status_code == 403
    assert "teachers, designers and administrators" in response.text


def course_page(live, email: str) -> str:
    user = LmsUser(live, email)
    response = user.http.get(f"{live.devlms_url}/courses/{user.course_id()}", timeout=30)
    assert response.status_code == 200
    return response.text


def test_moodle_course_page_offers_add_an_activity(live):
    page = course_page(live, INSTRUCTOR)
    assert "Add an activity from Microcred" in page
    assert "New assignment" not in page and "Add to module" not in page


def test_canvas_course_page_offers_new_assignment_and_add_to_module(live):
    set_flavour(live, "canvas")
    page = course_page(live, INSTRUCTOR)
    assert "New assignment from Microcred" in page
    assert "Add to module from Microcred" in page
    assert "Add an activity" not in page


def test_learner_course_page_offers_no_add_screen(live):
    page = course_page(live, LEARNER)
    assert "Add content" not in page and "Add an activity" not in page


def test_add_screen_frames_the_placements_launch(live):
    set_flavour(live, "canvas")
    teacher = LmsUser(live, INSTRUCTOR)
    course_id, tool_id = teacher.course_id(), only_tool_id(live)
    page = teacher.http.get(
        f"{live.devlms_url}/courses/{course_id}",
        params={"add": tool_id, "placement": "assignment_selection"},
        timeout=30,
    ).text
    assert "New assignment: choose what it is" in page
    assert f'src="{deep_link_path(course_id, tool_id, "assignment_selection")}"' in page


def test_unknown_course_of_a_deep_link_is_a_404(live):
    teacher = LmsUser(live, INSTRUCTOR)
    response = requests.get(
        f"{live.devlms_url}{deep_link_path(999, only_tool_id(live))}",
        cookies=teacher.http.cookies,
        timeout=30,
    )
    assert response.status_code == 404

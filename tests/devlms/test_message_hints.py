"""The development LMS's message hints are single use, as Moodle's and Canvas's are, and each
flavour has the page a top-level window opens to start a fresh launch (reference:
moodle-as-it-is.md item 1, canvas-as-it-is.md "One-shot launch"; app/devlms/launches.py).

- Moodle: the hint is ``{"cmid":…,"launchid":"ltilaunch…"}``; ``auth.php`` unsets the session
  entry behind ``launchid`` when it reads it, so a second use ends on "Invalid request"; the
  activity's ``/mod/lti/launch.php?id=<cmid>`` starts a fresh launch.
- Canvas: ``fetch_and_delete_launch`` at authorize; a second use is posted back to the tool's
  redirect URI as ``error=launch_no_longer_valid``; ``requestFullWindowLaunch`` opens the
  course's ``external_tools/retrieve``, which starts a fresh launch.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import jwt
from sqlalchemy import func, select

from app.db import get_db
from app.devlms.models import DevCourse, DevLaunch, DevLink
from tests.support.lms import (
    LmsUser,
    deep_link_path,
    forms,
    only_tool_id,
    set_flavour,
)

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
PLACEMENT = "https://www.instructure.com/placement"
LEARNER = "jordan.lee@example.edu"
INSTRUCTOR = "maria.alvarez@example.edu"
WELCOME = "Microcred: welcome"


def _claims(page) -> dict[str, Any]:
    assert page.status_code == 200, page.text
    claims: dict[str, Any] = jwt.decode(
        forms(page.text)[0].fields["id_token"], options={"verify_signature": False}
    )
    return claims


def test_moodle_hint_names_the_activity_and_its_launch(live):
    learner = LmsUser(live, LEARNER)
    link_id = learner.link_id(WELCOME)
    hint = learner.initiation(f"/launch/link/{link_id}").fields["lti_message_hint"]
    assert hint.startswith('{"cmid":')  # PHP's json_encode: no spaces
    decoded = json.loads(hint)
    assert decoded["cmid"] == link_id
    assert decoded["launchid"].startswith(f"ltilaunch{link_id}_")


def test_moodle_hint_is_single_use(live):
    learner = LmsUser(live, LEARNER)
    initiation = learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    assert _claims(learner.authorize(initiation))[LTI + "message_type"] == "LtiResourceLinkRequest"

    again = learner.authorize(initiation)
    assert again.status_code == 404  # Moodle's error page (core_renderer::fatal_error)
    assert "Invalid request" in again.text
    assert "id_token" not in again.text and not forms(again.text)  # nothing goes to the tool


def test_moodle_hint_serves_only_the_person_it_was_made_for(live):
    """Moodle keeps the launch in the person's own session."""
    learner = LmsUser(live, LEARNER)
    initiation = learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    other = LmsUser(live, "priya.natarajan@example.edu")
    initiation.fields["login_hint"] = other.sub
    response = other.authorize(initiation)
    assert response.status_code == 404
    assert "Invalid request" in response.text


def test_moodle_content_selection_hint_is_single_use(live):
    teacher = LmsUser(live, INSTRUCTOR)
    initiation = teacher.initiation(deep_link_path(teacher.course_id(), only_tool_id(live)))
    assert "cmid" not in json.loads(initiation.fields["lti_message_hint"])
    assert _claims(teacher.authorize(initiation))[LTI + "message_type"] == "LtiDeepLinkingRequest"
    assert teacher.authorize(initiation).status_code == 404


def test_canvas_reused_hint_is_posted_back_to_the_tool_as_an_oidc_error(live):
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    initiation = learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    _claims(learner.authorize(initiation))

    again = learner.authorize(initiation, state="state-42")
    assert again.status_code == 200
    post = forms(again.text)[0]
    assert post.action == f"{live.tool_url}/lti/launch"
    assert post.fields == {
        "error": "launch_no_longer_valid",
        "error_description": "The launch has either expired or already been consumed",
        "state": "state-42",
    }


def _age_launches(live, by: timedelta) -> None:
    with get_db(live.devlms).begin() as session:
        for launch in session.scalars(select(DevLaunch)):
            launch.created_at -= by


def test_canvas_launch_not_taken_within_five_minutes_is_no_longer_valid(live):
    """Lti::RedisMessageClient caches a launch for five minutes (TTL = 5.minutes)."""
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    initiation = learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    _age_launches(live, timedelta(minutes=5, seconds=1))
    post = forms(learner.authorize(initiation, state="s").text)[0]
    assert post.fields["error"] == "launch_no_longer_valid"


def test_canvas_launch_taken_within_five_minutes_is_valid(live):
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    initiation = learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    _age_launches(live, timedelta(minutes=4, seconds=50))
    assert "id_token" in forms(learner.authorize(initiation).text)[0].fields


def test_moodle_launch_is_gone_with_the_session(live):
    """Moodle keeps the launch in the person's session, which ends after its timeout."""
    learner = LmsUser(live, LEARNER)
    initiation = learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    _age_launches(live, timedelta(hours=8, seconds=1))
    assert learner.authorize(initiation).status_code == 404


def test_launches_never_taken_are_cleared_away(live):
    learner = LmsUser(live, LEARNER)
    for _ in range(3):
        learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    _age_launches(live, timedelta(hours=9))
    fresh = learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    with get_db(live.devlms).begin() as session:
        assert session.scalar(select(func.count()).select_from(DevLaunch)) == 1
    assert "id_token" in forms(learner.authorize(fresh).text)[0].fields


def test_canvas_hint_it_did_not_sign_is_refused(live):
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    initiation = learner.initiation(f"/launch/link/{learner.link_id(WELCOME)}")
    initiation.fields["lti_message_hint"] = "forged"
    response = learner.authorize(initiation)
    assert response.status_code == 400
    assert "Invalid lti_message_hint" in response.text


def test_moodle_launch_page_starts_a_fresh_launch_each_time(live):
    learner = LmsUser(live, LEARNER)
    link_id = learner.link_id(WELCOME)
    first = learner.initiation(f"/mod/lti/launch.php?id={link_id}")
    second = learner.initiation(f"/mod/lti/launch.php?id={link_id}")
    assert first.action == f"{live.tool_url}/lti/login"
    hints = [json.loads(form.fields["lti_message_hint"]) for form in (first, second)]
    assert hints[0]["cmid"] == hints[1]["cmid"] == link_id
    assert hints[0]["launchid"] != hints[1]["launchid"]
    _claims(learner.authorize(first))
    claims = _claims(learner.authorize(second))
    with get_db(live.devlms).begin() as session:
        link = session.get(DevLink, link_id)
        assert link is not None
        assert claims[LTI + "resource_link"]["id"] == link.resource_link_id


def test_moodle_course_page_frames_the_activitys_launch_page(live):
    learner = LmsUser(live, LEARNER)
    link_id = learner.link_id(WELCOME)
    page = learner.http.get(
        f"{live.devlms_url}/courses/{learner.course_id()}", params={"open": link_id}, timeout=30
    )
    assert f'src="/mod/lti/launch.php?id={link_id}"' in page.text


def test_moodle_launch_page_is_not_canvas(live):
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    response = learner.http.get(
        f"{live.devlms_url}/mod/lti/launch.php",
        params={"id": learner.link_id(WELCOME)},
        timeout=30,
    )
    assert response.status_code == 404


def _retrieve(learner: LmsUser, **params: str):
    return learner.http.get(
        f"{learner.live.devlms_url}/courses/{learner.course_id()}/external_tools/retrieve?"
        + urlencode({"display": "borderless", **params}),
        timeout=30,
    )


def _full_window_url(live, path: str = "/lti/launch") -> str:
    """The tool URL as Canvas's requestFullWindowLaunch handler passes it on."""
    redirect = urlencode({"platform_redirect_url": f"{live.devlms_url}/courses/1"})
    return f"{live.tool_url}{path}?{redirect}&full_win_launch_requested=1"


def test_canvas_full_window_launch_relaunches_the_resource_link(live):
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    with get_db(live.devlms).begin() as session:
        rlid = session.scalars(
            select(DevLink.resource_link_id).where(DevLink.title == WELCOME)
        ).one()
    url = _full_window_url(live)
    page = _retrieve(learner, url=url, resource_link_id=rlid)
    assert page.status_code == 200, page.text
    initiation = forms(page.text)[0]
    assert initiation.action == f"{live.tool_url}/lti/login"
    assert initiation.fields["target_link_uri"] == url  # the link has no URL of its own
    claims = _claims(learner.authorize(initiation))
    assert claims[LTI + "resource_link"]["id"] == rlid
    assert claims[LTI + "target_link_uri"] == url
    assert claims[PLACEMENT] is None  # Canvas: no placement for a module item's launch


def test_canvas_full_window_launch_of_the_course_menu_item(live):
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    url = _full_window_url(live, "/catalog")
    page = _retrieve(learner, url=url, placement="course_navigation")
    claims = _claims(learner.authorize(forms(page.text)[0]))
    with get_db(live.devlms).begin() as session:
        course = session.get(DevCourse, learner.course_id())
        assert course is not None
        assert claims[LTI + "resource_link"]["id"] == course.context_id
    assert claims[PLACEMENT] == "course_navigation"
    assert claims[LTI + "target_link_uri"] == url


def test_canvas_full_window_launch_without_a_known_link_is_refused(live):
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    response = _retrieve(learner, url=_full_window_url(live), resource_link_id="nope")
    assert response.status_code == 404
    assert "find valid settings for this link" in response.text


def test_canvas_names_the_deep_linking_placement(live):
    set_flavour(live, "canvas")
    teacher = LmsUser(live, INSTRUCTOR)
    path = deep_link_path(teacher.course_id(), only_tool_id(live), "link_selection")
    assert teacher.id_token_claims(path)[PLACEMENT] == "link_selection"


def test_canvas_course_page_answers_full_window_launch_requests(live):
    set_flavour(live, "canvas")
    learner = LmsUser(live, LEARNER)
    page = learner.http.get(
        f"{live.devlms_url}/courses/{learner.course_id()}",
        params={"open": learner.link_id(WELCOME)},
        timeout=30,
    )
    assert "devlms/full-window-launch.js" in page.text
    assert f'data-retrieve-url="/courses/{learner.course_id()}/external_tools/retrieve"' in (
        page.text
    )


def test_canvas_mobile_answers_no_full_window_launch_requests(live):
    """Canvas's mobile apps answer no postMessage (doc/api/lti_window_post_message.md)."""
    set_flavour(live, "canvas_mobile")
    learner = LmsUser(live, LEARNER)
    page = learner.http.get(
        f"{live.devlms_url}/courses/{learner.course_id()}",
        params={"open": learner.link_id(WELCOME)},
        timeout=30,
    )
    assert "full-window-launch.js" not in page.text

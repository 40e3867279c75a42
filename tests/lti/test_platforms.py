"""How each LMS family starts a launch again in a new window (``Platform.fresh_launch``;
LTI-CHECKLIST C): Moodle's activity launch page from the cmid in its message hint, Canvas's
requestFullWindowLaunch message from the launch's claims, otherwise back to the course."""

from __future__ import annotations

from typing import Any

import pytest

from app.lti.platforms import FreshLaunch, plugin

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
RETURN = "https://lms.example/course/view.php?id=2"


def claims(**extra: Any) -> dict[str, Any]:
    return {
        LTI + "target_link_uri": "https://tool.example/lti/launch",
        LTI + "resource_link": {"id": "rl-1"},
        LTI + "launch_presentation": {"return_url": RETURN},
        **extra,
    }


def test_moodle_opens_the_activitys_launch_page_named_by_the_hints_cmid():
    fresh = plugin("moodle").fresh_launch(
        "https://lms.example/moodle/", '{"cmid":5,"launchid":"ltilaunch5_77"}', claims()
    )
    assert fresh == FreshLaunch(
        lms="Moodle", url="https://lms.example/moodle/mod/lti/launch.php?id=5", return_url=RETURN
    )


@pytest.mark.parametrize(
    "hint",
    [
        '{"launchid":"ltilaunch_LtiDeepLinkingRequest77"}',  # content selection: no activity
        "not json",
        '{"cmid":-5}',
        '{"cmid":true}',
        '{"cmid":"5 OR 1"}',
        "[5]",
        None,
    ],
)
def test_moodle_without_an_activity_in_the_hint_sends_the_person_back(hint):
    fresh = plugin("moodle").fresh_launch("https://lms.example", hint, claims())
    assert fresh.url is None and fresh.message is None
    assert fresh.return_url == RETURN


def test_canvas_asks_for_a_full_window_launch_of_the_resource_link():
    fresh = plugin("canvas").fresh_launch(
        "https://canvas.instructure.com",
        "signed",
        claims(**{"https://www.instructure.com/placement": "course_navigation"}),
    )
    assert fresh.url is None
    assert fresh.message == {
        "subject": "requestFullWindowLaunch",
        "data": {
            "url": "https://tool.example/lti/launch",
            "placement": "course_navigation",
            "resource_link_id": "rl-1",
            "launchType": "new_window",
        },
    }


def test_canvas_leaves_out_what_the_launch_did_not_name():
    """A module item's launch names no placement (null); a Deep Linking one no resource link."""
    body = claims(**{"https://www.instructure.com/placement": None})
    del body[LTI + "resource_link"]
    fresh = plugin("canvas").fresh_launch("https://canvas.instructure.com", None, body)
    assert fresh.message is not None
    assert fresh.message["data"] == {
        "url": "https://tool.example/lti/launch",
        "launchType": "new_window",
    }


def test_another_lms_sends_the_person_back_to_the_course():
    fresh = plugin("generic").fresh_launch("https://lms.example", "hint", claims())
    assert fresh == FreshLaunch(lms="your LMS", return_url=RETURN)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/relative", 7])
def test_a_return_url_that_is_not_a_web_address_is_not_offered(url):
    body = claims(**{LTI + "launch_presentation": {"return_url": url}})
    assert plugin("generic").fresh_launch("https://lms.example", None, body).return_url is None


SUBMISSION = "https://canvas.instructure.com/lti/submission"
URL = "https://tool.example/submissions/3"


def test_a_canvas_submit_gives_the_submission_url_as_a_basic_lti_launch():
    """SpeedGrader launches the tool only at a basic_lti_launch submission's URL."""
    extension = plugin("canvas").score_extensions(None, new_submission=True, submission_url=URL)
    assert extension[SUBMISSION]["submission_type"] == "basic_lti_launch"
    assert extension[SUBMISSION]["submission_data"] == URL


def test_a_canvas_decision_leaves_the_submission_as_it_was():
    extension = plugin("canvas").score_extensions(None, new_submission=False, submission_url=URL)
    assert "submission_type" not in extension[SUBMISSION]
    assert "submission_data" not in extension[SUBMISSION]


def test_moodle_scores_carry_no_submission_url():
    assert plugin("moodle").score_extensions(None, new_submission=True, submission_url=URL) == {}

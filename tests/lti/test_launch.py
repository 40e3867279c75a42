"""The ``Launch`` value object (app/lti/launch.py): what it reads from validated claims."""

from __future__ import annotations

from typing import Any

import pytest

from app.lti.launch import to_launch
from app.lti.models import Registration

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def claims(**extra: Any) -> dict[str, Any]:
    return {
        "iss": "https://lms.example",
        "sub": "teacher-1",
        LTI + "message_type": "LtiSubmissionReviewRequest",
        LTI + "deployment_id": "1",
        LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
        **extra,
    }


def launched(data: dict[str, Any]):
    return to_launch("l-1", data, Registration(id=1, client_id="c", platform_family="moodle"))


@pytest.mark.parametrize(
    ("for_user", "sub"),
    [
        ({"user_id": "learner-7"}, "learner-7"),
        ({"user_id": 7}, "7"),  # Moodle's user ids are numbers
        ({"user_id": ""}, None),
        ({"person_sourcedid": "x"}, None),
        ("learner-7", None),
        (None, None),
    ],
)
def test_for_user_is_read_as_the_named_persons_sub(for_user, sub):
    extra = {} if for_user is None else {LTI + "for_user": for_user}
    launch = launched(claims(**extra))
    assert launch.for_user_sub == sub
    assert launch.is_submission_review


def test_a_resource_link_launch_is_not_a_submission_review():
    launch = launched(claims(**{LTI + "message_type": "LtiResourceLinkRequest"}))
    assert not launch.is_submission_review

"""The ``Launch`` value object (app/lti/launch.py): what it reads from validated claims."""

from __future__ import annotations

from typing import Any

import pytest

from app.lti.launch import kept_claims, to_launch
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


def canvas_like_claims() -> dict[str, Any]:
    """Every claim ``to_launch`` reads, and some it does not, as Canvas sends them."""
    return claims(
        **{
            "aud": "c",
            "azp": "c",
            "exp": 1,
            "iat": 1,
            "nonce": "n",
            "name": "Jordan Lee",
            "given_name": "Jordan",
            "family_name": "Lee",
            "email": "jordan@example.edu",
            "picture": "https://lms.example/p.png",
            LTI + "version": "1.3.0",
            LTI + "target_link_uri": "https://tool.example/lti/launch",
            LTI + "context": {"id": "ctx", "title": "Biology", "label": "BIO", "type": ["x"]},
            LTI + "resource_link": {"id": "rl", "title": "Quiz", "description": None},
            LTI + "custom": {"credential": "first-aid", "version": 2},
            LTI + "launch_presentation": {
                "return_url": "https://school.example/courses/5",
                "document_target": "iframe",
                "height": 400,
            },
            LTI + "tool_platform": {"name": "Canvas", "guid": "g", "version": "cloud"},
            LTI + "for_user": {"user_id": "learner-7", "person_sourcedid": "s"},
            LTI + "lis": {"person_sourcedid": "s"},
            LTI + "lti1p1": {"user_id": "legacy"},
            "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
                "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                "lineitems": "https://lms.example/lineitems",
                "lineitem": "https://lms.example/lineitems/1",
                "errors": {"errors": {}},
            },
            "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                "context_memberships_url": "https://lms.example/members",
                "service_versions": ["2.0"],
            },
            "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
                "deep_link_return_url": "https://lms.example/dl",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe"],
                "accept_multiple": False,
                "auto_create": True,
                "data": "opaque",
                "title": "T",
                "text": "X",
                "errors": {"errors": {}},
                "validation_context": None,
            },
            "https://canvas.instructure.com/lti/placement": "assignment_selection",
        }
    )


def test_the_kept_claims_make_the_same_launch():  # C
    """A launch's pages rebuild it from what was kept: the same launch as from its id_token."""
    full = canvas_like_claims()
    kept = kept_claims(full)
    assert launched(kept) == launched(full)
    for unread in ("aud", "nonce", "exp", "picture", LTI + "lis", LTI + "lti1p1"):
        assert unread not in kept
    assert "errors" not in kept["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
    assert kept[LTI + "launch_presentation"] == {"return_url": "https://school.example/courses/5"}

"""The first launch, end to end over HTTP: development LMS → OIDC login → id_token → tool."""

from __future__ import annotations

from tests.support.lms import LmsUser, field


def test_learner_launch_shows_who_launched(live):
    educator = LmsUser(live, "jordan.lee@example.edu")
    page = educator.launch()
    assert page.status_code == 200, page.text
    assert field(page.text, "name") == "Jordan Lee"
    assert field(page.text, "role") == "Learner"
    assert field(page.text, "course") == "Teaching with Evidence"
    assert field(page.text, "resource-link") == "Microcred: welcome"


def test_instructor_launch_shows_instructor_role(live):
    instructor = LmsUser(live, "maria.alvarez@example.edu")
    page = instructor.launch("Micro-credential: Formative Assessment")
    assert page.status_code == 200, page.text
    assert field(page.text, "role") == "Instructor"
    assert "Grades service</dt><dd>available" in page.text

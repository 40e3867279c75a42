"""The first launch, end to end over HTTP: development LMS → OIDC login → id_token → tool."""

from __future__ import annotations

from app.db import get_db
from tests.support.catalog import seed_sample_catalog
from tests.support.lms import LmsUser, field

GRADED = "Micro-credential: Formative Assessment"


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
    page = instructor.launch()
    assert page.status_code == 200, page.text
    assert field(page.text, "role") == "Instructor"


def test_the_demo_graded_activity_lands_on_its_sample_catalog_credential(live):
    """The demo's graded activity carries the custom parameters Deep Linking gives a link."""
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    learner = LmsUser(live, "jordan.lee@example.edu")
    page = learner.launch(GRADED)
    assert page.status_code == 200, page.text
    assert "/activity?lt=" in page.url
    assert '<h1 id="credential-title">Formative Assessment Practitioner</h1>' in page.text

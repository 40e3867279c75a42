"""Review fixtures: the sample catalog with the hinge-question credential reviewed with names
shown (tests that need blind review turn it on), a course activity for it, its educator, its
instructor and a second teacher."""

from __future__ import annotations

import pytest

from app.db import get_db
from tests.evidence.support import HINGE, INSTRUCTOR, LEARNER, Session, add_activity, launch
from tests.grading.support import TA, make_role, set_review
from tests.support.catalog import seed_sample_catalog


@pytest.fixture
def activity(live) -> str:
    with get_db(live.tool).begin() as session:
        seed_sample_catalog(session)
    set_review(live, blind=False)
    return add_activity(live, HINGE)


@pytest.fixture
def educator(live, activity) -> Session:
    return launch(live, LEARNER, activity)


@pytest.fixture
def instructor(live, activity) -> Session:
    return launch(live, INSTRUCTOR, activity)


@pytest.fixture
def assistant(live, activity) -> Session:
    """A second reviewer: Samuel Okafor made the course's teaching assistant."""
    make_role(live, TA, "TeachingAssistant")
    return launch(live, TA, activity)

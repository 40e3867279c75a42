"""The bad-input tests share one world per module: building it (launches, a submission, a
review, a badge, console records) takes seconds, and every request they send is refused
without changing it, or changes only what the request names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import empty_database, seeded_live, settings_for
from tests.security.bad_input import World, build_world


@pytest.fixture(scope="module")
def world(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The tool and the development LMS on loopback, with one of everything
    (``tests/security/bad_input.py``); every table is emptied after the module."""
    settings = settings_for(database_url, tmp_path_factory.mktemp("instance"))
    try:
        for live in seeded_live(settings):
            yield build_world(live)
    finally:
        empty_database(database_url)

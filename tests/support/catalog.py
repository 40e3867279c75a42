"""The sample catalog in a test's database, as ``flask demo seed`` imports it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.catalog import cli
from tests.support.snapshot import seeded


def seed_sample_catalog(session: Session) -> int:
    """``app.catalog.cli.seed_sample_catalog`` (uncommitted), its rows put back from the first
    import of this test process when the catalog is empty (``tests/support/snapshot.py``)."""

    def seed() -> int:
        added = cli.seed_sample_catalog(session)
        session.flush()
        return added

    added: int = seeded(session.connection(), "sample catalog", {}, seed)
    return added

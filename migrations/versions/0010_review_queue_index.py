"""The review queue's index: waiting attempts in submission order.

A partial index on (submitted_at, id) of the attempts that wait for review, so that a page of
the queue is read in order instead of sorting every waiting attempt (bench/review.py: an
assessor's queue over 57 000 waiting submissions).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("state IN ('submitted', 'in_review')")


def upgrade() -> None:
    op.create_index(
        "ix_evidence_attempt_waiting",
        "evidence_attempt",
        ["submitted_at", "id"],
        unique=False,
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_evidence_attempt_waiting", table_name="evidence_attempt")

"""A description or transcript of an image, audio or video file of evidence.

``evidence_file.description``: what the educator says an image shows or a recording says, for
an assessor who cannot see or hear it (WCAG 2.1 1.1.1 and 1.2.1: a text alternative for
non-text content, a transcript for recorded media).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.drop_column("description")

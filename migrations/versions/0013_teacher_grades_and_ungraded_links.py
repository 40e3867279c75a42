"""A teacher's grade that stands in the LMS.

``devlms_grade.overridden_at``: the development LMS's teacher overrides. Only nullable columns:
existing rows keep their meaning.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devlms_grade", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overridden_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("devlms_grade", schema=None) as batch_op:
        batch_op.drop_column("overridden_at")

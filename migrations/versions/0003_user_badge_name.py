"""The name a person wants on their badges (lti_user.badge_name).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 05:59:07.300723
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lti_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("badge_name", sa.String(length=120), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lti_user", schema=None) as batch_op:
        batch_op.drop_column("badge_name")

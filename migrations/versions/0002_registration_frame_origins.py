"""Registration frame origins: where each platform's course pages frame the tool.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 05:37:06.404539
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lti_registration", schema=None) as batch_op:
        # Existing registrations start with none learned; launches fill it in.
        batch_op.add_column(
            sa.Column("frame_origins", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("lti_registration", schema=None) as batch_op:
        batch_op.drop_column("frame_origins")

"""The development LMS's prepared launches, so that its message hints are single use.

``devlms_launch``: a launch prepared at login initiation and deleted the first time the
authorization endpoint reads it, as Moodle (its session entry behind the hint's ``launchid``) and
Canvas (its cached launch behind the hint's verifier) do.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devlms_launch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("launch_id", sa.String(length=64), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("target_link_uri", sa.String(length=1024), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["devlms_tool.id"],
            name=op.f("fk_devlms_launch_tool_id_devlms_tool"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["devlms_user.id"],
            name=op.f("fk_devlms_launch_user_id_devlms_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devlms_launch")),
        sa.UniqueConstraint("launch_id", name=op.f("uq_devlms_launch_launch_id")),
    )


def downgrade() -> None:
    op.drop_table("devlms_launch")

"""The development LMS's activity chooser, as Moodle 4.3+ has it.

``devlms_tool.course_visible``: a tool's *Tool configuration usage* (Moodle's
``lti_types.coursevisible``); existing tools keep 2, "Show in activity chooser and as a
preconfigured tool", where a tool set up by hand is. ``devlms_course_tool_visibility``: a
course's own "Show in activity chooser" choice for a tool (Moodle's ``lti_coursevisible``).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devlms_tool") as batch:
        batch.add_column(
            sa.Column("course_visible", sa.Integer(), server_default="2", nullable=False)
        )
    op.create_table(
        "devlms_course_tool_visibility",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.Column("course_visible", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["devlms_course.id"],
            name=op.f("fk_devlms_course_tool_visibility_course_id_devlms_course"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tool_id"],
            ["devlms_tool.id"],
            name=op.f("fk_devlms_course_tool_visibility_tool_id_devlms_tool"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devlms_course_tool_visibility")),
        sa.UniqueConstraint(
            "course_id", "tool_id", name="uq_devlms_course_tool_visibility_course_tool"
        ),
    )


def downgrade() -> None:
    op.drop_table("devlms_course_tool_visibility")
    with op.batch_alter_table("devlms_tool") as batch:
        batch.drop_column("course_visible")

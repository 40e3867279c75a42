"""An educator's export built by the worker: ``privacy_export`` (issue 23 part 2).

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "privacy_export",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=128), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_privacy_export_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_privacy_export_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_export")),
    )
    with op.batch_alter_table("privacy_export", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_privacy_export_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_privacy_export_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_privacy_export_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("privacy_export", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_privacy_export_user_id"))
        batch_op.drop_index(batch_op.f("ix_privacy_export_state"))
        batch_op.drop_index(batch_op.f("ix_privacy_export_registration_id"))
    op.drop_table("privacy_export")

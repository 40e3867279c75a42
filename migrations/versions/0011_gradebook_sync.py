"""Gradebook sync: line items, score deliveries, the development LMS's injected faults.

``lti_line_item``: each resource link's gradebook column as the AGS claim names it.
``grading_score_delivery``: one row per (line item, learner) holding the score the column should
show and whether the platform has it, with a partial index of the rows waiting to be sent.
``devlms_faults``: latency and error rates the development LMS adds to its service endpoints.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "devlms_faults",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("unauthorized_rate", sa.Float(), nullable=False),
        sa.Column("throttle_rate", sa.Float(), nullable=False),
        sa.Column("retry_after_seconds", sa.Integer(), nullable=False),
        sa.Column("server_error_rate", sa.Float(), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devlms_faults")),
    )
    op.create_table(
        "lti_line_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("resource_link_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=True),
        sa.Column("lineitems_url", sa.String(length=1024), nullable=True),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("score_maximum", sa.Float(), nullable=True),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_lti_line_item_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_link_id"],
            ["lti_resource_link.id"],
            name=op.f("fk_lti_line_item_resource_link_id_lti_resource_link"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_line_item")),
        sa.UniqueConstraint("resource_link_id", name="uq_lti_line_item_resource_link"),
    )
    with op.batch_alter_table("lti_line_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lti_line_item_registration_id"), ["registration_id"], unique=False
        )

    op.create_table(
        "grading_score_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("line_item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sent_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("desired_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("lease_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_timestamp", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["evidence_attempt.id"],
            name=op.f("fk_grading_score_delivery_attempt_id_evidence_attempt"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["line_item_id"],
            ["lti_line_item.id"],
            name=op.f("fk_grading_score_delivery_line_item_id_lti_line_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_grading_score_delivery_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_grading_score_delivery_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_score_delivery")),
        sa.UniqueConstraint("line_item_id", "user_id", name="uq_grading_score_delivery_item_user"),
    )
    with op.batch_alter_table("grading_score_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grading_score_delivery_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            "ix_grading_score_delivery_due",
            ["available_at"],
            unique=False,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.create_index(
            batch_op.f("ix_grading_score_delivery_line_item_id"), ["line_item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grading_score_delivery_registration_id"),
            ["registration_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_grading_score_delivery_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("grading_score_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grading_score_delivery_user_id"))
        batch_op.drop_index(batch_op.f("ix_grading_score_delivery_registration_id"))
        batch_op.drop_index(batch_op.f("ix_grading_score_delivery_line_item_id"))
        batch_op.drop_index(
            "ix_grading_score_delivery_due",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_grading_score_delivery_attempt_id"))

    op.drop_table("grading_score_delivery")
    with op.batch_alter_table("lti_line_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lti_line_item_registration_id"))

    op.drop_table("lti_line_item")
    op.drop_table("devlms_faults")

"""Operator console and audit log, registration links, tool key schedule, registration on every
LMS-owned row (tenant scoping), Dynamic Registration in the development LMS.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 07:16:09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_signed_in_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_operator")),
        sa.UniqueConstraint("email", name=op.f("uq_admin_operator_email")),
    )
    op.create_table(
        "admin_audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["admin_operator.id"],
            name=op.f("fk_admin_audit_event_operator_id_admin_operator"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit_event")),
    )
    with op.batch_alter_table("admin_audit_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_admin_audit_event_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "lti_registration_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("auto_approve_deployments", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_lti_registration_link_registration_id_lti_registration"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lti_registration_link")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_lti_registration_link_token_digest")),
    )

    with op.batch_alter_table("devlms_tool", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registration_document", sa.JSON(), nullable=True))

    with op.batch_alter_table("lti_registration", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="manual", nullable=False)
        )

    # Every LMS-owned row names its registration: add, fill from the parent, then require.
    for table in ("lti_context", "lti_resource_link"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("registration_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE lti_context SET registration_id = (SELECT d.registration_id FROM lti_deployment d"
        " WHERE d.id = lti_context.deployment_id)"
    )
    op.execute(
        "UPDATE lti_resource_link SET registration_id = (SELECT c.registration_id"
        " FROM lti_context c WHERE c.id = lti_resource_link.context_id)"
    )
    for table in ("lti_context", "lti_resource_link"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("registration_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_index(batch_op.f(f"ix_{table}_registration_id"), ["registration_id"])
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_registration_id_lti_registration"),
                "lti_registration",
                ["registration_id"],
                ["id"],
                ondelete="CASCADE",
            )

    # Existing keys have signed since they were made.
    with op.batch_alter_table("lti_tool_key", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signs_from", app.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("retires_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE lti_tool_key SET signs_from = created_at")
    op.execute("UPDATE lti_tool_key SET status = 'active' WHERE status = 'next'")
    with op.batch_alter_table("lti_tool_key", schema=None) as batch_op:
        batch_op.alter_column(
            "signs_from", existing_type=app.db.UTCDateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("lti_tool_key", schema=None) as batch_op:
        batch_op.drop_column("retires_at")
        batch_op.drop_column("signs_from")

    for table in ("lti_resource_link", "lti_context"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_registration_id_lti_registration"), type_="foreignkey"
            )
            batch_op.drop_index(batch_op.f(f"ix_{table}_registration_id"))
            batch_op.drop_column("registration_id")

    with op.batch_alter_table("lti_registration", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("is_active")

    with op.batch_alter_table("devlms_tool", schema=None) as batch_op:
        batch_op.drop_column("registration_document")

    op.drop_table("lti_registration_link")
    with op.batch_alter_table("admin_audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_audit_event_occurred_at"))
    op.drop_table("admin_audit_event")
    op.drop_table("admin_operator")

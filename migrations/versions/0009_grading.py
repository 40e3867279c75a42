"""Review: assessor grants, reviews (claims with expiry, one per round), decisions, the
outbox of events for the worker; organisations' blind review and turnaround target; the
queue's index on submitted attempts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 17:30:01.549066
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grading_assessor_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("lead", sa.Boolean(), nullable=False),
        sa.Column("granted_by", sa.String(length=320), nullable=False),
        sa.Column("granted_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["catalog_organisation.id"],
            name=op.f("fk_grading_assessor_grant_organisation_id_catalog_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_grading_assessor_grant_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_grading_assessor_grant_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_assessor_grant")),
        sa.UniqueConstraint(
            "organisation_id", "user_id", name="uq_grading_assessor_grant_organisation_user"
        ),
    )
    with op.batch_alter_table("grading_assessor_grant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grading_assessor_grant_organisation_id"),
            ["organisation_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_grading_assessor_grant_registration_id"),
            ["registration_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_grading_assessor_grant_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "grading_outbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("processed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["evidence_attempt.id"],
            name=op.f("fk_grading_outbox_event_attempt_id_evidence_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_grading_outbox_event_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_outbox_event")),
    )
    with op.batch_alter_table("grading_outbox_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grading_outbox_event_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            "ix_grading_outbox_event_pending", ["processed_at", "available_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grading_outbox_event_registration_id"), ["registration_id"], unique=False
        )

    op.create_table(
        "grading_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("claimed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["evidence_attempt.id"],
            name=op.f("fk_grading_review_attempt_id_evidence_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_grading_review_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["lti_user.id"],
            name=op.f("fk_grading_review_reviewer_id_lti_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_review")),
        sa.UniqueConstraint("attempt_id", "round", name="uq_grading_review_attempt_round"),
    )
    with op.batch_alter_table("grading_review", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grading_review_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_grading_review_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(
            "ix_grading_review_reviewer_state", ["reviewer_id", "state"], unique=False
        )

    op.create_table(
        "grading_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("decided_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["evidence_attempt.id"],
            name=op.f("fk_grading_decision_attempt_id_evidence_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_grading_decision_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["grading_review.id"],
            name=op.f("fk_grading_decision_review_id_grading_review"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_decision")),
        sa.UniqueConstraint("attempt_id", name="uq_grading_decision_attempt"),
    )
    with op.batch_alter_table("grading_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_grading_decision_registration_id"), ["registration_id"], unique=False
        )

    with op.batch_alter_table("catalog_organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("blind_review", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("turnaround_days", sa.Integer(), server_default="14", nullable=False)
        )

    with op.batch_alter_table("evidence_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_evidence_attempt_state_submitted_at", ["state", "submitted_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_evidence_attempt_state_submitted_at")

    with op.batch_alter_table("catalog_organisation", schema=None) as batch_op:
        batch_op.drop_column("turnaround_days")
        batch_op.drop_column("blind_review")

    with op.batch_alter_table("grading_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grading_decision_registration_id"))

    op.drop_table("grading_decision")
    with op.batch_alter_table("grading_review", schema=None) as batch_op:
        batch_op.drop_index("ix_grading_review_reviewer_state")
        batch_op.drop_index(batch_op.f("ix_grading_review_registration_id"))
        batch_op.drop_index(batch_op.f("ix_grading_review_attempt_id"))

    op.drop_table("grading_review")
    with op.batch_alter_table("grading_outbox_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grading_outbox_event_registration_id"))
        batch_op.drop_index("ix_grading_outbox_event_pending")
        batch_op.drop_index(batch_op.f("ix_grading_outbox_event_attempt_id"))

    op.drop_table("grading_outbox_event")
    with op.batch_alter_table("grading_assessor_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grading_assessor_grant_user_id"))
        batch_op.drop_index(batch_op.f("ix_grading_assessor_grant_registration_id"))
        batch_op.drop_index(batch_op.f("ix_grading_assessor_grant_organisation_id"))

    op.drop_table("grading_assessor_grant")

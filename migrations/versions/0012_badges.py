"""Open Badges: issuer keys, revocation status lists, awards; failed outbox events.

``badges_issuer_key``: each issuer organisation's Ed25519 keys (one active, earlier ones kept
published so what they signed still verifies). ``badges_status_list``: the issuers' Bitstring
Status Lists. ``badges_award``: each earned credential as issued (the signed OB 3.0 credential,
the recipient's salted hash, its status list index, revocation). ``grading_outbox_event.failed_at``:
an event whose last allowed try failed.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "badges_issuer_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("public_multibase", sa.String(length=64), nullable=False),
        sa.Column("private_key_encrypted", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["catalog_organisation.id"],
            name=op.f("fk_badges_issuer_key_organisation_id_catalog_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges_issuer_key")),
        sa.UniqueConstraint("public_multibase", name=op.f("uq_badges_issuer_key_public_multibase")),
    )
    with op.batch_alter_table("badges_issuer_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_badges_issuer_key_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            "uq_badges_issuer_key_active",
            ["organisation_id"],
            unique=True,
            postgresql_where=sa.text("state = 'active'"),
            sqlite_where=sa.text("state = 'active'"),
        )

    op.create_table(
        "badges_status_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("signed", sa.JSON(), nullable=True),
        sa.Column("signed_revision", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["catalog_organisation.id"],
            name=op.f("fk_badges_status_list_organisation_id_catalog_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges_status_list")),
    )
    with op.batch_alter_table("badges_status_list", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_badges_status_list_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "badges_award",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("stack_id", sa.Integer(), nullable=True),
        sa.Column("issuer_key_id", sa.Integer(), nullable=False),
        sa.Column("status_list_id", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("issued_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("valid_until", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recipient_name", sa.String(length=255), nullable=False),
        sa.Column("recipient_type", sa.String(length=16), nullable=False),
        sa.Column("recipient_salt", sa.String(length=64), nullable=False),
        sa.Column("recipient_hash", sa.String(length=80), nullable=False),
        sa.Column("credential_json", sa.JSON(), nullable=False),
        sa.Column("public_evidence", sa.JSON(), nullable=False),
        sa.Column("revoked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revocation_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.String(length=320), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["evidence_attempt.id"],
            name=op.f("fk_badges_award_attempt_id_evidence_attempt"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["catalog_credential.id"],
            name=op.f("fk_badges_award_credential_id_catalog_credential"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["grading_decision.id"],
            name=op.f("fk_badges_award_decision_id_grading_decision"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["issuer_key_id"],
            ["badges_issuer_key.id"],
            name=op.f("fk_badges_award_issuer_key_id_badges_issuer_key"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["catalog_organisation.id"],
            name=op.f("fk_badges_award_organisation_id_catalog_organisation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_badges_award_registration_id_lti_registration"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["stack_id"],
            ["catalog_stack.id"],
            name=op.f("fk_badges_award_stack_id_catalog_stack"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["status_list_id"],
            ["badges_status_list.id"],
            name=op.f("fk_badges_award_status_list_id_badges_status_list"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_badges_award_user_id_lti_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["catalog_credential_version.id"],
            name=op.f("fk_badges_award_version_id_catalog_credential_version"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges_award")),
        sa.UniqueConstraint("attempt_id", name="uq_badges_award_attempt"),
        sa.UniqueConstraint("public_id", name=op.f("uq_badges_award_public_id")),
        sa.UniqueConstraint(
            "status_list_id", "status_index", name="uq_badges_award_status_list_index"
        ),
    )
    with op.batch_alter_table("badges_award", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_badges_award_credential_id"), ["credential_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_badges_award_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_badges_award_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_badges_award_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_badges_award_user_stack",
            ["user_id", "stack_id"],
            unique=True,
            postgresql_where=sa.text("stack_id IS NOT NULL"),
            sqlite_where=sa.text("stack_id IS NOT NULL"),
        )

    with op.batch_alter_table("grading_outbox_event", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("grading_outbox_event", schema=None) as batch_op:
        batch_op.drop_column("failed_at")

    with op.batch_alter_table("badges_award", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_badges_award_user_stack",
            postgresql_where=sa.text("stack_id IS NOT NULL"),
            sqlite_where=sa.text("stack_id IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_badges_award_user_id"))
        batch_op.drop_index(batch_op.f("ix_badges_award_registration_id"))
        batch_op.drop_index(batch_op.f("ix_badges_award_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_badges_award_credential_id"))

    op.drop_table("badges_award")
    with op.batch_alter_table("badges_status_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_badges_status_list_organisation_id"))

    op.drop_table("badges_status_list")
    with op.batch_alter_table("badges_issuer_key", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_badges_issuer_key_active",
            postgresql_where=sa.text("state = 'active'"),
            sqlite_where=sa.text("state = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_badges_issuer_key_organisation_id"))

    op.drop_table("badges_issuer_key")

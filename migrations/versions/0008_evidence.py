"""Evidence: attempts at a credential, text answers (versioned for optimistic concurrency),
links and files (resumable uploads) per part.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 16:23:46.011570
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("changes_note", sa.Text(), nullable=False),
        sa.Column("started_resource_link_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["catalog_credential.id"],
            name=op.f("fk_evidence_attempt_credential_id_catalog_credential"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_evidence_attempt_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["started_resource_link_id"],
            ["lti_resource_link.id"],
            name=op.f("fk_evidence_attempt_started_resource_link_id_lti_resource_link"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_evidence_attempt_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["catalog_credential_version.id"],
            name=op.f("fk_evidence_attempt_version_id_catalog_credential_version"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_attempt")),
        sa.UniqueConstraint(
            "user_id", "credential_id", "number", name="uq_evidence_attempt_user_credential_number"
        ),
    )
    with op.batch_alter_table("evidence_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_attempt_credential_id"), ["credential_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_attempt_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_evidence_attempt_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_evidence_attempt_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_evidence_attempt_version_id"), ["version_id"], unique=False
        )

    op.create_table(
        "evidence_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("part_key", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("saved_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["evidence_attempt.id"],
            name=op.f("fk_evidence_answer_attempt_id_evidence_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_evidence_answer_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_answer")),
        sa.UniqueConstraint("attempt_id", "part_key", name="uq_evidence_answer_attempt_part"),
    )
    with op.batch_alter_table("evidence_answer", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_answer_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_answer_registration_id"), ["registration_id"], unique=False
        )

    op.create_table(
        "evidence_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("part_key", sa.String(length=80), nullable=False),
        sa.Column("storage_key", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("upload", sa.JSON(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["evidence_attempt.id"],
            name=op.f("fk_evidence_file_attempt_id_evidence_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_evidence_file_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_file")),
    )
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_file_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_file_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_file_storage_key"), ["storage_key"], unique=False
        )

    op.create_table(
        "evidence_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("part_key", sa.String(length=80), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["evidence_attempt.id"],
            name=op.f("fk_evidence_link_attempt_id_evidence_attempt"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_evidence_link_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_link")),
    )
    with op.batch_alter_table("evidence_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_evidence_link_attempt_id"), ["attempt_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_evidence_link_registration_id"), ["registration_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("evidence_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_link_registration_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_link_attempt_id"))

    op.drop_table("evidence_link")
    with op.batch_alter_table("evidence_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_file_storage_key"))
        batch_op.drop_index(batch_op.f("ix_evidence_file_registration_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_file_attempt_id"))

    op.drop_table("evidence_file")
    with op.batch_alter_table("evidence_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_answer_registration_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_answer_attempt_id"))

    op.drop_table("evidence_answer")
    with op.batch_alter_table("evidence_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_attempt_version_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_attempt_user_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_attempt_state"))
        batch_op.drop_index(batch_op.f("ix_evidence_attempt_registration_id"))
        batch_op.drop_index(batch_op.f("ix_evidence_attempt_credential_id"))

    op.drop_table("evidence_attempt")

"""The catalog: issuer organisations, images, credentials and their versions, stacks, authors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 08:08:51.207451
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_image")),
        sa.UniqueConstraint("sha256", name=op.f("uq_catalog_image_sha256")),
    )
    op.create_table(
        "catalog_organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=1024), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["catalog_image.id"],
            name=op.f("fk_catalog_organisation_image_id_catalog_image"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_organisation")),
        sa.UniqueConstraint("slug", name=op.f("uq_catalog_organisation_slug")),
    )
    op.create_table(
        "catalog_author",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["admin_operator.id"],
            name=op.f("fk_catalog_author_operator_id_admin_operator"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["catalog_organisation.id"],
            name=op.f("fk_catalog_author_organisation_id_catalog_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_author")),
        sa.UniqueConstraint("operator_id", "organisation_id", name="uq_catalog_author_membership"),
    )
    op.create_table(
        "catalog_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["catalog_organisation.id"],
            name=op.f("fk_catalog_credential_organisation_id_catalog_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_credential")),
        sa.UniqueConstraint("slug", name=op.f("uq_catalog_credential_slug")),
    )
    op.create_table(
        "catalog_credential_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("image_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("short_description", sa.String(length=500), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("estimated_hours", sa.Float(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("retired_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["catalog_credential.id"],
            name=op.f("fk_catalog_credential_version_credential_id_catalog_credential"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["catalog_image.id"],
            name=op.f("fk_catalog_credential_version_image_id_catalog_image"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_credential_version")),
        sa.UniqueConstraint("credential_id", "number", name="uq_catalog_credential_version_number"),
    )
    with op.batch_alter_table("catalog_credential_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_catalog_credential_version_status_title", ["status", "title"], unique=False
        )

    op.create_table(
        "catalog_stack",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("milestone_credential_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_credential_id"],
            ["catalog_credential.id"],
            name=op.f("fk_catalog_stack_milestone_credential_id_catalog_credential"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["catalog_organisation.id"],
            name=op.f("fk_catalog_stack_organisation_id_catalog_organisation"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_stack")),
        sa.UniqueConstraint("slug", name=op.f("uq_catalog_stack_slug")),
    )
    op.create_table(
        "catalog_stack_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stack_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["catalog_credential.id"],
            name=op.f("fk_catalog_stack_item_credential_id_catalog_credential"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stack_id"],
            ["catalog_stack.id"],
            name=op.f("fk_catalog_stack_item_stack_id_catalog_stack"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_stack_item")),
        sa.UniqueConstraint("stack_id", "credential_id", name="uq_catalog_stack_item_credential"),
    )


def downgrade() -> None:
    op.drop_table("catalog_stack_item")
    op.drop_table("catalog_stack")
    with op.batch_alter_table("catalog_credential_version", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_credential_version_status_title")

    op.drop_table("catalog_credential_version")
    op.drop_table("catalog_credential")
    op.drop_table("catalog_author")
    op.drop_table("catalog_organisation")
    op.drop_table("catalog_image")

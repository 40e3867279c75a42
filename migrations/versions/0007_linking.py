"""Linking: which credential a course link stands for, and who has opened it; the
development LMS's course menu item, link placements and course copies.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:39:10.948927
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "linking_link_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("resource_link_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("roles", sa.String(length=255), nullable=False),
        sa.Column("first_seen_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_linking_link_visit_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_link_id"],
            ["lti_resource_link.id"],
            name=op.f("fk_linking_link_visit_resource_link_id_lti_resource_link"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["lti_user.id"],
            name=op.f("fk_linking_link_visit_user_id_lti_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linking_link_visit")),
        sa.UniqueConstraint("resource_link_id", "user_id", name="uq_linking_link_visit_link_user"),
    )
    with op.batch_alter_table("linking_link_visit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_linking_link_visit_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_linking_link_visit_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "linking_linked_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("resource_link_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("score_maximum", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("bound_by_user_id", sa.Integer(), nullable=True),
        sa.Column("bound_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bound_by_user_id"],
            ["lti_user.id"],
            name=op.f("fk_linking_linked_credential_bound_by_user_id_lti_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["catalog_credential.id"],
            name=op.f("fk_linking_linked_credential_credential_id_catalog_credential"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["lti_registration.id"],
            name=op.f("fk_linking_linked_credential_registration_id_lti_registration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_link_id"],
            ["lti_resource_link.id"],
            name=op.f("fk_linking_linked_credential_resource_link_id_lti_resource_link"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linking_linked_credential")),
        sa.UniqueConstraint("resource_link_id", name="uq_linking_linked_credential_resource_link"),
    )
    with op.batch_alter_table("linking_linked_credential", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_linking_linked_credential_credential_id"),
            ["credential_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_linking_linked_credential_registration_id"),
            ["registration_id"],
            unique=False,
        )

    with op.batch_alter_table("devlms_course", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copied_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_devlms_course_copied_from_id_devlms_course"),
            "devlms_course",
            ["copied_from_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("devlms_link", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("placement", sa.String(length=32), server_default="link", nullable=False)
        )

    with op.batch_alter_table("devlms_tool", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("course_navigation_uri", sa.String(length=1024), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("devlms_tool", schema=None) as batch_op:
        batch_op.drop_column("course_navigation_uri")

    with op.batch_alter_table("devlms_link", schema=None) as batch_op:
        batch_op.drop_column("placement")

    with op.batch_alter_table("devlms_course", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_devlms_course_copied_from_id_devlms_course"), type_="foreignkey"
        )
        batch_op.drop_column("copied_from_id")

    with op.batch_alter_table("linking_linked_credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linking_linked_credential_registration_id"))
        batch_op.drop_index(batch_op.f("ix_linking_linked_credential_credential_id"))

    op.drop_table("linking_linked_credential")
    with op.batch_alter_table("linking_link_visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_linking_link_visit_user_id"))
        batch_op.drop_index(batch_op.f("ix_linking_link_visit_registration_id"))

    op.drop_table("linking_link_visit")

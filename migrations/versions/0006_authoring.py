"""Authoring: console accounts that only author, and a draft's save counter.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every account that exists today was created as an operator.
    with op.batch_alter_table("admin_operator") as batch:
        batch.add_column(
            sa.Column("is_operator", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("catalog_credential_version") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("catalog_credential_version") as batch:
        batch.drop_column("revision")
    with op.batch_alter_table("admin_operator") as batch:
        batch.drop_column("is_operator")

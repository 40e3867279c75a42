"""Registration course page origins: where an operator says a platform's course pages are.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lti_registration", schema=None) as batch_op:
        # None named yet: learned origins and the issuer's keep framing as before.
        batch_op.add_column(
            sa.Column("course_page_origins", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("lti_registration", schema=None) as batch_op:
        batch_op.drop_column("course_page_origins")

"""Whether a badge names its earner: an organisation's default and the educator's choice.

``catalog_organisation.badge_name_shown``: whether the badges the organisation issues carry the
earner's name (in clear, beside the salted hash of their email) unless the earner chooses
otherwise; shown, as every badge did until now. ``lti_user.name_in_badges``: the earner's own
choice (``NULL``: the issuing organisation's default). ``badges_award.recipient_name`` may now be
``NULL``: a badge issued without the name (a downgrade leaves it empty, as such a badge's
signed credential is).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("catalog_organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("badge_name_shown", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("lti_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_in_badges", sa.Boolean(), nullable=True))
    with op.batch_alter_table("badges_award", schema=None) as batch_op:
        batch_op.alter_column("recipient_name", existing_type=sa.String(255), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE badges_award SET recipient_name = '' WHERE recipient_name IS NULL")
    with op.batch_alter_table("badges_award", schema=None) as batch_op:
        batch_op.alter_column("recipient_name", existing_type=sa.String(255), nullable=False)
    with op.batch_alter_table("lti_user", schema=None) as batch_op:
        batch_op.drop_column("name_in_badges")
    with op.batch_alter_table("catalog_organisation", schema=None) as batch_op:
        batch_op.drop_column("badge_name_shown")

"""A teacher's grade that stands in the LMS; links that can have no gradebook column.

``grading_score_delivery.resent_version``, ``lms_score_given``, ``lms_score_maximum``: what
reconciliation re-sent, and the teacher's grade it found standing in the LMS (status
``overridden``). ``lti_line_item.no_column``: why the LMS can give a link no gradebook column
(status ``no_column`` for its scores). ``devlms_grade.overridden_at``: the development LMS's
teacher overrides. Only nullable columns: existing rows keep their meaning.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("grading_score_delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resent_version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lms_score_given", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("lms_score_maximum", sa.Float(), nullable=True))
    with op.batch_alter_table("lti_line_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("no_column", sa.Text(), nullable=True))
    with op.batch_alter_table("devlms_grade", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overridden_at", app.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    # Statuses the older code does not know become what it would have done with those rows:
    # a teacher's grade found standing was "in the gradebook", a link without a column failed.
    op.execute("UPDATE grading_score_delivery SET status = 'delivered' WHERE status = 'overridden'")
    op.execute("UPDATE grading_score_delivery SET status = 'failed' WHERE status = 'no_column'")
    with op.batch_alter_table("devlms_grade", schema=None) as batch_op:
        batch_op.drop_column("overridden_at")
    with op.batch_alter_table("lti_line_item", schema=None) as batch_op:
        batch_op.drop_column("no_column")
    with op.batch_alter_table("grading_score_delivery", schema=None) as batch_op:
        batch_op.drop_column("lms_score_maximum")
        batch_op.drop_column("lms_score_given")
        batch_op.drop_column("resent_version")

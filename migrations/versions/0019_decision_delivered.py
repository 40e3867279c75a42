"""Whether the LMS holds one of the tool's decisions for a gradebook cell.

``grading_score_delivery.decision_delivered``: the LMS took a decided score (any version) for
the cell. Canvas keeps *any* grade against a score sent with ``prioritize_non_tool_grade`` —
the tool's own earlier "not yet" too — so a later decision is sent without it
(``Platform.regrade``). Existing cells whose latest accepted score was a decision are marked;
a cell whose latest was a submission had its grade cleared by it (scores were sent without
``preserve_score`` until now), so no decision of the tool's stands there.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("grading_score_delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decision_delivered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE grading_score_delivery SET decision_delivered = TRUE "
        "WHERE sent_version = version AND CAST(body AS TEXT) LIKE '%\"FullyGraded\"%'"
    )


def downgrade() -> None:
    with op.batch_alter_table("grading_score_delivery", schema=None) as batch_op:
        batch_op.drop_column("decision_delivered")

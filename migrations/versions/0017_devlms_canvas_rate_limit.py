"""The development LMS's Canvas rate limit: ``devlms_faults`` gains the settings of the leaky
bucket it holds Canvas-flavoured tools to (high-water mark, up-front cost, outflow, request
cost; Canvas's defaults).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("canvas_hwm", "600"),
    ("canvas_up_front_cost", "50"),
    ("canvas_outflow", "10"),
    ("canvas_request_cost", "0.01"),
)


def upgrade() -> None:
    with op.batch_alter_table("devlms_faults") as batch:
        for name, default in COLUMNS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=False, server_default=default))


def downgrade() -> None:
    with op.batch_alter_table("devlms_faults") as batch:
        for name, _default in reversed(COLUMNS):
            batch.drop_column(name)

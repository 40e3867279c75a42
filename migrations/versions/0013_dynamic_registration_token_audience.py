"""Dynamic Registrations no longer keep a bare host as their token audience.

Dynamic Registration stored the platform's ``authorization_server`` as ``auth_audience``, the
``aud`` of the tool's client assertions. Canvas gives its sso host's bare name there
(``sso.canvaslms.com``) while its token endpoint accepts only its token URL as ``aud``, so every
access token request of a Canvas registered this way was refused. A registration made by Dynamic
Registration (``source = 'dynamic'``) whose audience is not an absolute URL gets none: its
client assertions name the token URL, as registrations made from now on do. Audiences an
operator typed (other sources) are theirs and are left alone.

The downgrade keeps the cleared audiences cleared: the bare host was never a working value, and
an empty audience means the token URL to every version of the tool.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE lti_registration SET auth_audience = NULL"
            " WHERE source = 'dynamic' AND auth_audience IS NOT NULL"
            " AND lower(auth_audience) NOT LIKE 'https://%'"
            " AND lower(auth_audience) NOT LIKE 'http://%'"
        )
    )


def downgrade() -> None:
    pass  # see the module docstring: nothing to restore

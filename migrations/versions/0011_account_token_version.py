"""Gateway: each account's token version, raised when it is deactivated or its role changes.

Touches: gateway (`accounts.token_version`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("token_version", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("token_version")

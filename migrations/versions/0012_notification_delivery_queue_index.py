"""Notification service: the delivery queue in claim order, as an index of the unsettled
deliveries only (a worker's claim walks it and stops at its batch, however long the log).

Touches: notification_service (`webhook_deliveries`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSETTLED = sa.text("status IN ('pending', 'failed')")


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_queue",
            ["next_attempt_at", "id"],
            unique=False,
            postgresql_where=UNSETTLED,
            sqlite_where=UNSETTLED,
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_webhook_deliveries_queue")

"""Notification service: the events the outbox relay delivered.

Touches: notification_service (`received_events`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:58:01.239180
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "received_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("received_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_received_events_event_type"), ["event_type"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("received_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_received_events_event_type"))

    op.drop_table("received_events")

"""Notification service: the log of verified hotline webhooks and their answers.

Touches: notification_service (`inbound_calls`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_calls",
        sa.Column("webhook_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("webhook_id"),
    )
    with op.batch_alter_table("inbound_calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_calls_call_id"), ["call_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_calls_call_id"))
    op.drop_table("inbound_calls")

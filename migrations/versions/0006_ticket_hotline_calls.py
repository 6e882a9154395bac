"""Ticket service: hotline tickets (the call each came from, the caller's number) and
provisional enterprises registered from calls.

Touches: ticket_service (`tickets`, `enterprises`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hotline_call_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("caller_phone", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint("uq_tickets_hotline_call_id", ["hotline_call_id"])
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.add_column(sa.Column("provisional", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("enterprises", schema=None) as batch_op:
        batch_op.drop_column("provisional")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint("uq_tickets_hotline_call_id", type_="unique")
        batch_op.drop_column("caller_phone")
        batch_op.drop_column("hotline_call_id")

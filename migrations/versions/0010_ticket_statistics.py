"""Ticket service: the statistics' summary tables, joint contributions, scoring schemes, the
enterprise as it was on each ticket, and the adjudication of ratings (issue 13).

Touches: ticket_service (`stats_department_days`, `stats_handling_days`, `stats_hot_spot_days`,
`joint_contributions`, `scoring_schemes`; new columns on `tickets` and `feedback`) and
catalog_service (`catalog_visit_days`: the catalogue's visits per day).
The summary tables start empty: `python -m launcher stats-rebuild` fills them from the tickets.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEPARTMENT_COUNTERS = (
    "received",
    "orders",
    "accepted_on_time",
    "resolved_on_time",
    "due",
    "completed",
    "joint_led",
    "joint_joined",
    "joint_late",
    "overdue_open",
    "returned",
    "escalations",
    "resolutions",
    "rated",
    "satisfied",
    "ruled_out",
    "redo",
)


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enterprise_size", sa.String(length=8), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("enterprise_industry", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("enterprise_park", sa.String(length=100), nullable=False, server_default=""))
    op.execute(
        "UPDATE tickets SET "
        "enterprise_size = COALESCE((SELECT size FROM enterprises WHERE enterprises.id = tickets.enterprise_id), ''), "
        "enterprise_industry = COALESCE((SELECT industry FROM enterprises WHERE enterprises.id = tickets.enterprise_id), ''), "
        "enterprise_park = COALESCE((SELECT park FROM enterprises WHERE enterprises.id = tickets.enterprise_id), '')"
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("department_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("ruled_out", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("ruled_out_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("ruled_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("ruled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE feedback SET department_code = "
        "(SELECT department_code FROM tickets WHERE tickets.id = feedback.ticket_id)"
    )
    op.create_table(
        "stats_department_days",
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("size", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        *(_counter(name) for name in DEPARTMENT_COUNTERS),
        sa.PrimaryKeyConstraint("department_code", "day", "size", "channel", "shard"),
    )
    # The ranking of every department reads a period across all of them.
    op.create_index("ix_stats_department_days_day", "stats_department_days", ["day"])
    op.create_table(
        "stats_handling_days",
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tenths", sa.Integer(), nullable=False),
        _counter("resolutions"),
        sa.PrimaryKeyConstraint("department_code", "day", "tenths"),
    )
    op.create_table(
        "stats_hot_spot_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        _counter("received"),
        sa.PrimaryKeyConstraint("day", "dimension", "key", "shard"),
    )
    op.create_table(
        "joint_contributions",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id", "department_code"),
    )
    op.create_table(
        "scoring_schemes",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "catalog_visit_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        _counter("visits"),
        sa.PrimaryKeyConstraint("day", "kind"),
    )


def downgrade() -> None:
    op.drop_table("catalog_visit_days")
    op.drop_table("scoring_schemes")
    op.drop_table("joint_contributions")
    op.drop_table("stats_hot_spot_days")
    op.drop_table("stats_handling_days")
    op.drop_index("ix_stats_department_days_day", table_name="stats_department_days")
    op.drop_table("stats_department_days")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        for column in ("ruled_at", "ruled_by", "ruled_out_reason", "ruled_out", "department_code"):
            batch_op.drop_column(column)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for column in ("enterprise_park", "enterprise_industry", "enterprise_size"):
            batch_op.drop_column(column)

"""Ticket service: the statistics' delta tables, and summary rows without shards (issue 13).

Every ticket change now appends its additions to a delta table (`stats_department_deltas`,
`stats_handling_deltas`, `stats_hot_spot_deltas`) instead of upserting the summary rows, which
made concurrent creations of one department and day wait for each other's commit; the ticket
service folds the deltas into the summary rows, and reads sum both. The summary rows were
sharded four ways against that contention: with one writer (the fold) they need no shards, and
each table's shards are summed into one row per key here.

Touches: ticket_service (`stats_department_days`, `stats_hot_spot_days`; three new tables).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
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
DEPARTMENT_KEY = ("department_code", "day", "size", "channel")
HOT_SPOT_KEY = ("day", "dimension", "key")


def _counter(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False)


def _department_key() -> list[sa.Column[str]]:
    return [
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("size", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
    ]


def _hot_spot_key() -> list[sa.Column[str]]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
    ]


def _department_days(sharded: bool) -> None:
    shard = [sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False)] if sharded else []
    op.create_table(
        "stats_department_days",
        *_department_key(),
        *shard,
        *(_counter(name) for name in DEPARTMENT_COUNTERS),
        sa.PrimaryKeyConstraint(*DEPARTMENT_KEY, *(["shard"] if sharded else [])),
    )
    op.create_index("ix_stats_department_days_day", "stats_department_days", ["day"])


def _hot_spot_days(sharded: bool) -> None:
    shard = [sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False)] if sharded else []
    op.create_table(
        "stats_hot_spot_days",
        *_hot_spot_key(),
        *shard,
        _counter("received"),
        sa.PrimaryKeyConstraint(*HOT_SPOT_KEY, *(["shard"] if sharded else [])),
    )


def _regroup(table: str, keys: Sequence[str], counters: Sequence[str], sources: Sequence[str], sharded: bool) -> None:
    """Recreate `table` (sharded or not) holding the sums per key of `sources` (its old rows, and
    the deltas): through a holding table, as SQLite cannot change a primary key in place."""
    columns = ", ".join((*keys, *counters))
    sums = ", ".join(f"sum({name}) AS {name}" for name in counters)
    union = " UNION ALL ".join(f"SELECT {columns} FROM {source}" for source in sources)
    op.execute(
        f"CREATE TABLE {table}_regrouped AS SELECT {', '.join(keys)}, {sums} FROM ({union}) AS u GROUP BY {', '.join(keys)}"
    )
    if table == "stats_department_days":
        op.drop_index("ix_stats_department_days_day", table_name=table)
    op.drop_table(table)
    (_department_days if table == "stats_department_days" else _hot_spot_days)(sharded)
    target = ", ".join((*keys, *(["shard"] if sharded else []), *counters))
    shard = ["0"] if sharded else []
    op.execute(f"INSERT INTO {table} ({target}) SELECT {', '.join((*keys, *shard, *counters))} FROM {table}_regrouped")
    op.drop_table(f"{table}_regrouped")


def upgrade() -> None:
    op.create_table(
        "stats_department_deltas",
        _id(),
        *_department_key(),
        *(_counter(name) for name in DEPARTMENT_COUNTERS),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "stats_handling_deltas",
        _id(),
        sa.Column("department_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("tenths", sa.Integer(), nullable=False),
        _counter("resolutions"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "stats_hot_spot_deltas",
        _id(),
        *_hot_spot_key(),
        _counter("received"),
        sa.PrimaryKeyConstraint("id"),
    )
    _regroup("stats_department_days", DEPARTMENT_KEY, DEPARTMENT_COUNTERS, ["stats_department_days"], sharded=False)
    _regroup("stats_hot_spot_days", HOT_SPOT_KEY, ["received"], ["stats_hot_spot_days"], sharded=False)


def downgrade() -> None:
    # The deltas not folded yet are summed in, all in shard 0.
    _regroup(
        "stats_department_days",
        DEPARTMENT_KEY,
        DEPARTMENT_COUNTERS,
        ["stats_department_days", "stats_department_deltas"],
        sharded=True,
    )
    _regroup(
        "stats_hot_spot_days",
        HOT_SPOT_KEY,
        ["received"],
        ["stats_hot_spot_days", "stats_hot_spot_deltas"],
        sharded=True,
    )
    op.execute(
        "INSERT INTO stats_handling_days (department_code, day, tenths, resolutions) "
        "SELECT department_code, day, tenths, sum(resolutions) FROM stats_handling_deltas "
        "WHERE true GROUP BY department_code, day, tenths "
        "ON CONFLICT (department_code, day, tenths) DO UPDATE SET resolutions = "
        "stats_handling_days.resolutions + excluded.resolutions"
    )
    op.drop_table("stats_hot_spot_deltas")
    op.drop_table("stats_handling_deltas")
    op.drop_table("stats_department_deltas")

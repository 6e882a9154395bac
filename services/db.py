"""Async engine and the one session dependency that commits at the edge.

Domain functions `flush()`; the request's session commits once after the route returns and
before the response is sent (FastAPI's `scope="function"`), so a failed commit is still an
error response and nothing half-written is ever acknowledged.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import pydantic_core
from fastapi import Depends, Request
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    Table,
    bindparam,
    event,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault
from sqlalchemy.types import TypeDecorator

SQLITE_BUSY_TIMEOUT_MS = 10_000


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on both databases (SQLite drops the offset on the way back)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware instant")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base for every service's tables; one metadata, one alembic history."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _configure_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN; SQLAlchemy's
    # documented fix is to disable it and emit BEGIN ourselves.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


def _json_text(value: Any) -> str:
    # JSON columns are encoded on every write; pydantic-core's encoder is several times faster
    # than json.dumps and gives the same JSON for the plain values these columns hold.
    return pydantic_core.to_json(value).decode()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    kwargs.setdefault("json_serializer", _json_text)
    if is_sqlite(url):
        database = make_url(url).database
        # `file:...?mode=ro&uri=true` names an existing file to open read-only.
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # Overflow connections are opened and closed per request under load (with a TLS
    # negotiation each on PostgreSQL): a fixed pool where requests queue is several times faster.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_timeout", 10)
    # A pre-ping costs a round trip per checkout (17 % of a hot read here); recycle instead.
    kwargs.setdefault("pool_recycle", 1800)
    return create_async_engine(url, **kwargs)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for writes. On SQLite they BEGIN IMMEDIATE: writers queue at the start instead
    of failing when a read snapshot cannot be upgraded, so concurrent actions serialise."""
    bind = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE") if engine.dialect.name == "sqlite" else engine
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; commits after the route succeeds, rolls back otherwise. A
    session the route never used is left alone: committing and closing it would cost a
    greenlet round trip each, a tenth of a fast request."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.state.sessionmaker
    session = sessionmaker()
    try:
        yield session
    except BaseException:
        if session.in_transaction():
            await session.rollback()
            await session.close()
        raise
    if session.in_transaction():
        try:
            await session.commit()
        finally:
            await session.close()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """For work that must commit on its own, apart from the request's session."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.state.sessionmaker
    return sessionmaker


SessionFactoryDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


@dataclass(frozen=True, slots=True)
class Database:
    """A request's ways to the database in one dependency (each dependency costs FastAPI tens of
    microseconds per request): sessions for transactions, and an autocommit connection opened
    only when the route needs one.

    It is also the one seam that knows how this database writes: domain code asks it for an
    atomic write (`atomic`), a claim of rows to work on (`claim`) or whether numbers may be
    reserved ahead, and never tests which database it is on."""

    sessionmaker: async_sessionmaker[AsyncSession]
    autocommit: Callable[[], AbstractAsyncContextManager[AsyncConnection]]
    writes_in_one_statement: bool

    @property
    def reserves_numbers_ahead(self) -> bool:
        """Whether a sequence value taken by a transaction that rolls back is never issued again
        (PostgreSQL's sequences; SQLite's rowid would be), so values may be taken ahead of need."""
        return self.writes_in_one_statement

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[AsyncConnection]:
        """A connection on which one `insert_together` is atomic: on PostgreSQL an autocommit
        connection (the statement is atomic by itself, and BEGIN and COMMIT would cost as much
        again); on SQLite a transaction that commits on the way out."""
        if self.writes_in_one_statement:
            async with self.autocommit() as connection:
                yield connection
            return
        # Rolled back on the way out of a failure: on SQLite it holds the one write lock.
        async with self.sessionmaker() as session, session.begin():
            yield await session.connection()

    @asynccontextmanager
    async def claim(
        self, statement: Select[Any], *, one_holder_per: ColumnElement[Any] | None = None
    ) -> AsyncIterator[Claim]:
        """The entities `statement` selects, to work on (I/O included) and then `settle`.

        PostgreSQL: the rows are locked FOR UPDATE SKIP LOCKED, so concurrent workers take
        different rows, with at most one holder per `one_holder_per` key (an advisory lock);
        they stay locked while the caller works, and what it settles commits when the block
        ends without an error. SQLite has one writer for the whole file (a consumer the caller
        is talking to included), so no lock is held while the caller works: the rows are read
        as they are, and `settle` applies its changes to the rows as they are then, in a short
        transaction of its own. Two workers on one SQLite file may therefore claim the same
        rows; work claimed this way must be safe to do twice (at least once)."""
        if self.writes_in_one_statement:
            if one_holder_per is not None:
                statement = statement.where(func.pg_try_advisory_xact_lock(func.hashtext(one_holder_per)))
            async with self.sessionmaker() as session:
                rows = list((await session.execute(statement.with_for_update(skip_locked=True))).scalars())
                yield Claim(rows, session=session)
                await session.commit()
            return
        async with self.sessionmaker() as session:
            rows = list((await session.execute(statement)).scalars())
            # Detached before the rollback, which would otherwise expire what the caller reads.
            session.expunge_all()
            await session.rollback()
        yield Claim(rows, sessionmaker=self.sessionmaker)


class Claim:
    """Rows claimed by `Database.claim`, and the one way to write what came of working on them."""

    def __init__(
        self,
        rows: list[Any],
        *,
        session: AsyncSession | None = None,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self.rows = rows
        self._session = session
        self._sessionmaker = sessionmaker

    async def settle(self, apply: Callable[[list[Any]], None]) -> None:
        """Apply `apply` to the claimed rows as they are now, and write it: in the claim's own
        locked transaction, or (SQLite) re-read by key in a transaction of its own, so a row
        another worker changed meanwhile is changed from where it is, and a row deleted
        meanwhile is not written again."""
        if self._session is not None:
            apply(self.rows)
            await self._session.flush()
            return
        if not self.rows or self._sessionmaker is None:
            return
        entity = type(self.rows[0])
        (key,) = inspect(entity).primary_key
        keys = [getattr(row, key.key) for row in self.rows]
        async with self._sessionmaker() as session, session.begin():
            current = list((await session.execute(select(entity).where(key.in_(keys)).order_by(key))).scalars())
            apply(current)


def database_for(engine: AsyncEngine, sessionmaker: async_sessionmaker[AsyncSession]) -> Database:
    # The same pool, its connections switched to autocommit as they are checked out.
    autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")

    @asynccontextmanager
    async def autocommit() -> AsyncIterator[AsyncConnection]:
        async with autocommit_engine.connect() as connection:
            yield connection

    return Database(sessionmaker, autocommit, writes_in_one_statement(engine))


async def get_database(request: Request) -> Database:
    database: Database = request.state.database
    return database


DatabaseDep = Annotated[Database, Depends(get_database)]


async def get_autocommit_connection(request: Request) -> AsyncIterator[AsyncConnection]:
    """A bare autocommit connection, no ORM session and no BEGIN/COMMIT: for hot reads, and on
    PostgreSQL for a write that is one statement (`insert_together`), atomic by itself."""
    database: Database = request.state.database
    async with database.autocommit() as connection:
        yield connection


AutocommitDep = Annotated[AsyncConnection, Depends(get_autocommit_connection, scope="function")]
Reader = AsyncConnection | AsyncSession


def writes_in_one_statement(bind: AsyncConnection | AsyncEngine) -> bool:
    """Whether `insert_together` is one statement here, so atomic without a transaction: on
    PostgreSQL it is; SQLite has no INSERT in a WITH clause and needs the caller's transaction."""
    return bind.dialect.name == "postgresql"


async def insert_together(
    connection: AsyncConnection,
    rows: Sequence[tuple[type[Base], Mapping[str, Any]]],
    *,
    only_if: ColumnElement[bool] | None = None,
    parameters: Mapping[str, Any] | None = None,
    append: Sequence[tuple[type[Base], Sequence[Mapping[str, Any]]]] = (),
) -> bool:
    """Insert `rows` (an entity class and its column values each, in foreign-key order) all or
    none, and only if `only_if` (with its bound `parameters`) holds; False when it did not.

    `append`: more rows inserted in the same write, any number per entity (each entity's rows
    with the same columns, its generated key left out): the summary tables' delta rows, plain
    inserts that conflict with no concurrent write.

    On PostgreSQL this is a single statement of data-modifying CTEs, each an INSERT ... SELECT
    under the condition: one round trip, atomic even on an autocommit connection, where BEGIN
    and COMMIT would cost as much as the inserts, and the condition is read in the statement's
    own snapshot. The foreign keys are checked at the end of the statement, so a row may refer
    to an earlier one. On SQLite the condition is read and the inserts run one by one, and the
    caller's transaction (which holds SQLite's one write lock) makes them atomic."""
    if not rows:
        return True
    if not writes_in_one_statement(connection):
        if not connection.in_transaction():
            raise RuntimeError("insert_together on SQLite needs the caller's transaction")
        if only_if is not None and not (await connection.execute(select(only_if), parameters)).scalar():
            return False
        for entity, values in rows:
            await connection.execute(insert(_table(entity)), dict(values))
        for entity, more in append:
            if more:
                await connection.execute(insert(_table(entity)), [dict(row) for row in more])
        return True
    tables = [_table(entity) for entity, _ in rows]
    filled = [(table, _with_defaults(table, values)) for table, (_, values) in zip(tables, rows, strict=True)]
    extra = [(_table(entity), entity_rows) for entity, entity_rows in append if entity_rows]
    appended = tuple((table, tuple(entity_rows[0]), _zeros(entity_rows)) for table, entity_rows in extra)
    statement = _insert_together_statement(tuple((table, tuple(values)) for table, values in filled), only_if, appended)
    bound = {f"r{n}_{key}": value for n, (_, values) in enumerate(filled) for key, value in values.items()}
    for n, ((_, entity_rows), (_, _, zeros)) in enumerate(zip(extra, appended, strict=True)):
        bound.update(_numbered(entity_rows, zeros, f"a{n}_"))
    result = await connection.execute(statement, {**bound, **(parameters or {})})
    return result.first() is not None


_ZERO = literal_column("0", Integer)


def _zeros(rows: Sequence[Mapping[str, Any]]) -> tuple[frozenset[str], ...]:
    """Each row's columns holding the integer 0: written as a constant of the statement, not a
    bound value. A delta row holds a few counters out of seventeen, and binding a value (and
    processing it on the way) costs the service more CPU than the rest of the row."""
    return tuple(frozenset(key for key, value in row.items() if type(value) is int and value == 0) for row in rows)


def _numbered(rows: Sequence[Mapping[str, Any]], zeros: Sequence[frozenset[str]], prefix: str) -> dict[str, Any]:
    """The bound values of `rows` (those not written as constants, `zeros`), named per row."""
    return {
        f"{prefix}{key}_{i}": value
        for i, (row, zero) in enumerate(zip(rows, zeros, strict=True))
        for key, value in row.items()
        if key not in zero
    }


def _rows_select(table: Table, keys: Sequence[str], zeros: Sequence[frozenset[str]], prefix: str, guard: Any) -> Any:
    """A row per item of `zeros` for the `keys` columns of `table`: the constant 0 in the columns
    that item names, else the bound value `<prefix><column>_<i>`."""
    selects = []
    for i, zero in enumerate(zeros):
        values = select(
            *(_ZERO if key in zero else bindparam(f"{prefix}{key}_{i}", type_=table.c[key].type) for key in keys)
        )
        selects.append(values if guard is None else values.select_from(guard))
    return selects[0] if len(zeros) == 1 else union_all(*selects)


def counter_columns(table: Table) -> tuple[list[str], list[str]]:
    """A table of counters' key columns (its primary key) and its counters (the other columns)."""
    keys = [column.key for column in table.primary_key.columns]
    return keys, [column.key for column in table.columns if column.key not in keys]


def _adding_on_conflict(statement: Any, table: Table) -> Any:
    keys, counters = counter_columns(table)
    return statement.on_conflict_do_update(
        index_elements=keys, set_={name: table.c[name] + statement.excluded[name] for name in counters}
    )


def add_to_rows(dialect: str, table: Table, rows: Sequence[Mapping[str, Any]]) -> Any:
    """One INSERT adding each row's counters (its columns other than the primary key) to the row
    with its key, or inserting it where there is none."""
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return _adding_on_conflict(dialect_insert(table).values([dict(row) for row in rows]), table)


def add_selected_to_rows(table: Table, selected: Select[Any]) -> Any:
    """`add_to_rows` of the rows `selected` gives (its columns the key columns, then the
    counters), on PostgreSQL."""
    keys, counters = counter_columns(table)
    return _adding_on_conflict(postgresql_insert(table).from_select([*keys, *counters], selected), table)


@functools.lru_cache(maxsize=256)
def _insert_together_statement(
    shape: tuple[tuple[Table, tuple[str, ...]], ...],
    only_if: ColumnElement[bool] | None,
    appended: tuple[tuple[Table, tuple[str, ...], tuple[frozenset[str], ...]], ...] = (),
) -> ReturningInsert[Any]:
    """One statement per shape (its tables and columns, and the condition), with a bound
    parameter `r<row>_<column>` for each value: building the statement and its cache key per
    call would cost more than running it."""
    # The condition is read once, in a CTE each insert selects from (none when it is false).
    guard = None if only_if is None else select(literal(1).label("holds")).where(only_if).cte("guard")
    inserts = []
    for n, (table, keys) in enumerate(shape):
        values = select(*(bindparam(f"r{n}_{key}", type_=table.c[key].type) for key in keys))
        inserts.append(insert(table).from_select(keys, values if guard is None else values.select_from(guard)))
    *earlier, last = inserts
    for n, (table, keys, zeros) in enumerate(appended):
        earlier.append(insert(table).from_select(keys, _rows_select(table, keys, zeros, f"a{n}_", guard)))
    first_column = shape[-1][0].c[shape[-1][1][0]]
    ctes = [statement.cte(f"write_{n}") for n, statement in enumerate(earlier)]
    return last.returning(first_column).add_cte(*([guard] if guard is not None else []), *ctes)


def _table(entity: type[Base]) -> Table:
    table = entity.__table__
    assert isinstance(table, Table)
    return table


def _with_defaults(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    # A statement with data-modifying CTEs gets no Python-side column defaults from SQLAlchemy
    # (NULL would be sent), so they are filled in here.
    filled = dict(values)
    for key, default in _python_defaults(table):
        if key not in filled:
            # Our callable defaults (utcnow) take no context; SQLAlchemy wraps them to accept one.
            filled[key] = default.arg(None) if isinstance(default, CallableColumnDefault) else default.arg  # type: ignore[arg-type]
    return filled


@functools.lru_cache(maxsize=64)
def _python_defaults(table: Table) -> tuple[tuple[str, ScalarElementColumnDefault | CallableColumnDefault], ...]:
    return tuple(
        (column.key, column.default)
        for column in table.columns
        if isinstance(column.default, ScalarElementColumnDefault | CallableColumnDefault)
    )

"""`Idempotency-Key` for creating POSTs: a key per caller, 24 h.

The key is registered as in flight in its own short transaction, so a concurrent retry sees it
(409); the stored response is written in the request's own transaction, so it exists exactly
when the created resources do; a failure releases the key. An in-flight key older than the
lease is taken over (its request died).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from services.db import Database, utcnow
from ticket_service.errors import IdempotencyKeyReused, RequestInFlight
from ticket_service.models import IdempotencyKey

KEY_LIFETIME = timedelta(hours=24)
IN_FLIGHT_LEASE = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps([method, path, payload], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    sessionmaker: async_sessionmaker[AsyncSession], *, principal: str, key: str, request_hash: str
) -> StoredResponse | None:
    """None: the caller now owns the key and must `finish` or `release` it. Otherwise replay."""
    now = utcnow()
    try:
        async with sessionmaker() as session, session.begin():
            row = await session.get(IdempotencyKey, (principal, key), with_for_update=True)
            stale = row is not None and (
                row.expires_at <= now or (row.state == "in_flight" and row.created_at <= now - IN_FLIGHT_LEASE)
            )
            if row is not None and not stale:
                if row.request_hash != request_hash:
                    raise IdempotencyKeyReused()
                if row.state != "done" or row.response_status is None or row.response_body is None:
                    raise RequestInFlight()
                return StoredResponse(row.response_status, row.response_body)
            if row is not None:
                await session.delete(row)
                await session.flush()
            session.add(
                IdempotencyKey(
                    principal=principal,
                    key=key,
                    request_hash=request_hash,
                    state="in_flight",
                    created_at=now,
                    expires_at=now + KEY_LIFETIME,
                )
            )
    except IntegrityError as exc:
        raise RequestInFlight() from exc
    return None


async def finish(session: AsyncSession, *, principal: str, key: str, status: int, body: dict[str, Any]) -> None:
    row = await session.get(IdempotencyKey, (principal, key))
    if row is None:
        return
    row.state, row.response_status, row.response_body = "done", status, body
    await session.flush()


async def release(sessionmaker: async_sessionmaker[AsyncSession], *, principal: str, key: str) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.principal == principal, IdempotencyKey.key == key, IdempotencyKey.state == "in_flight"
            )
        )


@dataclass(frozen=True, slots=True)
class Once:
    """A creating request's `Idempotency-Key`: whose, which key, and what was asked."""

    principal: str
    key: str
    request_hash: str

    @classmethod
    def of(cls, *, principal: str, key: str | None, method: str, path: str, payload: Any) -> Once | None:
        if key is None:
            return None
        return cls(principal=principal, key=key, request_hash=fingerprint(method, path, payload))


@dataclass(frozen=True, slots=True)
class Created:
    """A creation's answer: its body, and whether it is the stored answer to a repeated key."""

    body: dict[str, Any]
    status: int = 201
    replayed: bool = False


async def run_once(
    database: Database, *, once: Once | None, create: Callable[[AsyncConnection], Awaitable[dict[str, Any]]]
) -> Created:
    """Run `create` once per (caller, Idempotency-Key): replay a finished result, refuse a key
    in flight or reused with another payload, and release the key if `create` fails. The stored
    answer commits in the same transaction as what was created. Without a key the creation is
    one atomic write (`Database.atomic`)."""
    if once is None:
        async with database.atomic() as connection:
            return Created(await create(connection))
    factory = database.sessionmaker
    replay = await claim(factory, principal=once.principal, key=once.key, request_hash=once.request_hash)
    if replay is not None:
        return Created(replay.body, status=replay.status, replayed=True)
    try:
        # Rolled back on the way out of a failure: on SQLite it holds the write lock `release` needs.
        async with factory() as session, session.begin():
            body = await create(await session.connection())
            await finish(session, principal=once.principal, key=once.key, status=201, body=body)
    except BaseException:
        await release(factory, principal=once.principal, key=once.key)
        raise
    return Created(body)

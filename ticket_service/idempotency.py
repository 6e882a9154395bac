"""`Idempotency-Key` for creating POSTs: a key per caller, 24 h.

The key is registered as in flight in its own short transaction, so a concurrent retry sees it
(409); the stored response is written in the request's own transaction, so it exists exactly
when the created resources do; a failure releases the key. An in-flight key older than the
lease is taken over (its request died).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db import utcnow
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

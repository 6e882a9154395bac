"""The hash-chained audit trail of a ticket (全程监管).

Each link's hash is SHA-256 over the previous link's hash followed by the canonical JSON
(sorted keys, no spaces, UTF-8) of the link's content: ticket id, seq, action, actor, role,
instant (UTC, ISO 8601), from and to status, note and changes. The chain starts at 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Reader
from services.principals import Principal
from ticket_service.models import TicketEvent
from ticket_service.views import read_ticket

GENESIS_HASH = "0" * 64
EVENT_CONTENT = ("ticket_id", "seq", "action", "actor", "role", "at", "from_status", "to_status", "note", "changes")
Changes = Mapping[str, tuple[Any, Any]]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def event_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + _canonical(content)).encode()).hexdigest()


def event_content(event: TicketEvent | Mapping[Any, Any]) -> dict[str, Any]:
    """What a link's hash covers."""
    values = event if isinstance(event, Mapping) else {key: getattr(event, key) for key in EVENT_CONTENT}
    content = {key: values[key] for key in EVENT_CONTENT}
    content["at"] = values["at"].astimezone(UTC).isoformat()
    return content


def jsonable(value: Any) -> Any:
    """A field's value as the audit trail records it (instants in UTC ISO 8601)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Link:
    """What one link of the chain says: who did what and when, the status before and after,
    the note, and every audited field that changed (old, new)."""

    action: str
    principal: Principal
    at: datetime
    from_status: str | None
    to_status: str | None
    note: str
    changes: Changes


def event_values(link: Link, *, ticket_id: str, seq: int, prev_hash: str) -> dict[str, Any]:
    """The row of `link` after `prev_hash`, its own hash computed."""
    values: dict[str, Any] = {
        "ticket_id": ticket_id,
        "seq": seq,
        "action": link.action,
        "actor": link.principal.subject,
        "role": link.principal.role.value,
        "at": link.at,
        "from_status": link.from_status,
        "to_status": link.to_status,
        "note": link.note,
        "changes": {key: [jsonable(old), jsonable(new)] for key, (old, new) in link.changes.items()},
        "prev_hash": prev_hash,
    }
    values["hash"] = event_hash(prev_hash, event_content(values))
    return values


def _chain_heads(session: AsyncSession) -> dict[str, tuple[int, str]]:
    """The last link of each ticket this transaction has touched, so a ticket changed several
    times in one transaction (a sweep's chunk) reads its chain head once. Tied to the session's
    innermost transaction: after a rollback (of a savepoint too) the heads are read again."""
    sync_session = session.sync_session
    transaction = sync_session.get_nested_transaction() or sync_session.get_transaction()
    cached = session.info.get("chain_heads")
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info["chain_heads"] = cached
    heads: dict[str, tuple[int, str]] = cached[1]
    return heads


async def preload_chain_heads(session: AsyncSession, *, ticket_ids: Sequence[str]) -> None:
    """Read the chain heads of many locked tickets in one query (the sweep's chunks)."""
    if not ticket_ids:
        return
    last = (
        select(TicketEvent.ticket_id, func.max(TicketEvent.seq).label("seq"))
        .where(TicketEvent.ticket_id.in_(ticket_ids))
        .group_by(TicketEvent.ticket_id)
        .subquery()
    )
    rows = await session.execute(
        select(TicketEvent.ticket_id, TicketEvent.seq, TicketEvent.hash).join(
            last, and_(TicketEvent.ticket_id == last.c.ticket_id, TicketEvent.seq == last.c.seq)
        )
    )
    heads = _chain_heads(session)
    heads.update(dict.fromkeys(ticket_ids, (0, GENESIS_HASH)))
    for ticket_id, seq, hash_ in rows:
        heads[ticket_id] = (seq, hash_)


async def append_event(session: AsyncSession, *, ticket_id: str, link: Link) -> TicketEvent:
    """Add the next link of the ticket's chain; the caller's flush writes it. The ticket row is
    locked by the caller, so reading the last link and adding the next cannot interleave."""
    heads = _chain_heads(session)
    head = heads.get(ticket_id)
    if head is None:
        last = (
            await session.execute(
                select(TicketEvent.seq, TicketEvent.hash)
                .where(TicketEvent.ticket_id == ticket_id)
                .order_by(TicketEvent.seq.desc())
                .limit(1)
            )
        ).first()
        head = (last[0], last[1]) if last else (0, GENESIS_HASH)  # (0, genesis) is an empty chain
    event = TicketEvent(**event_values(link, ticket_id=ticket_id, seq=head[0] + 1, prev_hash=head[1]))
    heads[ticket_id] = (event.seq, event.hash)
    session.add(event)
    return event


async def list_events(db: Reader, *, ticket_id: str) -> list[dict[str, Any]]:
    table = TicketEvent.__table__
    rows = (await db.execute(select(table).where(table.c.ticket_id == ticket_id).order_by(table.c.seq))).mappings()
    return [dict(row) for row in rows.all()]


def verify_links(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Recompute the chain; the first link whose seq, previous hash or own hash is wrong."""
    prev_hash = GENESIS_HASH
    for expected_seq, event in enumerate(events, start=1):
        if (
            event["seq"] != expected_seq
            or event["prev_hash"] != prev_hash
            or event_hash(prev_hash, event_content(event)) != event["hash"]
        ):
            return {"ok": False, "first_broken_seq": event["seq"], "events": len(events)}
        prev_hash = event["hash"]
    return {"ok": True, "first_broken_seq": None, "events": len(events)}


async def verify_chain(db: Reader, *, ticket_id: str) -> dict[str, Any]:
    return verify_links(await list_events(db, ticket_id=ticket_id))


async def events_shown_to(db: Reader, *, ticket_id: str, principal: Principal) -> list[dict[str, Any]]:
    """The audit trail of a ticket the caller may see, oldest first."""
    await read_ticket(db, ticket_id=ticket_id, principal=principal)
    return await list_events(db, ticket_id=ticket_id)


async def verify_chain_for(db: Reader, *, ticket_id: str, principal: Principal) -> dict[str, Any]:
    """The chain's verification, for a ticket the caller may see."""
    await read_ticket(db, ticket_id=ticket_id, principal=principal)
    return await verify_chain(db, ticket_id=ticket_id)

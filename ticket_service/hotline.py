"""The 965808 hotline: a call becomes a ticket once, the caller asks where a case stands, and
the follow-up call's rating is recorded like the enterprise's own.

The notification service verifies the hotline's signed webhooks and passes calls and ratings
on here (internal, with the platform's service token); the hotline acts as one principal.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit_code import is_valid_credit_code
from services.db import Database, Reader, utcnow
from services.principals import Principal, Role
from ticket_service.context import TicketContext
from ticket_service.creation import TicketDraft, checked_received_at, create_tickets
from ticket_service.errors import InvalidCreditCode, TicketNotFound
from ticket_service.feedback import rate_locked
from ticket_service.models import Enterprise, Feedback, Ticket
from ticket_service.schemas import HotlineCallCreate, HotlineFeedbackCreate
from ticket_service.views import require_ticket_reader, visibility

HOTLINE = Principal(subject="hotline-965808", role=Role.HOTLINE)
# The hotline's clock and ours may differ by as much as its webhooks' timestamps may (±5 min).
CALL_CLOCK_SKEW = timedelta(minutes=5)
TITLE_LENGTH = 60
# A size is required; a dispatcher confirms the provisional record and its real size.
PROVISIONAL_SIZE = "small"
# Another replica filing the same call (or registering the same enterprise) at the same moment
# makes one insert fail; the second attempt finds what the first wrote.
_ATTEMPTS = 2


def _title(content: str) -> str:
    first_line = content.strip().splitlines()[0]
    short = first_line if len(first_line) <= TITLE_LENGTH else first_line[: TITLE_LENGTH - 1] + "…"
    return f"热线来电：{short}"


async def _filed(session: AsyncSession, call_id: str) -> dict[str, Any] | None:
    table = Ticket.__table__
    row = (await session.execute(select(table).where(table.c.hotline_call_id == call_id))).mappings().first()
    return dict(row) if row is not None else None


async def _caller_enterprise(session: AsyncSession, call: HotlineCallCreate) -> tuple[str | None, bool]:
    """The enterprise the caller named by its credit code, registered provisionally if unknown;
    none when the caller named none (the ticket waits in the dispatch queue)."""
    code = call.enterprise_credit_code
    if code is None:
        return None, False
    if not is_valid_credit_code(code):
        raise InvalidCreditCode(code)
    found = (
        await session.execute(select(Enterprise.id, Enterprise.provisional).where(Enterprise.credit_code == code))
    ).first()
    if found is not None:
        return found[0], found[1]
    enterprise = Enterprise(
        id=str(uuid.uuid4()),
        name=call.enterprise_name or f"来电登记企业 {code}",
        credit_code=code,
        size=PROVISIONAL_SIZE,
        contact_phone=call.caller_phone,
        provisional=True,
        version=1,
    )
    session.add(enterprise)
    await session.flush()
    return enterprise.id, True


def _receipt(ticket: dict[str, Any], *, created: bool, provisional: bool) -> dict[str, Any]:
    return {
        "ticket_id": ticket["id"],
        "ticket_number": ticket["number"],
        "created": created,
        "enterprise_id": ticket["enterprise_id"],
        "enterprise_provisional": provisional,
    }


async def _provisional(session: AsyncSession, enterprise_id: str | None) -> bool:
    if enterprise_id is None:
        return False
    return bool((await session.execute(select(Enterprise.provisional).where(Enterprise.id == enterprise_id))).scalar())


async def file_call(database: Database, *, context: TicketContext, call: HotlineCallCreate) -> dict[str, Any]:
    """The call's ticket (kind and channel `hotline`, its clock from when the caller spoke):
    created once per call id, the same ticket for every repeat of the call."""
    received_at = checked_received_at(call.received_at, now=utcnow(), skew=CALL_CLOCK_SKEW)
    # Asked before the transaction: on SQLite a transaction holds the one write lock.
    hint = call.category_hint
    category = hint if hint and await context.catalog.category_exists(hint) else None
    for attempt in range(_ATTEMPTS):
        try:
            async with database.sessionmaker() as session, session.begin():
                filed = await _filed(session, call.call_id)
                if filed is not None:
                    provisional = await _provisional(session, filed["enterprise_id"])
                    return _receipt(filed, created=False, provisional=provisional)
                enterprise_id, provisional = await _caller_enterprise(session, call)
                draft = TicketDraft(
                    kind="hotline",
                    channel="hotline",
                    enterprise_id=enterprise_id,
                    title=_title(call.content),
                    description=call.content,
                    received_at=received_at,
                    department_code=None,
                    category_code=category,
                    received_at_given=True,
                    hotline_call_id=call.call_id,
                    caller_phone=call.caller_phone or None,
                )
                connection = await session.connection()
                (ticket,) = await create_tickets(connection, context=context, principal=HOTLINE, drafts=[draft])
                return _receipt(ticket.values, created=True, provisional=provisional)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def progress(db: Reader, *, number: str, principal: Principal) -> dict[str, Any]:
    """Where the case with this number stands: the hotline may ask of any case (callers ring to
    ask), everyone else of the cases they may see."""
    table = Ticket.__table__
    statement = select(table).where(table.c.number == number)
    if principal.role != Role.HOTLINE:
        require_ticket_reader(principal)
        statement = statement.where(visibility(principal))
    row = (await db.execute(statement)).mappings().first()
    if row is None:
        raise TicketNotFound(number)
    return dict(row)


async def rate_call(session: AsyncSession, *, context: TicketContext, rating: HotlineFeedbackCreate) -> Feedback:
    """The caller's rating on the follow-up call (回访), recorded like the enterprise's own."""
    ticket = (
        await session.execute(select(Ticket).where(Ticket.number == rating.ticket_number).with_for_update())
    ).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound(rating.ticket_number)
    return await rate_locked(
        session,
        context=context,
        ticket=ticket,
        principal=HOTLINE,
        rating=rating.rating,
        comment=rating.comment,
        channel="hotline",
    )

"""The enterprise's rating of a resolution (回访 / 满意度): once per resolution round.

A rating changes no field of the ticket (the rating is its own row), so its audit link
records the rating and moves no version; an unsatisfied rating then reopens the ticket
(发回重办) through the one transition function.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Reader, utcnow
from services.errors import Forbidden
from services.principals import Principal, Role
from ticket_service import audit, calendar_service, lifecycle, stats_summary
from ticket_service.actions import ActionInput, apply_action, lock_for_change
from ticket_service.context import TicketContext
from ticket_service.errors import AlreadyRated, NotRatable
from ticket_service.models import Feedback, Ticket
from ticket_service.views import read_ticket, values_of


async def give_feedback(
    session: AsyncSession,
    *,
    context: TicketContext,
    ticket_id: str,
    principal: Principal,
    rating: str,
    comment: str,
    channel: str = "web",
) -> Feedback:
    """Rate the latest resolution of a ticket the caller may see, once; an unsatisfied rating
    reopens the ticket (发回重办)."""
    ticket, _ = await lock_for_change(session, context=context, ticket_id=ticket_id, principal=principal)
    return await rate_locked(
        session, context=context, ticket=ticket, principal=principal, rating=rating, comment=comment, channel=channel
    )


async def rate_locked(
    session: AsyncSession,
    *,
    context: TicketContext,
    ticket: Ticket,
    principal: Principal,
    rating: str,
    comment: str,
    channel: str,
    now: datetime | None = None,
) -> Feedback:
    """Rate a locked ticket's latest resolution, once per resolution round."""
    if principal.role not in {Role.ENTERPRISE, Role.HOTLINE}:
        raise Forbidden(
            "Only the enterprise (or the hotline's follow-up call) rates a ticket.", code="role_not_allowed"
        )
    if ticket.status not in lifecycle.RATABLE_STATUSES or ticket.resolution_round == 0:
        raise NotRatable(ticket.status)
    existing = await session.execute(
        select(Feedback.id).where(Feedback.ticket_id == ticket.id, Feedback.resolution_round == ticket.resolution_round)
    )
    if existing.first() is not None:
        raise AlreadyRated()
    now = now or utcnow()
    feedback = Feedback(
        ticket_id=ticket.id,
        resolution_round=ticket.resolution_round,
        rating=rating,
        comment=comment,
        created_by=principal.subject,
        channel=channel,
        created_at=now,
        department_code=ticket.department_code,
        ruled_out=False,
    )
    session.add(feedback)
    link = audit.Link(
        action="feedback",
        principal=principal,
        at=now,
        from_status=ticket.status,
        to_status=ticket.status,
        note=comment,
        changes={"rating": (None, rating)},
    )
    await audit.append_event(session, ticket_id=ticket.id, link=link)
    zone = ZoneInfo(context.calendar_cache.tz)
    stats_summary.add_rating(stats_summary.pending(session), rating_values(feedback), values_of(ticket), zone, 1)
    await session.flush()
    if rating == "unsatisfied":
        calendar = await calendar_service.load_calendar(session, cache=context.calendar_cache)
        await apply_action(
            session,
            ticket=ticket,
            action=lifecycle.Action.REOPEN,
            principal=principal,
            data=ActionInput(note=f"unsatisfied rating: {comment}".strip()),
            calendar=calendar,
            now=now,
            policy=context.policy,
        )
    return feedback


def rating_values(feedback: Feedback) -> dict[str, Any]:
    """What the statistics count of a rating."""
    return {
        "department_code": feedback.department_code,
        "created_at": feedback.created_at,
        "rating": feedback.rating,
        "ruled_out": feedback.ruled_out,
    }


async def feedback_shown_to(db: Reader, *, ticket_id: str, principal: Principal) -> list[dict[str, Any]]:
    """Every rating of a ticket the caller may see."""
    await read_ticket(db, ticket_id=ticket_id, principal=principal)
    return await list_feedback(db, ticket_id=ticket_id)


async def list_feedback(db: Reader, *, ticket_id: str) -> list[dict[str, Any]]:
    table = Feedback.__table__
    rows = await db.execute(select(table).where(table.c.ticket_id == ticket_id).order_by(table.c.resolution_round))
    return [dict(row) for row in rows.mappings().all()]

"""不满意研判: a supervisor rules an unsatisfied rating unreasonable.

The rating stays on the record (and in the ticket's audit trail, which the department and the
enterprise read, with the reason); it leaves the satisfaction denominator of the department it
was counted for. A ruling is final: it is made once, and is not undone here."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import utcnow
from services.principals import Principal
from ticket_service import audit, stats_summary
from ticket_service.context import TicketContext
from ticket_service.errors import AlreadyRuledOut, FeedbackNotFound, NotUnsatisfied
from ticket_service.feedback import rating_values
from ticket_service.models import Feedback
from ticket_service.views import get_ticket, values_of


async def rule_out(
    session: AsyncSession,
    *,
    context: TicketContext,
    ticket_id: str,
    resolution_round: int,
    principal: Principal,
    reason: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Rule the unsatisfied rating of one resolution round unreasonable, with the reason."""
    ticket = await get_ticket(session, ticket_id=ticket_id, principal=principal, for_update=True)
    feedback = (
        await session.execute(
            select(Feedback).where(Feedback.ticket_id == ticket.id, Feedback.resolution_round == resolution_round)
        )
    ).scalar_one_or_none()
    if feedback is None:
        raise FeedbackNotFound(ticket_id, resolution_round)
    if feedback.rating != "unsatisfied":
        raise NotUnsatisfied(feedback.rating)
    if feedback.ruled_out:
        raise AlreadyRuledOut()
    now = now or utcnow()
    zone = ZoneInfo(context.calendar_cache.tz)
    tally = stats_summary.Tally()
    shown = values_of(ticket)
    stats_summary.add_rating(tally, rating_values(feedback), shown, zone, -1)
    feedback.ruled_out, feedback.ruled_out_reason = True, reason
    feedback.ruled_by, feedback.ruled_at = principal.subject, now
    stats_summary.add_rating(tally, rating_values(feedback), shown, zone, 1)
    await stats_summary.write(session, tally)
    link = audit.Link(
        action="adjudicate",
        principal=principal,
        at=now,
        from_status=ticket.status,
        to_status=ticket.status,
        note=reason,
        changes={f"rating_round_{resolution_round}_ruled_out": (False, True)},
    )
    await audit.append_event(session, ticket_id=ticket.id, link=link)
    await session.flush()
    return {
        "feedback_id": feedback.id,
        "ticket_id": ticket.id,
        "resolution_round": feedback.resolution_round,
        "rating": feedback.rating,
        "department_code": feedback.department_code,
        "ruled_out": True,
        "reason": reason,
        "ruled_by": principal.subject,
        "ruled_at": now,
    }

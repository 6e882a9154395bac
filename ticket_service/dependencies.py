"""The ticket service's request dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ticket_service.context import TicketContext


async def get_ticket_context(request: Request) -> TicketContext:
    """From the lifespan state (tests swap it, e.g. for a dead catalogue)."""
    context: TicketContext = request.state.ticket_context
    return context


TicketContextDep = Annotated[TicketContext, Depends(get_ticket_context)]

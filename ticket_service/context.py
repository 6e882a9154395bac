"""What the ticket domain needs from its process, in one object the lifespan builds.

Routes hand it to the domain functions whole (one dependency instead of four), and the
worker builds its own from its `ctx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ticket_service.calendar_service import CalendarCache
from ticket_service.catalog_client import CatalogClient
from ticket_service.numbers import TicketNumbers
from ticket_service.sla_rules import SlaPolicy


@dataclass(frozen=True, slots=True)
class TicketContext:
    catalog: CatalogClient
    calendar_cache: CalendarCache
    numbers: TicketNumbers
    policy: SlaPolicy


async def get_ticket_context(request: Request) -> TicketContext:
    """From the lifespan state (tests swap it, e.g. for a dead catalogue)."""
    context: TicketContext = request.state.ticket_context
    return context


TicketContextDep = Annotated[TicketContext, Depends(get_ticket_context)]

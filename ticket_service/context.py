"""What the ticket domain needs from its process, in one object the app's lifespan builds:
routes hand it to the domain functions whole (`dependencies.TicketContextDep`)."""

from __future__ import annotations

from dataclasses import dataclass

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

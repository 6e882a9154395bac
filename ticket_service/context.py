"""What the ticket domain needs from its process, in one object the app's lifespan builds:
routes hand it to the domain functions whole (`dependencies.TicketContextDep`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ticket_service.calendar_service import CalendarCache
from ticket_service.catalog_client import CatalogClient
from ticket_service.numbers import TicketNumbers
from ticket_service.sla_rules import SlaPolicy

# The enterprise as the statistics count it: size, industry, park.
EnterpriseFacts = tuple[str, str, str]


class RememberedEnterpriseFacts:
    """The size, industry and park of enterprises this process created tickets for, so a creation
    need not read them first: the creation's statement checks they still hold (`creation`), and
    reads them afresh when they do not. A few thousand entries; full, it starts again."""

    __slots__ = ("_facts", "limit")

    def __init__(self, limit: int = 10_000) -> None:
        self._facts: dict[str, EnterpriseFacts] = {}
        self.limit = limit

    def get(self, enterprise_id: str) -> EnterpriseFacts | None:
        return self._facts.get(enterprise_id)

    def remember(self, facts: dict[str, EnterpriseFacts]) -> None:
        if len(self._facts) + len(facts) > self.limit:
            self._facts.clear()
        self._facts.update(facts)


@dataclass(frozen=True, slots=True)
class TicketContext:
    catalog: CatalogClient
    calendar_cache: CalendarCache
    numbers: TicketNumbers
    policy: SlaPolicy
    enterprise_facts: RememberedEnterpriseFacts = field(default_factory=RememberedEnterpriseFacts)

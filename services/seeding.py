"""The contract between the launcher and each service's development seed.

The launcher runs the seeds one service after another, in one transaction. A later seed may
need to name what an earlier one created (the gateway's demo accounts name the catalogue's
departments and the ticket service's enterprises), but no service reads another's tables or
imports another service: each seed returns the facts it contributes, and the launcher passes
everything gathered so far to the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.settings import SharedSettings


@dataclass(frozen=True, slots=True)
class DemoFacts:
    """Keys of demo data that later seeds may reference."""

    department_codes: tuple[str, ...] = ()
    # demo account name (`enterprise-1`, ...) -> the id of the enterprise it acts for
    enterprise_ids: Mapping[str, str] = field(default_factory=dict)

    def including(self, other: DemoFacts) -> DemoFacts:
        """These facts and `other`'s; a key both name keeps `other`'s value."""
        new_codes = tuple(code for code in other.department_codes if code not in self.department_codes)
        return DemoFacts(
            department_codes=self.department_codes + new_codes,
            enterprise_ids={**self.enterprise_ids, **other.enterprise_ids},
        )


@dataclass(frozen=True, slots=True)
class SeedResult:
    """Rows created per kind (all 0 when the data was already there) and the facts contributed."""

    created: Mapping[str, int]
    facts: DemoFacts = field(default_factory=DemoFacts)


class Seed(Protocol):
    """One service's seed: idempotent, inserts only into that service's own tables."""

    async def __call__(self, session: AsyncSession, *, settings: SharedSettings, facts: DemoFacts) -> SeedResult: ...

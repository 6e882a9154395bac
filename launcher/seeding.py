"""`seed`: every service's development data, in the registry's order, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from launcher.registry import HTTP_SERVICES, HttpService
from services.db import create_engine, create_sessionmaker
from services.seeding import DemoFacts
from services.settings import SharedSettings


async def seed(settings: SharedSettings, services: Sequence[HttpService] = HTTP_SERVICES) -> dict[str, int]:
    """Load the development data; refused outside development (no demo account in production)."""
    if settings.environment not in ("development", "test"):
        raise SystemExit("refusing to seed demo data outside development")
    created: dict[str, int] = {}
    facts = DemoFacts()
    engine = create_engine(settings.effective_database_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            for service in services:
                if service.seed is None:
                    continue
                result = await service.seed(session, settings=settings, facts=facts)
                created.update(result.created)
                facts = facts.including(result.facts)
    finally:
        await engine.dispose()
    return created

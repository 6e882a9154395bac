"""Development data of the ticket service."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.seeding import DemoFacts, SeedResult
from services.settings import SharedSettings
from ticket_service.seed_data import ENTERPRISES

_NAMESPACE = uuid.UUID("6f1f4f3e-9658-4080-8965-808000000000")


def enterprise_id_for(credit_code: str) -> str:
    """Demo enterprises get ids derived from their credit code, stable across re-seeding."""
    return str(uuid.uuid5(_NAMESPACE, credit_code))


def demo_enterprise_ids() -> dict[str, str]:
    return {enterprise.key: enterprise_id_for(enterprise.credit_code) for enterprise in ENTERPRISES}


async def seed_enterprises(session: AsyncSession) -> int:
    """The two demo enterprises, through the ticket service's own domain function."""
    from ticket_service.enterprises import create_enterprise
    from ticket_service.models import Enterprise
    from ticket_service.schemas import EnterpriseCreate

    created = 0
    for demo in ENTERPRISES:
        enterprise_id = enterprise_id_for(demo.credit_code)
        if await session.get(Enterprise, enterprise_id) is not None:
            continue
        data = EnterpriseCreate(
            name=demo.name,
            credit_code=demo.credit_code,
            size=demo.size,
            taiwan_funded=demo.taiwan_funded,
            industry=demo.industry,
            park=demo.park,
            contact_name=demo.contact_name,
            contact_phone=demo.contact_phone,
        )
        await create_enterprise(session, data=data, enterprise_id=enterprise_id)
        created += 1
    return created


async def seed(session: AsyncSession, *, settings: SharedSettings, facts: DemoFacts) -> SeedResult:
    """The ticket service's part of the development seed; its enterprises get demo accounts."""
    created = await seed_enterprises(session)
    return SeedResult(created={"enterprises": created}, facts=DemoFacts(enterprise_ids=demo_enterprise_ids()))

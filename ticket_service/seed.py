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
    from ticket_service.models import Enterprise
    from ticket_service.schemas import EnterpriseCreate
    from ticket_service.service import create_enterprise

    created = 0
    for seed in ENTERPRISES:
        enterprise_id = enterprise_id_for(seed.credit_code)
        if await session.get(Enterprise, enterprise_id) is not None:
            continue
        data = EnterpriseCreate(
            name=seed.name,
            credit_code=seed.credit_code,
            size=seed.size,
            taiwan_funded=seed.taiwan_funded,
            industry=seed.industry,
            park=seed.park,
            contact_name=seed.contact_name,
            contact_phone=seed.contact_phone,
        )
        await create_enterprise(session, data=data, enterprise_id=enterprise_id)
        created += 1
    return created


async def seed(session: AsyncSession, *, settings: SharedSettings, facts: DemoFacts) -> SeedResult:
    """The ticket service's part of the development seed; its enterprises get demo accounts."""
    created = await seed_enterprises(session)
    return SeedResult(created={"enterprises": created}, facts=DemoFacts(enterprise_ids=demo_enterprise_ids()))

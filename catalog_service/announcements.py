"""What the catalogue announces (网上推送): a published menu edition or policy, as the API
shows it, written to the catalogue's outbox in the publication's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.models import CatalogOutboxEvent, Menu, Policy, ServiceItem
from catalog_service.rows import item_row
from catalog_service.schemas import ItemRead, MenuRead, PolicyRead
from services import outbox
from services.db import utcnow


async def menu_published(session: AsyncSession, menu: Menu) -> None:
    """The edition with its items (their eligible sizes say which enterprises it concerns)."""
    table = ServiceItem.__table__
    rows = (await session.execute(select(table).where(table.c.code.in_(menu.item_codes)))).mappings().all()
    by_code = {row["code"]: item_row(dict(row)) for row in rows}
    items = [ItemRead.model_validate(by_code[code]).model_dump(mode="json") for code in menu.item_codes]
    data: dict[str, Any] = {**MenuRead.model_validate(menu).model_dump(mode="json"), "items": items}
    _announce(session, "menu.published", "menu", menu.code, data)


def policy_published(session: AsyncSession, policy: Policy) -> None:
    _announce(
        session, "policy.published", "policy", policy.code, PolicyRead.model_validate(policy).model_dump(mode="json")
    )


def _announce(session: AsyncSession, event_type: str, aggregate_type: str, code: str, data: dict[str, Any]) -> None:
    outbox.add_event(
        session,
        CatalogOutboxEvent,
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=code,
        data=data,
        occurred_at=utcnow(),
    )

"""Publications reach the enterprises they concern (网上推送): a menu edition the enterprises of
the sizes its items fit, a policy every enterprise; and a transfer reaches the new department."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from catalog_service.models import CatalogOutboxEvent
from tests.catalog_service.helpers import action, create_item, create_menu, create_policy
from tests.conftest import Platform
from tests.notification_service.helpers import inbox, post_events, relay
from tests.ticket_service.helpers import act_ok, dispatch_request


async def _announce(platform: Platform, session: AsyncSession, code: str) -> None:
    rows = await session.execute(select(CatalogOutboxEvent).where(CatalogOutboxEvent.aggregate_id == code))
    await post_events(platform, *(row.envelope for row in rows.scalars()))


async def _kinds(platform: Platform, username: str) -> list[str]:
    return [entry["kind"] for entry in (await inbox(platform, username))["items"]]


async def test_a_menu_reaches_the_enterprises_of_the_sizes_its_items_fit(
    platform: Platform, session: AsyncSession
) -> None:
    admin = await platform.auth("admin")
    only_large = await create_item(platform.client, admin, eligible_sizes=["large"], status="published")
    menu = await create_menu(platform.client, admin, item_codes=(only_large["code"],))
    published = await action(platform.client, admin, f"/menus/{menu['code']}/publish", {"published_on": "2026-12-01"})
    assert published.status_code == 200, published.text
    await _announce(platform, session, menu["code"])
    assert "menu.published" in await _kinds(platform, "enterprise-2")  # large
    assert "menu.published" not in await _kinds(platform, "enterprise-1")  # small
    assert "menu.published" not in await _kinds(platform, "staff-jxw")


async def test_a_policy_reaches_every_enterprise_once(platform: Platform, session: AsyncSession) -> None:
    policy = await create_policy(platform.client, await platform.auth("admin"), status="published")
    await _announce(platform, session, policy["code"])
    await _announce(platform, session, policy["code"])  # relayed twice: still one notice each
    for username in ("enterprise-1", "enterprise-2"):
        assert (await _kinds(platform, username)).count("policy.published") == 1, username


async def test_a_transfer_reaches_the_department_it_goes_to(platform: Platform, session: AsyncSession) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    await act_ok(platform, "dispatcher", ticket["id"], "transfer", {"department_code": "kjj", "reason": "转科技局"})
    await relay(platform, session)
    entries = (await inbox(platform, "staff-kjj"))["items"]
    assert [entry["kind"] for entry in entries if entry["ticket_id"] == ticket["id"]] == ["ticket.transferred_in"]

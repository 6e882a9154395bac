"""The catalogue announces a published menu edition or policy (网上推送) through its outbox:
the event exists exactly when the publication committed, and the kernel's relay delivers it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from catalog_service.models import CatalogOutboxEvent
from notification_service.models import ReceivedEvent
from services.db import Database, writes_in_one_statement
from services.outbox import relay_batch, relay_until_stopped
from tests.catalog_service.helpers import action, assert_problem, create_menu, create_policy, get_json
from tests.conftest import Platform
from tests.notification_service.helpers import internal_headers


async def _announced(session: AsyncSession, code: str) -> list[CatalogOutboxEvent]:
    rows = await session.execute(
        select(CatalogOutboxEvent).where(CatalogOutboxEvent.aggregate_id == code).order_by(CatalogOutboxEvent.seq)
    )
    return list(rows.scalars())


async def test_publishing_a_policy_announces_it_as_the_api_shows_it(platform: Platform, session: AsyncSession) -> None:
    admin = await platform.auth("admin")
    policy = await create_policy(platform.client, admin)
    assert await _announced(session, policy["code"]) == []  # a draft is not announced
    response = await action(platform.client, admin, f"/policies/{policy['code']}/publish")
    assert response.status_code == 200, response.text
    (event,) = await _announced(session, policy["code"])
    shown = await get_json(platform.client, f"/policies/{policy['code']}")
    assert (event.event_type, event.envelope["type"]) == ("policy.published", "policy.published")
    assert event.envelope["data"] == shown
    # Publishing it again is refused and announces nothing more.
    assert_problem(await action(platform.client, admin, f"/policies/{policy['code']}/publish"), 409)
    assert len(await _announced(session, policy["code"])) == 1


async def test_a_policy_created_published_is_announced(platform: Platform, session: AsyncSession) -> None:
    policy = await create_policy(platform.client, await platform.auth("admin"), status="published")
    assert [event.event_type for event in await _announced(session, policy["code"])] == ["policy.published"]


async def test_publishing_a_menu_announces_its_items_and_who_they_fit(
    platform: Platform, session: AsyncSession
) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(platform.client, admin, item_codes=("KJ-001", "LS-001"))
    response = await action(platform.client, admin, f"/menus/{menu['code']}/publish", {"published_on": "2026-12-01"})
    assert response.status_code == 200, response.text
    (event,) = await _announced(session, menu["code"])
    data: dict[str, Any] = event.envelope["data"]
    assert (event.event_type, data["code"], data["status"]) == ("menu.published", menu["code"], "published")
    items = {item["code"]: item for item in (await get_json(platform.client, "/items", limit=100))["items"]}
    assert [item["code"] for item in data["items"]] == ["KJ-001", "LS-001"]
    for item in data["items"]:
        assert item["eligible_sizes"] == items[item["code"]]["eligible_sizes"]


def _test_database(platform: Platform) -> Database:
    connection = platform.holder.connection
    assert connection is not None

    @asynccontextmanager
    async def autocommit() -> AsyncIterator[AsyncConnection]:
        yield connection

    maker = async_sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")
    return Database(maker, autocommit, writes_in_one_statement(connection))


async def _notifications(platform: Platform) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=platform.upstreams["notifications"]), base_url="http://n"
    )


async def test_the_kernel_relay_delivers_the_catalogues_events_once(platform: Platform, session: AsyncSession) -> None:
    policy = await create_policy(platform.client, await platform.auth("admin"), status="published")
    database = _test_database(platform)
    async with await _notifications(platform) as http:
        relayed: list[Any] = []
        while batch := await relay_batch(
            database,
            CatalogOutboxEvent,
            http=http,
            url="/internal/events",
            token=internal_headers()["X-Internal-Token"],
        ):
            relayed += batch
    (event,) = await _announced(session, policy["code"])
    await session.refresh(event)
    assert event.published_at is not None
    assert event.event_id in {envelope["id"] for envelope in relayed}
    received = await session.get(ReceivedEvent, event.event_id)
    assert received is not None and received.event_type == "policy.published"


async def test_the_relay_loop_backs_off_while_the_consumer_is_down_and_stops_when_told(
    platform: Platform, session: AsyncSession
) -> None:
    await create_policy(platform.client, await platform.auth("admin"), status="published")
    attempts: list[float] = []

    def down(request: httpx.Request) -> httpx.Response:
        attempts.append(asyncio.get_running_loop().time())
        return httpx.Response(503)

    stop = asyncio.Event()
    async with httpx.AsyncClient(transport=httpx.MockTransport(down), base_url="http://n") as http:
        task = asyncio.create_task(
            relay_until_stopped(
                _test_database(platform),
                CatalogOutboxEvent,
                http=http,
                token=internal_headers()["X-Internal-Token"],
                interval_seconds=0.01,
                stop=stop,
            )
        )
        for _ in range(500):
            if len(attempts) >= 4:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert len(attempts) >= 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
    assert gaps[2] > gaps[0]  # each failure waits longer
    unpublished = await session.execute(
        select(CatalogOutboxEvent.attempts).where(CatalogOutboxEvent.published_at.is_(None))
    )
    assert max(unpublished.scalars()) >= 4  # nothing was dropped; every failure was counted

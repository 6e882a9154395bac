"""Fixtures for the delivery tests: the live platform, a real receiver, and a notification
worker's context on the live database with a clock the test moves."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from notification_service.settings import NotificationSettings
from notification_service.worker import close_context, open_context
from services.db import create_engine
from tests.live_platform import LivePlatform
from tests.notification_service.receiver import Receiver


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def worker_settings(live: LivePlatform, **overrides: Any) -> NotificationSettings:
    fields: dict[str, Any] = {
        "database_url": live.database_url,
        "redis_url": live.redis_url,
        "gateway_url": live.gateway_url,
        "environment": "test",
        "log_json": False,
        "log_level": "WARNING",
    }
    return NotificationSettings(**{**fields, **overrides})


async def worker_context(settings: NotificationSettings, clock: FakeClock) -> dict[str, Any]:
    return await open_context({"settings": settings, "clock": clock, "random": random.Random(965808)})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC) + timedelta(seconds=1))


CLEAN_UP = (
    # No test's subscriptions may receive the next test's events.
    "UPDATE webhook_subscriptions SET status = 'disabled'",
    "DELETE FROM webhook_attempts",
    "DELETE FROM webhook_deliveries",
    # The events these tests made up, not relayed from the outbox: other live tests compare the two.
    "DELETE FROM received_events WHERE event_id NOT IN (SELECT event_id FROM outbox)",
)


@pytest.fixture
async def worker_ctx(live: LivePlatform, clock: FakeClock) -> AsyncIterator[dict[str, Any]]:
    ctx = await worker_context(worker_settings(live), clock)
    try:
        yield ctx
    finally:
        await close_context(ctx)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def gateway(live: LivePlatform) -> AsyncIterator[httpx.AsyncClient]:
    """The live gateway as admin; afterwards the test's subscriptions, deliveries and made-up
    events are gone from the live database."""
    headers = {"Authorization": f"Bearer {live.admin_token}"}
    try:
        async with httpx.AsyncClient(base_url=live.gateway_url, headers=headers, timeout=30) as client:
            yield client
    finally:
        engine = create_engine(live.database_url)
        try:
            async with engine.begin() as connection:
                for statement in CLEAN_UP:
                    await connection.execute(text(statement))
        finally:
            await engine.dispose()

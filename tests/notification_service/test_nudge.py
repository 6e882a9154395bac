"""An intake that stored something asks a delivery worker to send it at once (a queued
`deliver_due`), rather than at the worker's next tick; a batch of duplicates asks nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from arq import ArqRedis, create_pool

from notification_service.settings import NOTIFICATION_QUEUE
from services.redis import arq_redis_settings
from tests.conftest import Platform
from tests.notification_service.helpers import post_events, ticket_event


@pytest.fixture
async def queue(redis_url: str) -> AsyncIterator[ArqRedis]:
    pool = await create_pool(arq_redis_settings(redis_url), default_queue_name=NOTIFICATION_QUEUE)
    await pool.delete(NOTIFICATION_QUEUE)
    yield pool
    await pool.delete(NOTIFICATION_QUEUE)
    await pool.aclose()


async def _nudges(queue: ArqRedis) -> list[str]:
    jobs = await queue.zrange(NOTIFICATION_QUEUE, 0, -1)
    return [job.decode() for job in jobs if job.decode().startswith("deliver:")]


async def test_a_stored_event_nudges_the_delivery_worker(platform: Platform, queue: ArqRedis) -> None:
    event = ticket_event("ticket.accepted")
    await post_events(platform, event)
    for _ in range(100):
        if await _nudges(queue):
            break
        await asyncio.sleep(0.02)
    assert len(await _nudges(queue)) == 1
    await queue.delete(NOTIFICATION_QUEUE)
    # The same event again: nothing new to send (in-process, the nudge runs before the answer).
    await post_events(platform, event)
    assert await _nudges(queue) == []

"""The notification worker's `/metrics` on its own port: deliveries by outcome and the
backlog of unsettled deliveries, read from a real worker context against the live platform."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from notification_service.worker import close_context, startup
from tests.live_platform import LivePlatform
from tests.notification_service.conftest import FakeClock, worker_settings
from tests.notification_service.helpers import ticket_event
from tests.notification_service.live_helpers import batch, live_post_events, live_subscribe
from tests.notification_service.receiver import Receiver
from tests.services.test_metrics import samples
from tests.support import free_port

pytestmark = pytest.mark.live


def figure(text: str, name: str, **labels: str) -> float:
    return samples(text, name).get(tuple(sorted(labels.items())), 0.0)


async def test_the_worker_serves_deliveries_by_outcome_and_the_backlog(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, clock: FakeClock
) -> None:
    port = free_port()
    ctx: dict[str, Any] = {"settings": worker_settings(live, worker_metrics_port=port), "clock": clock}
    await startup(ctx)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        async with httpx.AsyncClient(timeout=10) as scraper:
            await live_subscribe(gateway, receiver.url)
            unreachable = Receiver()  # never started: connection refused
            await live_subscribe(gateway, unreachable.url)
            await live_post_events(live, ticket_event("ticket.created"))
            waiting = (await scraper.get(url)).text
            assert figure(waiting, "webhook_delivery_backlog", status="pending") == 2
            assert figure(waiting, "webhook_deliveries_total", outcome="delivered") == 0

            assert await batch(ctx) == {"delivered": 1, "failed": 1}
            after = (await scraper.get(url)).text
            refused = await scraper.get(url, headers={"X-Forwarded-For": "203.0.113.9"})
    finally:
        await close_context(ctx)
    assert figure(after, "webhook_deliveries_total", outcome="delivered") == 1
    assert figure(after, "webhook_deliveries_total", outcome="failed") == 1
    assert figure(after, "webhook_delivery_backlog", status="pending") == 0
    assert figure(after, "webhook_delivery_backlog", status="failed") == 1
    assert samples(after, "db_pool_size")[()] >= 1
    assert refused.status_code == 401
    assert refused.json()["code"] == "metrics_token_required"

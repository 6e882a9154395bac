"""Between real processes: a policy published at the gateway reaches the notification service
through the catalogue's outbox and its relay."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import select

from notification_service.models import ReceivedEvent
from services.db import create_engine
from tests.catalog_service.helpers import policy_payload
from tests.live_platform import LivePlatform


async def _received_codes(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(ReceivedEvent.envelope).where(ReceivedEvent.event_type == "policy.published")
            )
            return {envelope["data"]["code"] for envelope in rows.scalars()}
    finally:
        await engine.dispose()


def test_a_published_policy_reaches_the_notification_service(live: LivePlatform) -> None:
    payload = policy_payload(status="published")
    response = httpx.post(
        f"{live.gateway_url}/api/v1/policies",
        json=payload,
        headers={"Authorization": f"Bearer {live.admin_token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    deadline = time.monotonic() + 30
    while payload["code"] not in asyncio.run(_received_codes(live.database_url)):
        assert time.monotonic() < deadline, "the announcement never reached the notification service"
        time.sleep(0.2)

"""Between real processes: the same hotline call arriving twice at the same moment (two
webhooks, as two replicas would take them) files one ticket."""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlalchemy import func, select

from services.db import create_engine
from tests.live_platform import LivePlatform
from tests.notification_service.test_hotline import CALLS, call_body, signed
from ticket_service.models import Ticket


async def _tickets_of_call(database_url: str, call_id: str) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(
                select(func.count()).select_from(Ticket).where(Ticket.hotline_call_id == call_id)
            )
            return int(found.scalar_one())
    finally:
        await engine.dispose()


async def _twice_at_once(live: LivePlatform) -> tuple[list[httpx.Response], str]:
    payload = call_body()
    async with httpx.AsyncClient(base_url=live.gateway_url, timeout=20) as client:
        answers = await asyncio.gather(
            *(client.post(CALLS, content=payload, headers=signed(payload)) for _ in range(4))
        )
    return list(answers), json.loads(payload)["call_id"]


def test_the_same_call_at_once_files_one_ticket(live: LivePlatform) -> None:
    answers, call_id = asyncio.run(_twice_at_once(live))
    assert [answer.status_code for answer in answers] == [202] * 4, [answer.text for answer in answers]
    assert len({answer.json()["ticket_number"] for answer in answers}) == 1
    assert asyncio.run(_tickets_of_call(live.database_url, call_id)) == 1

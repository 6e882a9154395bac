"""The 965808 hotline in: signed calls become tickets once, signed ratings are recorded once,
and anything forged, stale, unsigned or oversized writes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks import Webhook

from notification_service.hotline_routes import get_tickets
from notification_service.models import InboundCall
from notification_service.ticket_client import TicketClient
from services.settings import DEFAULT_HOTLINE_SECRET
from tests.conftest import Platform
from tests.ticket_service.helpers import act_ok, assert_problem, count, events, iso, reload
from ticket_service.models import Feedback, Ticket

CALLS = "/api/v1/hooks/hotline/calls"
RATINGS = "/api/v1/hooks/hotline/feedback"


def signed(
    payload: bytes, *, secret: str = DEFAULT_HOTLINE_SECRET, at: datetime | None = None, msg_id: str = ""
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    when = at or datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, payload.decode()),
        "content-type": "application/json",
    }


def call_body(**overrides: Any) -> bytes:
    body: dict[str, Any] = {
        "call_id": f"965808-{uuid.uuid4().hex[:12]}",
        "received_at": iso(datetime.now(UTC) - timedelta(minutes=2)),
        "caller_phone": "13912345678",
        "enterprise_credit_code": "91321191608263458Y",
        "content": "想咨询技术改造专项资金申报的截止时间。",
        "category_hint": "tech-transform",
    }
    body.update(overrides)
    return json.dumps(body, ensure_ascii=False).encode()


async def post(platform: Platform, path: str, payload: bytes, headers: dict[str, str]) -> httpx.Response:
    return await platform.client.post(path, content=payload, headers=headers)


async def written(session: AsyncSession) -> tuple[int, int]:
    return await count(session, Ticket), await count(session, InboundCall)


async def test_a_signed_call_becomes_a_hotline_ticket_whose_number_the_agent_reads(
    platform: Platform, session: AsyncSession
) -> None:
    payload = call_body()
    response = await post(platform, CALLS, payload, signed(payload))
    assert response.status_code == 202, response.text
    answer = response.json()
    ticket = await reload(session, answer["ticket_id"])
    assert (ticket.number, ticket.kind, ticket.channel) == (answer["ticket_number"], "hotline", "hotline")
    assert ticket.received_at == datetime.fromisoformat(json.loads(payload)["received_at"])
    assert ticket.hotline_call_id == json.loads(payload)["call_id"]


async def test_the_same_webhook_or_the_same_call_again_answers_the_same_ticket(
    platform: Platform, session: AsyncSession
) -> None:
    payload = call_body()
    headers = signed(payload)
    first = await post(platform, CALLS, payload, headers)
    before = await written(session)
    replayed = await post(platform, CALLS, payload, headers)
    resent = await post(platform, CALLS, payload, signed(payload))  # the hotline's retry: a new webhook-id
    assert replayed.json() == resent.json() == first.json()
    assert await written(session) == before


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda p: signed(p, secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"), id="wrong secret"),
        pytest.param(lambda p: signed(p, at=datetime.now(UTC) - timedelta(minutes=6)), id="stale"),
        pytest.param(lambda p: signed(p, at=datetime.now(UTC) + timedelta(minutes=6)), id="from the future"),
        pytest.param(lambda p: {"content-type": "application/json"}, id="unsigned"),
        pytest.param(lambda p: {**signed(p), "webhook-signature": "garbage"}, id="malformed signature"),
        pytest.param(lambda p: {**signed(p), "webhook-signature": "v1,bm90LWl0"}, id="wrong signature"),
        pytest.param(lambda p: {**signed(b'{"call_id": "x"}')}, id="signature of another body"),
    ],
)
async def test_a_forged_stale_or_unsigned_call_is_401_and_writes_nothing(
    platform: Platform, session: AsyncSession, forge: Any
) -> None:
    payload = call_body()
    before = await written(session)
    response = await post(platform, CALLS, payload, forge(payload))
    assert_problem(response, 401, "invalid_webhook_signature")
    assert await written(session) == before


async def test_a_replayed_call_outside_the_tolerance_is_refused(platform: Platform, session: AsyncSession) -> None:
    payload = call_body()
    old = signed(payload, at=datetime.now(UTC) - timedelta(minutes=10))
    before = await written(session)
    assert_problem(await post(platform, CALLS, payload, old), 401, "invalid_webhook_signature")
    assert await written(session) == before


async def test_an_oversized_call_is_413_and_writes_nothing(platform: Platform, session: AsyncSession) -> None:
    payload = call_body(content="很" * 30_000)  # 90 KB of UTF-8
    before = await written(session)
    assert_problem(await post(platform, CALLS, payload, signed(payload)), 413, "payload_too_large")

    async def chunked() -> Any:
        for _ in range(3):
            yield payload[: len(payload) // 3 + 1]

    streamed = await platform.client.post(CALLS, content=chunked(), headers=signed(payload))
    assert_problem(streamed, 413, "payload_too_large")
    assert await written(session) == before


async def test_a_signed_call_with_a_bad_body_is_422_naming_the_field(platform: Platform, session: AsyncSession) -> None:
    payload = call_body(content="")
    before = await written(session)
    problem = assert_problem(await post(platform, CALLS, payload, signed(payload)), 422)
    assert ["body", "content"] in [error["loc"] for error in problem["errors"]]
    not_json = b"call me back"
    assert_problem(await post(platform, CALLS, not_json, signed(not_json)), 422)
    assert await written(session) == before


def _dead_tickets() -> TicketClient:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    return TicketClient(httpx.AsyncClient(transport=httpx.MockTransport(refuse), base_url="http://t"), token="t")


async def test_the_ticket_service_down_is_503_and_the_retry_files_the_call_once(
    platform: Platform, session: AsyncSession
) -> None:
    payload = call_body()
    headers = signed(payload)
    tickets_before = await count(session, Ticket)
    overrides = platform.services["notifications"].dependency_overrides
    overrides[get_tickets] = _dead_tickets
    try:
        response = await post(platform, CALLS, payload, headers)
    finally:
        del overrides[get_tickets]
    assert_problem(response, 503, "tickets_unavailable")
    assert response.headers["retry-after"].isdigit()
    assert await count(session, Ticket) == tickets_before
    # The hotline retries the same webhook once the ticket service is back: one ticket.
    again = await post(platform, CALLS, payload, signed(payload, msg_id=headers["webhook-id"]))
    assert again.status_code == 202, again.text
    once_more = await post(platform, CALLS, payload, signed(payload))
    assert once_more.json() == again.json()
    assert await count(session, Ticket) == tickets_before + 1


async def test_the_ticket_services_refusal_reaches_the_hotline(platform: Platform, session: AsyncSession) -> None:
    payload = call_body(enterprise_credit_code="91321191608263458X")  # a wrong check digit
    before = await count(session, Ticket)
    assert_problem(await post(platform, CALLS, payload, signed(payload)), 422, "invalid_credit_code")
    assert await count(session, Ticket) == before


async def _resolved_hotline_ticket(platform: Platform) -> dict[str, Any]:
    payload = call_body()
    answer = (await post(platform, CALLS, payload, signed(payload))).json()
    ticket_id = answer["ticket_id"]
    await act_ok(platform, "dispatcher", ticket_id, "transfer", {"department_code": "jxw", "reason": "转经信委"})
    await act_ok(platform, "staff-jxw", ticket_id, "accept", {"note": "受理"})
    await act_ok(platform, "staff-jxw", ticket_id, "resolve", {"result": "已答复申报时间"})
    return dict(answer)


async def test_an_unsatisfied_follow_up_rating_reopens_the_case_once(platform: Platform, session: AsyncSession) -> None:
    ticket = await _resolved_hotline_ticket(platform)
    rating = json.dumps(
        {"ticket_number": ticket["ticket_number"], "rating": "unsatisfied", "comment": "答复不清楚"}
    ).encode()
    headers = signed(rating)
    response = await post(platform, RATINGS, rating, headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"ticket_number": ticket["ticket_number"], "rating": "unsatisfied", "recorded": True}
    again = await post(platform, RATINGS, rating, headers)
    assert again.json() == response.json()
    assert await count(session, Feedback, Feedback.ticket_id == ticket["ticket_id"]) == 1
    assert (await reload(session, ticket["ticket_id"])).status == "submitted"
    assert (await events(platform, ticket["ticket_id"]))[-1]["action"] == "reopen"


async def test_a_forged_rating_writes_nothing(platform: Platform, session: AsyncSession) -> None:
    ticket = await _resolved_hotline_ticket(platform)
    rating = json.dumps({"ticket_number": ticket["ticket_number"], "rating": "unsatisfied"}).encode()
    forged = signed(rating, secret="whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
    assert_problem(await post(platform, RATINGS, rating, forged), 401, "invalid_webhook_signature")
    assert await count(session, Feedback, Feedback.ticket_id == ticket["ticket_id"]) == 0
    assert (await reload(session, ticket["ticket_id"])).status == "resolved"


async def test_a_signed_call_with_a_bidirectional_override_is_422_naming_the_field(
    platform: Platform, session: AsyncSession
) -> None:
    payload = call_body(content="请回电\u202e话电回请")
    before = await written(session)
    problem = assert_problem(await post(platform, CALLS, payload, signed(payload)), 422)
    assert ["body", "content"] in [error["loc"] for error in problem["errors"]]
    assert await written(session) == before

"""The ticket service's side of the 965808 hotline: a verified call becomes a ticket once, the
caller asks where a case stands by its number, and the follow-up call's rating counts."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit_code import make_credit_code
from tests.conftest import Platform
from tests.notification_service.helpers import internal_headers
from tests.ticket_service.helpers import (
    E1,
    NUMBER_PATTERN,
    act_ok,
    assert_problem,
    client_token,
    count,
    deadlines_for,
    events,
    iso,
    reload,
)
from ticket_service.models import Enterprise, Feedback, Ticket

PHONE = "13912345678"
E1_CODE = "91321191608263458Y"


@pytest.fixture
async def tickets(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The ticket service itself, as the notification service reaches it."""
    transport = httpx.ASGITransport(app=platform.upstreams["tickets"])
    async with httpx.AsyncClient(transport=transport, base_url="http://tickets") as client:
        yield client


def call(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "call_id": f"C-{uuid.uuid4().hex[:12]}",
        "received_at": iso(datetime.now(UTC) - timedelta(minutes=3)),
        "caller_phone": PHONE,
        "content": "我司的用电增容申请已经提交两周，想问一下进度。\n联系人：王经理",
    }
    body.update(overrides)
    return body


async def file(
    tickets: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await tickets.post(
        "/internal/hotline-calls", json=body, headers=internal_headers() if headers is None else headers
    )


async def filed(tickets: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await file(tickets, call(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_call_becomes_a_hotline_ticket_on_the_clock_of_the_call(
    platform: Platform, tickets: httpx.AsyncClient, session: AsyncSession
) -> None:
    body = call(enterprise_credit_code=E1_CODE)
    response = await file(tickets, body)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert re.match(NUMBER_PATTERN, receipt["ticket_number"])
    assert (receipt["created"], receipt["enterprise_id"], receipt["enterprise_provisional"]) == (True, E1, False)
    ticket = (
        await platform.client.get(f"/api/v1/tickets/{receipt['ticket_id']}", headers=await platform.auth("dispatcher"))
    ).json()
    assert (ticket["kind"], ticket["channel"], ticket["status"], ticket["department_code"]) == (
        "hotline",
        "hotline",
        "submitted",
        None,
    )
    assert ticket["title"] == "热线来电：我司的用电增容申请已经提交两周，想问一下进度。"
    assert ticket["description"] == body["content"]
    assert datetime.fromisoformat(ticket["received_at"]) == datetime.fromisoformat(body["received_at"])
    expected = await deadlines_for(platform, body["received_at"])
    assert (ticket["accept_due"], ticket["resolve_due"], ticket["final_due"]) == (
        expected["accept_due"],
        expected["resolve_due"],
        expected["final_due"],
    )
    (created,) = await events(platform, receipt["ticket_id"])
    assert (created["action"], created["role"], created["actor"]) == ("create", "hotline", "hotline-965808")
    assert "received_at" in created["changes"]


async def test_the_same_call_again_answers_the_same_ticket_and_creates_nothing(
    tickets: httpx.AsyncClient, session: AsyncSession
) -> None:
    body = call(enterprise_credit_code=make_credit_code("91321100MA1NEW001"))
    first = await file(tickets, body)
    before = (await count(session, Ticket), await count(session, Enterprise))
    again = await file(tickets, {**body, "content": "重复推送"})
    assert again.status_code == 200, again.text
    assert again.json() == {**first.json(), "created": False}
    assert (await count(session, Ticket), await count(session, Enterprise)) == before


async def test_an_unknown_credit_code_registers_a_provisional_enterprise(
    platform: Platform, tickets: httpx.AsyncClient, session: AsyncSession
) -> None:
    code = make_credit_code("91321100MA1NEW002")
    receipt = await filed(tickets, enterprise_credit_code=code, enterprise_name="镇江新来电科技有限公司")
    assert receipt["enterprise_provisional"] is True
    enterprise = await session.get(Enterprise, receipt["enterprise_id"])
    assert enterprise is not None
    assert (enterprise.name, enterprise.credit_code, enterprise.provisional) == ("镇江新来电科技有限公司", code, True)
    # A second call from the same firm finds the record; a dispatcher confirms it, the firm cannot.
    again = await filed(tickets, enterprise_credit_code=code)
    assert again["enterprise_id"] == receipt["enterprise_id"]
    path = f"/api/v1/enterprises/{receipt['enterprise_id']}"
    confirmed = await platform.client.patch(
        path, json={"provisional": False}, headers=await platform.auth("dispatcher")
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["provisional"] is False
    refused = await platform.client.patch(
        f"/api/v1/enterprises/{E1}", json={"provisional": True}, headers=await platform.auth("enterprise-1")
    )
    assert_problem(refused, 403, "field_forbidden")


async def test_a_call_without_a_credit_code_waits_in_the_dispatch_queue(
    platform: Platform, tickets: httpx.AsyncClient
) -> None:
    receipt = await filed(tickets)
    assert (receipt["enterprise_id"], receipt["enterprise_provisional"]) == (None, False)
    queue = await platform.client.get(
        "/api/v1/tickets", params={"channel": "hotline"}, headers=await platform.auth("dispatcher")
    )
    assert receipt["ticket_id"] in [ticket["id"] for ticket in queue.json()["items"]]


async def test_a_category_hint_that_names_a_category_routes_the_ticket(
    platform: Platform, tickets: httpx.AsyncClient, session: AsyncSession
) -> None:
    named = await filed(tickets, category_hint="power-energy")
    assert (await reload(session, named["ticket_id"])).category_code == "power-energy"
    unknown = await filed(tickets, category_hint="no-such-category")
    assert (await reload(session, unknown["ticket_id"])).category_code is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"enterprise_credit_code": "91321191608263458X"}, None),
        ({"received_at": "2026-12-01T10:00:00"}, "received_at"),
        ({"content": ""}, "content"),
        ({"call_id": ""}, "call_id"),
        ({"caller_phone": "call me"}, "caller_phone"),
    ],
)
async def test_a_bad_call_is_refused_and_writes_nothing(
    tickets: httpx.AsyncClient, session: AsyncSession, overrides: dict[str, Any], field: str | None
) -> None:
    before = (await count(session, Ticket), await count(session, Enterprise))
    response = await file(tickets, call(**overrides))
    problem = assert_problem(response, 422)
    if field is not None:
        assert field in str(problem["errors"])
    assert (await count(session, Ticket), await count(session, Enterprise)) == before


async def test_a_call_from_the_future_is_refused(tickets: httpx.AsyncClient, session: AsyncSession) -> None:
    before = await count(session, Ticket)
    response = await file(tickets, call(received_at=iso(datetime.now(UTC) + timedelta(minutes=10))))
    assert_problem(response, 422, "invalid_field")
    assert await count(session, Ticket) == before


@pytest.mark.parametrize("headers", [{}, {"X-Internal-Token": "guess"}])
async def test_only_the_platforms_services_file_calls(
    tickets: httpx.AsyncClient, session: AsyncSession, headers: dict[str, str]
) -> None:
    before = await count(session, Ticket)
    assert_problem(await file(tickets, call(), headers=headers), 401, "invalid_internal_token")
    assert await count(session, Ticket) == before


async def test_the_callers_number_is_shown_only_to_those_who_call_back(
    platform: Platform, tickets: httpx.AsyncClient
) -> None:
    receipt = await filed(tickets, enterprise_credit_code=E1_CODE)
    path = f"/api/v1/tickets/{receipt['ticket_id']}"

    async def phone(username: str) -> str:
        response = await platform.client.get(path, headers=await platform.auth(username))
        assert response.status_code == 200, response.text
        return str(response.json()["caller_phone"])

    assert await phone("dispatcher") == PHONE
    for username in ("supervisor", "admin", "enterprise-1"):
        assert await phone(username) == "139****5678", username
    await act_ok(
        platform, "dispatcher", receipt["ticket_id"], "transfer", {"department_code": "fgw", "reason": "转发改委"}
    )
    assert await phone("staff-fgw") == PHONE
    (created, transferred) = await events(platform, receipt["ticket_id"])
    assert PHONE not in str(created) + str(transferred)


async def test_the_hotline_reads_where_a_case_stands_and_nothing_personal(
    platform: Platform, tickets: httpx.AsyncClient
) -> None:
    receipt = await filed(tickets, enterprise_credit_code=E1_CODE)
    hotline = await client_token(platform, "hotline-965808")
    response = await platform.client.get(f"/api/v1/tickets/by-number/{receipt['ticket_number']}", headers=hotline)
    assert response.status_code == 200, response.text
    progress = response.json()
    assert progress["number"] == receipt["ticket_number"] and progress["status"] == "submitted"
    assert {"accept_due", "resolve_due", "final_due", "overdue"} <= set(progress)
    assert not {"enterprise_id", "caller_phone", "description", "id"} & set(progress)
    mine = await platform.client.get(
        f"/api/v1/tickets/by-number/{receipt['ticket_number']}", headers=await platform.auth("enterprise-1")
    )
    assert mine.status_code == 200
    others = await platform.client.get(
        f"/api/v1/tickets/by-number/{receipt['ticket_number']}", headers=await platform.auth("enterprise-2")
    )
    assert_problem(others, 404, "ticket_not_found")
    missing = await platform.client.get("/api/v1/tickets/by-number/T20260101999999", headers=hotline)
    assert_problem(missing, 404, "ticket_not_found")
    front_end = await client_token(platform, "frontend-demo")
    refused = await platform.client.get(f"/api/v1/tickets/by-number/{receipt['ticket_number']}", headers=front_end)
    assert_problem(refused, 403, "role_not_allowed")


async def _resolved_call(platform: Platform, tickets: httpx.AsyncClient) -> dict[str, Any]:
    receipt = await filed(tickets, enterprise_credit_code=E1_CODE)
    ticket_id = receipt["ticket_id"]
    await act_ok(platform, "dispatcher", ticket_id, "transfer", {"department_code": "fgw", "reason": "转发改委"})
    for action, body in (("accept", {"note": "受理"}), ("resolve", {"result": "已办结"})):
        await act_ok(platform, "staff-fgw", ticket_id, action, body)
    return receipt


async def rate(tickets: httpx.AsyncClient, number: str, rating: str) -> httpx.Response:
    body = {"ticket_number": number, "rating": rating, "comment": "回访意见"}
    return await tickets.post("/internal/hotline-feedback", json=body, headers=internal_headers())


async def test_an_unsatisfied_follow_up_rating_reopens_the_case(
    platform: Platform, tickets: httpx.AsyncClient, session: AsyncSession
) -> None:
    receipt = await _resolved_call(platform, tickets)
    response = await rate(tickets, receipt["ticket_number"], "unsatisfied")
    assert response.status_code == 201, response.text
    assert (response.json()["channel"], response.json()["created_by"]) == ("hotline", "hotline-965808")
    ticket = await reload(session, receipt["ticket_id"])
    assert (ticket.status, ticket.department_code) == ("submitted", "fgw")
    *_, rated, reopened = await events(platform, receipt["ticket_id"])
    assert (rated["action"], rated["changes"]) == ("feedback", {"rating": [None, "unsatisfied"]})
    assert (reopened["action"], reopened["role"]) == ("reopen", "hotline")
    # Rated once per resolution; a case not resolved cannot be rated.
    assert_problem(await rate(tickets, receipt["ticket_number"], "satisfied"), 409)
    assert await count(session, Feedback, Feedback.ticket_id == receipt["ticket_id"]) == 1


async def test_a_satisfied_follow_up_rating_is_recorded(
    platform: Platform, tickets: httpx.AsyncClient, session: AsyncSession
) -> None:
    receipt = await _resolved_call(platform, tickets)
    assert (await rate(tickets, receipt["ticket_number"], "satisfied")).status_code == 201
    assert (await reload(session, receipt["ticket_id"])).status == "resolved"
    assert_problem(await rate(tickets, receipt["ticket_number"], "satisfied"), 409, "already_rated")
    assert_problem(await rate(tickets, "T20260101999999", "satisfied"), 404, "ticket_not_found")
    rows = await session.execute(select(Feedback.rating).where(Feedback.ticket_id == receipt["ticket_id"]))
    assert list(rows.scalars()) == ["satisfied"]

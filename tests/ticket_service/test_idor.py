"""Who may see and touch whose tickets: enterprises, departments, full-view roles, integrations."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Platform
from tests.ticket_service.helpers import (
    ACTION_BODY,
    API,
    E1,
    act,
    act_ok,
    arrange,
    assert_problem,
    client_token,
    count,
    dispatch_request,
    events,
    file_request,
    get_ticket,
    list_ids,
    order_one,
    rate,
    reload,
    resolve_ticket,
)
from ticket_service.lifecycle import Action
from ticket_service.models import Feedback, Ticket, TicketEvent


async def _unchanged(session: AsyncSession, ticket_id: str, status: str, version: int) -> None:
    ticket = await reload(session, ticket_id)
    assert (ticket.status, ticket.version) == (status, version)


# Enterprise A and enterprise B


async def test_other_enterprise_cannot_read_or_list(platform: Platform) -> None:
    ticket = await order_one(platform, "LS-001", "enterprise-1")
    own = await order_one(platform, "LS-001", "enterprise-2")
    path = f"{API}/tickets/{ticket['id']}"
    other = await platform.auth("enterprise-2")
    for suffix in ("", "/events", "/feedback"):
        response = await platform.client.get(path + suffix, headers=other)
        body = assert_problem(response, 404, "ticket_not_found")
        assert "绿色" not in response.text and E1 not in response.text
        assert ticket["id"] in body["detail"]  # the id the caller sent, nothing more
    listed = await list_ids(platform, "enterprise-2")
    assert own["id"] in listed and ticket["id"] not in listed
    # Asking for the other enterprise's tickets by filter or by number shows nothing.
    assert await list_ids(platform, "enterprise-2", enterprise_id=E1) == []
    assert await list_ids(platform, "enterprise-2", q=ticket["number"]) == []
    # The owner still sees both views.
    assert (await get_ticket(platform, "enterprise-1", ticket["id"])).status_code == 200
    assert ticket["id"] in await list_ids(platform, "enterprise-1")
    assert own["id"] not in await list_ids(platform, "enterprise-1")


@pytest.mark.parametrize("action", list(Action), ids=str)
async def test_other_enterprise_cannot_act(platform: Platform, session: AsyncSession, action: Action) -> None:
    ticket = await order_one(platform, "LS-001", "enterprise-1")
    response = await act(platform, "enterprise-2", ticket["id"], action.value, ACTION_BODY[action])
    assert_problem(response, 404, "ticket_not_found")
    await _unchanged(session, ticket["id"], "submitted", 1)


async def test_other_enterprise_cannot_rate(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform, "LS-001", "enterprise-1")
    resolved = await resolve_ticket(platform, ticket)
    for rating in ("satisfied", "unsatisfied"):
        assert_problem(await rate(platform, "enterprise-2", ticket["id"], rating), 404, "ticket_not_found")
    assert await count(session, Feedback, Feedback.ticket_id == ticket["id"]) == 0
    await _unchanged(session, ticket["id"], "resolved", resolved["version"])
    # The owner's rating still counts as the first one.
    assert (await rate(platform, "enterprise-1", ticket["id"], "satisfied")).status_code == 201


async def test_other_enterprise_cannot_file_for_someone_else(platform: Platform, session: AsyncSession) -> None:
    before = await count(session, Ticket)
    response = await file_request(platform, "enterprise-2", enterprise_id=E1)
    assert_problem(response, 422)
    assert await count(session, Ticket) == before


# Departments


async def test_staff_of_another_department_cannot_see_or_act(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform, "LS-001")  # jxw leads, fgw and czj co-handle
    for username in ("staff-kjj", "staff-sthjj"):
        for suffix in ("", "/events", "/feedback"):
            response = await platform.client.get(
                f"{API}/tickets/{ticket['id']}{suffix}", headers=await platform.auth(username)
            )
            assert_problem(response, 404, "ticket_not_found")
        for action in Action:
            response = await act(platform, username, ticket["id"], action.value, ACTION_BODY[action])
            assert_problem(response, 404, "ticket_not_found")
        assert ticket["id"] not in await list_ids(platform, username)
        assert ticket["id"] not in await list_ids(platform, username, department_code="jxw")
    await _unchanged(session, ticket["id"], "submitted", 1)
    assert await count(session, TicketEvent, TicketEvent.ticket_id == ticket["id"]) == 1


async def test_joint_review_opens_the_ticket_to_the_named_department(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform, "LS-001")
    assert_problem(await get_ticket(platform, "staff-sthjj", ticket["id"]), 404, "ticket_not_found")
    await act_ok(platform, "staff-jxw", ticket["id"], "accept")
    early = await act(platform, "staff-sthjj", ticket["id"], "contribute", {"note": "x"})
    assert_problem(early, 404, "ticket_not_found")
    review = await act_ok(
        platform,
        "staff-jxw",
        ticket["id"],
        "request-joint-review",
        {"co_department_codes": ["sthjj"], "note": "需生态环境局会办"},
    )
    assert "sthjj" in review["co_department_codes"]
    seen = await get_ticket(platform, "staff-sthjj", ticket["id"])
    assert seen.status_code == 200, seen.text
    assert seen.json()["allowed_actions"] == ["contribute"]
    assert ticket["id"] in await list_ids(platform, "staff-sthjj")
    contributed = await act_ok(platform, "staff-sthjj", ticket["id"], "contribute", {"note": "环评意见已出具"})
    assert contributed["status"] == "joint_review"
    # A co-department contributes but does not decide the case.
    for action in ("resolve", "explain", "request-info", "return"):
        response = await act(platform, "staff-sthjj", ticket["id"], action)
        body = assert_problem(response, 403, "action_forbidden")
        assert (body["state"], body["action"]) == ("joint_review", action)
    trail = await events(platform, ticket["id"], "staff-sthjj")
    assert (trail[-1]["action"], trail[-1]["actor"], trail[-1]["note"]) == (
        "contribute",
        "staff-sthjj",
        "环评意见已出具",
    )
    # Departments not named still see nothing.
    assert_problem(await get_ticket(platform, "staff-kjj", ticket["id"]), 404, "ticket_not_found")


async def test_a_department_code_inside_another_does_not_leak(platform: Platform, session: AsyncSession) -> None:
    """swj (商务局) is not swuj (税务局): co-department matching is by whole code."""
    ticket = await dispatch_request(platform, department_code="jxw")
    await arrange(session, ticket["id"], status="joint_review", co_department_codes=("swuj",))
    assert (await get_ticket(platform, "staff-swuj", ticket["id"])).status_code == 200
    assert_problem(await get_ticket(platform, "staff-swj", ticket["id"]), 404, "ticket_not_found")
    assert_problem(await act(platform, "staff-swj", ticket["id"], "contribute"), 404, "ticket_not_found")
    assert ticket["id"] not in await list_ids(platform, "staff-swj")


async def test_transfer_moves_visibility_to_the_new_department(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    assert (await get_ticket(platform, "staff-jxw", ticket["id"])).status_code == 200
    assert_problem(await get_ticket(platform, "staff-kjj", ticket["id"]), 404, "ticket_not_found")
    await act_ok(platform, "dispatcher", ticket["id"], "transfer")
    assert (await get_ticket(platform, "staff-kjj", ticket["id"])).status_code == 200
    assert_problem(await get_ticket(platform, "staff-jxw", ticket["id"]), 404, "ticket_not_found")
    assert_problem(await act(platform, "staff-jxw", ticket["id"], "accept"), 404, "ticket_not_found")
    assert ticket["id"] not in await list_ids(platform, "staff-jxw")
    assert (await act_ok(platform, "staff-kjj", ticket["id"], "accept"))["status"] == "accepted"


async def test_an_unrouted_ticket_is_invisible_to_every_department(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code=None)
    for username in ("staff-jxw", "staff-kjj", "staff-czj"):
        assert_problem(await get_ticket(platform, username, ticket["id"]), 404, "ticket_not_found")
        assert ticket["id"] not in await list_ids(platform, username)


# Full-view roles and integration clients


async def test_supervisor_dispatcher_and_admin_see_everything(platform: Platform) -> None:
    tickets = [
        await order_one(platform, "LS-001", "enterprise-1"),
        await order_one(platform, "KJ-001", "enterprise-2"),
        await dispatch_request(platform, department_code=None),
    ]
    for username in ("supervisor", "dispatcher", "admin"):
        listed = set(await list_ids(platform, username))
        for ticket in tickets:
            assert ticket["id"] in listed, username
            assert (await get_ticket(platform, username, ticket["id"])).status_code == 200
            assert len(await events(platform, ticket["id"], username)) == 1


async def test_supervisor_reads_but_does_not_handle(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform)
    for action in ("accept", "resolve", "transfer", "withdraw", "close"):
        body = assert_problem(await act(platform, "supervisor", ticket["id"], action), 403, "action_forbidden")
        assert body["action"] == action
    assert_problem(await rate(platform, "supervisor", ticket["id"], "satisfied"), 403)
    await _unchanged(session, ticket["id"], "submitted", 1)


@pytest.mark.parametrize("client_id", ["hotline-965808", "frontend-demo"])
async def test_integration_clients_cannot_read_tickets(platform: Platform, client_id: str) -> None:
    ticket = await order_one(platform)
    headers = await client_token(platform, client_id)
    assert_problem(await platform.client.get(f"{API}/tickets", headers=headers), 403)
    for suffix in ("", "/events", "/feedback"):
        assert_problem(await platform.client.get(f"{API}/tickets/{ticket['id']}{suffix}", headers=headers), 403)
    orders = await platform.client.post(f"{API}/orders", json={"items": [{"item_code": "LS-001"}]}, headers=headers)
    assert_problem(orders, 403)


async def test_a_forged_token_is_401(platform: Platform) -> None:
    ticket = await order_one(platform)
    token = (await platform.auth("enterprise-2"))["Authorization"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = await platform.client.get(f"{API}/tickets/{ticket['id']}", headers={"Authorization": forged})
    assert_problem(response, 401)

"""The inbox: who hears of each event, nobody twice, and nobody reads another's inbox."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.catalog_service.helpers import assert_problem
from tests.conftest import Platform
from tests.notification_service.helpers import API, inbox, post_events, relay, ticket_event
from tests.ticket_service.helpers import E1, E2, act_ok, dispatch_request

PEOPLE = ["enterprise-1", "enterprise-2", "staff-jxw", "staff-fgw", "staff-kjj", "supervisor", "admin", "dispatcher"]


async def _kinds(platform: Platform, ticket_id: str) -> dict[str, list[str]]:
    """Per person, the kinds of entries about `ticket_id`, oldest first."""
    found: dict[str, list[str]] = {}
    for username in PEOPLE:
        items = (await inbox(platform, username, limit=100))["items"]
        found[username] = [item["kind"] for item in reversed(items) if item["ticket_id"] == ticket_id]
    return found


async def test_a_ticket_life_reaches_the_enterprise_and_the_department(
    platform: Platform, session: AsyncSession
) -> None:
    ticket = await dispatch_request(platform, enterprise_id=E1, department_code="jxw")
    for step in ("accept", "start", "resolve"):
        await act_ok(platform, "staff-jxw", ticket["id"], step)
    await act_ok(platform, "enterprise-1", ticket["id"], "reopen", {"reason": "没有解决"})
    await relay(platform, session)
    kinds = await _kinds(platform, ticket["id"])
    assert kinds["enterprise-1"] == [
        "ticket.accepted",
        "ticket.resolved",
        "ticket.feedback_requested",
        "ticket.reopened",
    ]
    assert kinds["staff-jxw"] == ["ticket.created", "ticket.reopened"]
    for username in ("enterprise-2", "staff-fgw", "staff-kjj", "supervisor", "admin", "dispatcher"):
        assert kinds[username] == [], username


async def test_a_transfer_reaches_the_new_department(platform: Platform, session: AsyncSession) -> None:
    ticket = await dispatch_request(platform, enterprise_id=E2, department_code="jxw")
    await act_ok(platform, "staff-jxw", ticket["id"], "return", {"reason": "不属于本部门"})
    await act_ok(platform, "dispatcher", ticket["id"], "transfer", {"department_code": "fgw", "reason": "发改委办理"})
    await relay(platform, session)
    kinds = await _kinds(platform, ticket["id"])
    assert kinds["staff-fgw"] == ["ticket.transferred_in"]
    assert kinds["staff-jxw"] == ["ticket.created"]
    assert kinds["enterprise-2"] == []


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        ("ticket.due_soon", {}, {"staff-jxw": ["ticket.due_soon"]}),
        ("ticket.overdue", {}, {"staff-jxw": ["ticket.overdue"], "supervisor": ["ticket.overdue"]}),
        ("ticket.escalated", {"status": "escalated"}, {"supervisor": ["ticket.escalated"]}),
        (
            "ticket.joint_review_started",
            {"status": "joint_review", "co_department_codes": ["fgw", "kjj", "jxw"]},
            {"staff-fgw": ["ticket.joint_review_invitation"], "staff-kjj": ["ticket.joint_review_invitation"]},
        ),
        ("ticket.explained", {"status": "explained"}, {"enterprise-1": ["ticket.explained"]}),
        ("ticket.closed", {"status": "closed"}, {}),
        ("menu.published", {}, {}),
    ],
)
async def test_recipients_of_each_worker_and_side_event(
    platform: Platform, event_type: str, data: dict[str, Any], expected: dict[str, list[str]]
) -> None:
    ticket_id = str(uuid.uuid4())
    event = ticket_event(event_type, ticket_id=ticket_id, enterprise_id=E1, **data)
    await post_events(platform, event, event)
    await post_events(platform, event)
    kinds = await _kinds(platform, ticket_id)
    assert {user: found for user, found in kinds.items() if found} == expected


async def test_read_and_read_all_touch_only_the_caller(platform: Platform) -> None:
    ticket_id = str(uuid.uuid4())
    events = [ticket_event("ticket.overdue", ticket_id=ticket_id, version=n) for n in range(3)]
    await post_events(platform, *events)
    staff_before = await inbox(platform, "staff-jxw")
    supervisor_before = await inbox(platform, "supervisor")
    assert staff_before["unread"] >= 3 and supervisor_before["unread"] >= 3
    newest = staff_before["items"][0]
    assert newest["ticket_id"] == ticket_id and newest["read"] is False
    headers = await platform.auth("staff-jxw")
    read = await platform.client.post(f"{API}/inbox/{newest['id']}/read", headers=headers)
    assert read.status_code == 200 and read.json()["read"] is True
    again = await platform.client.post(f"{API}/inbox/{newest['id']}/read", headers=headers)
    assert again.status_code == 200
    assert (await inbox(platform, "staff-jxw"))["unread"] == staff_before["unread"] - 1
    assert (await inbox(platform, "supervisor"))["unread"] == supervisor_before["unread"]
    unread_only = await inbox(platform, "staff-jxw", unread="true", limit=100)
    assert newest["id"] not in {item["id"] for item in unread_only["items"]}
    done = await platform.client.post(f"{API}/inbox/read-all", headers=headers)
    assert done.json() == {"unread": 0}
    after = await inbox(platform, "staff-jxw")
    assert after["unread"] == 0 and all(item["read"] for item in after["items"])
    assert (await inbox(platform, "supervisor"))["unread"] == supervisor_before["unread"]
    later = ticket_event("ticket.due_soon", ticket_id=ticket_id, version=9)
    await post_events(platform, later)
    assert (await inbox(platform, "staff-jxw"))["unread"] == 1


async def test_nobody_reads_another_persons_entry(platform: Platform) -> None:
    ticket_id = str(uuid.uuid4())
    await post_events(platform, ticket_event("ticket.accepted", ticket_id=ticket_id, enterprise_id=E1))
    mine = (await inbox(platform, "enterprise-1"))["items"][0]
    assert mine["ticket_id"] == ticket_id
    for username in ("enterprise-2", "staff-jxw", "supervisor", "admin"):
        response = await platform.client.post(f"{API}/inbox/{mine['id']}/read", headers=await platform.auth(username))
        assert_problem(response, 404, "inbox_entry_not_found")
        assert mine["id"] not in {item["id"] for item in (await inbox(platform, username, limit=100))["items"]}
    assert (await inbox(platform, "enterprise-1"))["items"][0]["read"] is False
    assert_problem(await platform.client.get(f"{API}/inbox"), 401)
    for bad in ("abc", "99999999999"):
        response = await platform.client.post(f"{API}/inbox/{bad}/read", headers=await platform.auth("enterprise-1"))
        assert_problem(response, 404)


async def test_inbox_pages_newest_first(platform: Platform) -> None:
    ticket_id = str(uuid.uuid4())
    events = [ticket_event("ticket.due_soon", ticket_id=ticket_id, version=n) for n in range(5)]
    for event in events:
        await post_events(platform, event)
    headers = await platform.auth("staff-jxw")
    ids: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await platform.client.get(f"{API}/inbox", params=params, headers=headers)).json()
        ids += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(ids) == len(set(ids)) == 5
    assert [int(i) for i in ids] == sorted((int(i) for i in ids), reverse=True)

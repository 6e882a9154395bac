"""Orders, requests and tickets through the gateway: the happy path, input checks, lists."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from catalog_service.seed_data import ITEMS
from services.db import writes_in_one_statement
from tests.catalog_service.helpers import item_payload
from tests.conftest import Platform
from tests.ticket_service.helpers import (
    API,
    E1,
    E2,
    NUMBER_PATTERN,
    act,
    act_ok,
    arrange,
    assert_locs,
    assert_problem,
    assert_validation,
    count,
    deadlines_for,
    dispatch_request,
    events,
    file_request,
    get_ticket,
    iso,
    list_ids,
    order,
    order_one,
    outbox_rows,
    rate,
    reload,
    utc,
    verify_chain,
    walk,
)
from ticket_service import lifecycle
from ticket_service.lifecycle import Actor, TicketFacts
from ticket_service.models import Order, OutboxEvent, Ticket, TicketNumber
from ticket_service.numbers import TicketNumbers

SHANGHAI = ZoneInfo("Asia/Shanghai")
ITEM_KEYS = {"code", "title", "category_code", "lead_department_code", "co_department_codes", "sla_profile"}


# The happy path


async def test_order_two_items_handle_and_rate_them(platform: Platform, session: AsyncSession) -> None:
    response = await order(platform, "enterprise-1", "LS-001", "KJ-001", notes=["节能改造补贴申请", "高企认定辅导"])
    assert response.status_code == 201, response.text
    placed = response.json()
    assert placed["enterprise_id"] == E1
    green, tech = placed["tickets"]

    # Each item became one ticket for its lead department, with the item's snapshot.
    expected_items = {
        "LS-001": ("绿色节能技术改造补贴", "green-energy", "jxw", ["fgw", "czj"]),
        "KJ-001": ("高新技术企业认定辅导", "tech-innovation", "kjj", ["swuj", "czj"]),
    }
    numbers = set()
    for ticket, code, note in ((green, "LS-001", "节能改造补贴申请"), (tech, "KJ-001", "高企认定辅导")):
        title, category, lead, co = expected_items[code]
        assert ticket["item_code"] == code
        assert set(ticket["item"]) == ITEM_KEYS
        assert ticket["item"] == {
            "code": code,
            "title": title,
            "category_code": category,
            "lead_department_code": lead,
            "co_department_codes": co,
            "sla_profile": "1-3-5",
        }
        assert (ticket["kind"], ticket["channel"], ticket["status"]) == ("order", "web", "submitted")
        assert (ticket["enterprise_id"], ticket["order_id"]) == (E1, placed["id"])
        assert (ticket["department_code"], ticket["title"], ticket["description"]) == (lead, title, note)
        assert ticket["version"] == 1
        assert ticket["allowed_actions"] == ["withdraw"]
        assert ticket["overdue"] == []
        assert re.fullmatch(NUMBER_PATTERN, ticket["number"]), ticket["number"]
        created_local = utc(ticket["created_at"]).astimezone(SHANGHAI)
        assert ticket["number"][1:9] == f"{created_local:%Y%m%d}"
        numbers.add(ticket["number"])
        # Deadlines: the calendar's for the moment of receipt, in order.
        due = await deadlines_for(platform, ticket["received_at"], "1-3-5")
        for key in ("accept_due", "resolve_due", "final_due", "provisional"):
            assert ticket[key] == due[key], key
        assert utc(ticket["received_at"]) < utc(ticket["accept_due"]) < utc(ticket["resolve_due"])
        assert utc(ticket["resolve_due"]) < utc(ticket["final_due"])
    assert len(numbers) == 2
    assert await count(session, Order, Order.id == placed["id"]) == 1

    # Staff of each department accept (If-Match), start and resolve.
    for ticket in (green, tech):
        staff = f"staff-{ticket['department_code']}"
        seen = await get_ticket(platform, staff, ticket["id"])
        assert seen.headers["etag"] == '"1"'
        assert {"accept", "return"} <= set(seen.json()["allowed_actions"])
        accepted = await act_ok(platform, staff, ticket["id"], "accept", {"note": "已受理"}, if_match='"1"')
        assert (accepted["status"], accepted["version"], accepted["reply"]) == ("accepted", 2, "已受理")
        assert accepted["accepted_at"] is not None
        started = await act_ok(platform, staff, ticket["id"], "start", {}, if_match="2")
        assert (started["status"], started["version"]) == ("in_progress", 3)
        resolved = await act_ok(platform, staff, ticket["id"], "resolve", {"result": "已办结"}, if_match='W/"3"')
        assert (resolved["status"], resolved["version"], resolved["result"]) == ("resolved", 4, "已办结")
        assert resolved["resolved_at"] is not None
        owner_view = (await get_ticket(platform, "enterprise-1", ticket["id"])).json()
        assert owner_view["allowed_actions"] == ["close", "reopen"]

    # Satisfied: stays resolved.
    satisfied = await rate(platform, "enterprise-1", green["id"], "satisfied", "很满意")
    assert satisfied.status_code == 201, satisfied.text
    assert satisfied.json()["rating"] == "satisfied"
    assert satisfied.json()["resolution_round"] == 1
    assert (await get_ticket(platform, "enterprise-1", green["id"])).json()["status"] == "resolved"

    # Unsatisfied: reopened for the same department with fresh deadlines from the reopen time.
    # Receipt is moved a fortnight back first, so that "fresh" is distinguishable from "kept".
    row = await reload(session, tech["id"])
    for field in ("received_at", "accept_due", "resolve_due", "final_due"):
        setattr(row, field, getattr(row, field) - timedelta(days=14))
    await session.flush()
    old = {field: getattr(row, field) for field in ("accept_due", "resolve_due", "final_due")}
    unsatisfied = await rate(platform, "enterprise-1", tech["id"], "unsatisfied", "材料退回理由不清")
    assert unsatisfied.status_code == 201, unsatisfied.text
    reopened = (await get_ticket(platform, "enterprise-1", tech["id"])).json()
    assert (reopened["status"], reopened["department_code"]) == ("submitted", "kjj")
    assert reopened["accepted_at"] is None and reopened["resolved_at"] is None
    for field, before in old.items():
        assert utc(reopened[field]) > before, field
    trail = await events(platform, tech["id"])
    reopen_event = trail[-1]
    fresh = await deadlines_for(platform, reopen_event["at"], "1-3-5")
    assert [reopened[f] for f in old] == [fresh[f] for f in old]

    # The audit trail shows every step, in order, with who did it.
    steps = [(e["seq"], e["action"], e["actor"], e["role"], e["from_status"], e["to_status"]) for e in trail]
    assert steps == [
        (1, "create", "enterprise-1", "enterprise", None, "submitted"),
        (2, "accept", "staff-kjj", "staff", "submitted", "accepted"),
        (3, "start", "staff-kjj", "staff", "accepted", "in_progress"),
        (4, "resolve", "staff-kjj", "staff", "in_progress", "resolved"),
        (5, "feedback", "enterprise-1", "enterprise", "resolved", "resolved"),
        (6, "reopen", "enterprise-1", "enterprise", "resolved", "submitted"),
    ]
    assert trail[0]["note"] == "高企认定辅导"
    assert trail[1]["note"] == "已受理"
    assert trail[3]["note"] == "已办结"
    assert trail[4]["changes"] == {"rating": [None, "unsatisfied"]}
    assert trail[1]["changes"]["status"] == ["submitted", "accepted"]
    green_trail = await events(platform, green["id"], "enterprise-1")
    assert [e["action"] for e in green_trail] == ["create", "accept", "start", "resolve", "feedback"]
    assert green_trail[-1]["actor"] == "enterprise-1"
    for ticket in (green, tech):
        verification = await verify_chain(platform, ticket["id"])
        assert verification["ok"] is True
        assert verification["first_broken_seq"] is None


async def test_the_snapshot_does_not_follow_later_catalogue_edits(platform: Platform) -> None:
    ticket = await order_one(platform, "LS-001")
    edit = {"title": "绿色节能技术改造补贴（2017版）", "lead_department_code": "kjj", "sla_profile": "1-5-10"}
    response = await platform.client.patch(f"{API}/items/LS-001", json=edit, headers=await platform.auth("admin"))
    assert response.status_code == 200, response.text
    current = (await get_ticket(platform, "enterprise-1", ticket["id"])).json()
    assert current["item"] == ticket["item"]
    assert (current["title"], current["department_code"], current["sla_profile"]) == (
        "绿色节能技术改造补贴",
        "jxw",
        "1-3-5",
    )
    # A new order takes the new version.
    again = await order_one(platform, "LS-001")
    assert (again["item"]["title"], again["department_code"], again["sla_profile"]) == (edit["title"], "kjj", "1-5-10")


@pytest.mark.parametrize(("code", "profile"), [("JG-001", "1-2-5"), ("LS-003", "1-5-10"), ("KJ-001", "1-3-5")])
async def test_deadlines_follow_the_items_sla_profile(platform: Platform, code: str, profile: str) -> None:
    ticket = await order_one(platform, code)
    assert ticket["sla_profile"] == ticket["item"]["sla_profile"] == profile
    due = await deadlines_for(platform, ticket["received_at"], profile)
    assert [ticket[k] for k in ("accept_due", "resolve_due", "final_due")] == [
        due[k] for k in ("accept_due", "resolve_due", "final_due")
    ]


async def test_an_order_of_twenty_lines_is_accepted(platform: Platform, session: AsyncSession) -> None:
    codes = [item.code for item in ITEMS if "small" in item.eligible_sizes][:20]
    assert len(codes) == 20
    response = await order(platform, "enterprise-1", *codes)
    assert response.status_code == 201, response.text
    tickets = response.json()["tickets"]
    assert [t["item_code"] for t in tickets] == codes
    assert len({t["number"] for t in tickets}) == 20
    assert await count(session, Ticket, Ticket.order_id == response.json()["id"]) == 20


async def test_ticket_numbers_are_unique_and_increasing(platform: Platform) -> None:
    response = await order(platform, "enterprise-1", "LS-001", "KJ-001", "JG-002")
    numbers = [t["number"] for t in response.json()["tickets"]]
    more = [(await dispatch_request(platform))["number"] for _ in range(2)]
    all_numbers = numbers + more
    assert len(set(all_numbers)) == 5
    assert all(re.fullmatch(NUMBER_PATTERN, n) for n in all_numbers)
    assert [int(n[9:]) for n in all_numbers] == sorted(int(n[9:]) for n in all_numbers)


async def test_numbers_are_reserved_ahead_only_where_none_is_ever_handed_out_twice(
    connection: AsyncConnection,
) -> None:
    """PostgreSQL's sequence never reissues a number, so a batch is reserved ahead and most
    creations spend no statement on theirs; SQLite's rowid would (after a rollback), so there
    each creation takes its own, in its own transaction."""
    numbers = TicketNumbers(reserve_ahead=writes_in_one_statement(connection), batch=5)

    async def reserved() -> int:
        return int((await connection.execute(select(func.count()).select_from(TicketNumber))).scalar_one())

    before = await reserved()
    first = await numbers.take(connection, 2)
    after_first = await reserved()
    second = await numbers.take(connection, 2)
    after_second = await reserved()
    third = await numbers.take(connection, 4)
    taken = first + second + third
    assert len(set(taken)) == 8
    assert taken == sorted(taken)
    if writes_in_one_statement(connection):
        assert (after_first - before, after_second - after_first, await reserved() - after_second) == (5, 0, 5)
    else:
        assert (after_first - before, after_second - after_first, await reserved() - after_second) == (2, 2, 4)


async def test_enterprise_files_a_request(platform: Platform, session: AsyncSession) -> None:
    response = await file_request(platform, "enterprise-1", category_code="power-energy", channel="onsite")
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert response.headers["etag"] == '"1"'
    assert (ticket["kind"], ticket["channel"], ticket["enterprise_id"]) == ("request", "onsite", E1)
    assert (ticket["department_code"], ticket["item"], ticket["item_code"]) == (None, None, None)
    assert ticket["category_code"] == "power-energy"
    assert abs(utc(ticket["received_at"]) - datetime.now(UTC)) < timedelta(minutes=1)
    stored = await session.get(Ticket, ticket["id"])
    assert stored is not None and stored.created_by == "enterprise-1"
    assert [row.event_type for row in await outbox_rows(session, ticket["id"])] == ["ticket.created"]
    created = (await events(platform, ticket["id"]))[0]
    assert set(created["changes"]) == {"status", "department_code"}  # received now: nothing to record


async def test_dispatcher_records_a_visit_received_days_ago(platform: Platform) -> None:
    received = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    ticket = await dispatch_request(platform, department_code="kjj", received_at=received.isoformat())
    assert utc(ticket["received_at"]) == received
    assert (ticket["kind"], ticket["channel"], ticket["department_code"]) == ("request", "visit", "kjj")
    due = await deadlines_for(platform, ticket["received_at"])
    assert (ticket["accept_due"], ticket["resolve_due"], ticket["final_due"]) == (
        due["accept_due"],
        due["resolve_due"],
        due["final_due"],
    )
    created = (await events(platform, ticket["id"]))[0]
    assert (created["action"], created["actor"], created["role"]) == ("create", "dispatcher", "dispatcher")
    old, new = created["changes"]["received_at"]
    assert old is None and utc(new) == received
    assert created["changes"]["department_code"] == [None, "kjj"]


async def test_dispatcher_files_into_the_dispatch_queue(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code=None)
    assert ticket["department_code"] is None
    moved = await act_ok(platform, "dispatcher", ticket["id"], "transfer", {"department_code": "kjj", "reason": "x"})
    assert (moved["status"], moved["department_code"]) == ("submitted", "kjj")
    assert moved["accept_due"] == ticket["accept_due"]


# Life-cycle behaviour the matrix does not show


async def test_return_and_transfer_keep_the_deadlines(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    returned = await act_ok(platform, "staff-jxw", ticket["id"], "return", {"reason": "不属本部门"})
    assert (returned["status"], returned["department_code"]) == ("returned", None)
    assert_problem(await get_ticket(platform, "staff-jxw", ticket["id"]), 404, "ticket_not_found")
    assert ticket["id"] in await list_ids(platform, "dispatcher", status="returned")
    transferred = await act_ok(
        platform, "dispatcher", ticket["id"], "transfer", {"department_code": "kjj", "reason": "科技局职责"}
    )
    assert (transferred["status"], transferred["department_code"]) == ("submitted", "kjj")
    for field in ("received_at", "accept_due", "resolve_due", "final_due"):
        assert transferred[field] == ticket[field], field
    trail = await events(platform, ticket["id"])
    assert [e["action"] for e in trail] == ["create", "return", "transfer"]
    assert trail[1]["note"] == "不属本部门"
    assert trail[2]["changes"]["department_code"] == [None, "kjj"]
    assert (await get_ticket(platform, "staff-kjj", ticket["id"])).status_code == 200


async def test_transfer_to_the_same_or_an_unknown_department_is_422(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    same = await act(platform, "dispatcher", ticket["id"], "transfer", {"department_code": "jxw", "reason": "x"})
    assert_locs(assert_problem(same, 422), "department_code")
    unknown = await act(platform, "dispatcher", ticket["id"], "transfer", {"department_code": "nosuch", "reason": "x"})
    assert_locs(assert_problem(unknown, 422), "department_code")
    assert (await get_ticket(platform, "dispatcher", ticket["id"])).json()["version"] == 1


async def test_pause_and_resume_move_the_deadlines_by_the_pause(platform: Platform, session: AsyncSession) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    await act_ok(platform, "staff-jxw", ticket["id"], "accept")
    paused = await act_ok(platform, "staff-jxw", ticket["id"], "request-info", {"note": "请补充材料"})
    assert paused["status"] == "paused" and paused["paused_at"] is not None
    # The enterprise took a fortnight: move the pause's start back.
    await arrange(
        session,
        ticket["id"],
        status="paused",
        co_department_codes=(),
        paused_from="accepted",
        paused_at=utc(paused["paused_at"]) - timedelta(days=14),
    )
    resumed = await act_ok(platform, "enterprise-1", ticket["id"], "resume", {})
    assert (resumed["status"], resumed["paused_at"]) == ("accepted", None)
    for field in ("accept_due", "resolve_due", "final_due"):
        assert utc(resumed[field]) > utc(paused[field]), field


async def test_joint_review_adds_co_departments(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    await act_ok(platform, "staff-jxw", ticket["id"], "accept")
    for codes, problem in ((["jxw"], "invalid_field"), (["nosuch"], "unknown_reference")):
        body = {"co_department_codes": codes, "note": "x"}
        refused = await act(platform, "staff-jxw", ticket["id"], "request-joint-review", body)
        assert_locs(assert_problem(refused, 422, problem), "co_department_codes")
    assert (await get_ticket(platform, "staff-jxw", ticket["id"])).json()["status"] == "accepted"
    review = await act_ok(
        platform,
        "staff-jxw",
        ticket["id"],
        "request-joint-review",
        {"co_department_codes": ["czj", "jxw"], "note": "需财政局会办"},
    )
    # The lead is not its own co-department.
    assert (review["status"], review["co_department_codes"]) == ("joint_review", ["czj"])
    assert (await events(platform, ticket["id"]))[-1]["changes"]["co_department_codes"] == [[], ["czj"]]


# Input validation


@pytest.mark.parametrize(
    "path", ["/orders", "/tickets", "/tickets/{id}/accept", "/tickets/{id}/feedback", "/enterprises"]
)
async def test_malformed_json_is_400(platform: Platform, path: str) -> None:
    ticket = await order_one(platform)
    user = "dispatcher" if path == "/enterprises" else "enterprise-1"
    headers = {**await platform.auth(user), "content-type": "application/json"}
    for raw in (b'{"items": [', b"not json", b'{"title": "x",}'):
        response = await platform.client.post(f"{API}{path.format(id=ticket['id'])}", content=raw, headers=headers)
        assert_problem(response, 400, "malformed_json")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "题" * 201}, "title"),
        ({"description": "述" * 8001}, "description"),
        ({"title": "   "}, "title"),
        ({"description": ""}, "description"),
        ({"priority": "high"}, "priority"),
        ({"channel": "hotline"}, "channel"),
        ({"channel": "fax"}, "channel"),
        ({"category_code": "Not A Code"}, "category_code"),
    ],
)
async def test_bad_request_bodies_are_422(
    platform: Platform, session: AsyncSession, overrides: dict[str, object], field: str
) -> None:
    before = await count(session, Ticket)
    response = await file_request(platform, "enterprise-1", **overrides)
    assert_validation(response, field)
    assert await count(session, Ticket) == before


async def test_largest_allowed_title_and_description_are_accepted(platform: Platform) -> None:
    response = await file_request(platform, "enterprise-1", title="题" * 200, description="述" * 8000)
    assert response.status_code == 201, response.text
    assert len(response.json()["description"]) == 8000


async def test_unknown_category_is_422(platform: Platform) -> None:
    response = await file_request(platform, "enterprise-1", category_code="no-such-category")
    assert_locs(assert_problem(response, 422, "unknown_reference"), "category_code")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"items": []}, "items"),
        ({}, "items"),
        ({"items": [{"item_code": f"LS-00{i % 7 + 1}"} for i in range(21)]}, "items"),
        ({"items": [{"item_code": "LS-001", "note": "x", "quantity": 2}]}, "items.0.quantity"),
        ({"items": [{"item_code": "LS-001"}], "rush": True}, "rush"),
        ({"items": [{"item_code": "ls-001"}]}, "items.0.item_code"),
        ({"items": [{"item_code": "LS-001", "note": "n" * 2001}]}, "items.0.note"),
        ({"items": "LS-001"}, "items"),
    ],
)
async def test_bad_orders_are_422(
    platform: Platform, session: AsyncSession, payload: dict[str, object], field: str
) -> None:
    response = await platform.client.post(f"{API}/orders", json=payload, headers=await platform.auth("enterprise-1"))
    assert_validation(response, field)
    assert await count(session, Order) == 0


async def test_duplicate_item_in_one_order_is_422(platform: Platform, session: AsyncSession) -> None:
    response = await order(platform, "enterprise-1", "LS-001", "KJ-001", "LS-001")
    body = assert_problem(response, 422, "duplicate_item")
    assert_locs(body, "items")
    assert await count(session, Ticket) == 0


async def test_unknown_item_is_422_naming_it(platform: Platform, session: AsyncSession) -> None:
    response = await order(platform, "enterprise-1", "LS-001", "ZZ-999")
    body = assert_problem(response, 422, "item_unavailable")
    assert body["item_code"] == "ZZ-999"
    assert body["errors"][0]["msg"] == "it is not a published item"
    assert "ZZ-999" in body["detail"]
    assert_locs(body, "items.ZZ-999")
    assert await count(session, Ticket) == 0
    assert await count(session, Order) == 0


async def test_item_for_small_firms_ordered_by_a_large_one_writes_nothing(
    platform: Platform, session: AsyncSession
) -> None:
    before = (await count(session, Ticket), await count(session, Order), await count(session, OutboxEvent))
    # LS-001 alone would be fine: one bad line rejects the whole order.
    response = await order(platform, "enterprise-2", "LS-001", "KJ-007")
    body = assert_problem(response, 422, "item_not_eligible")
    assert body["item_code"] == "KJ-007"
    assert "KJ-007" in body["detail"]
    after = (await count(session, Ticket), await count(session, Order), await count(session, OutboxEvent))
    assert after == before
    assert await count(session, Ticket, Ticket.enterprise_id == E2) == 0
    # The small enterprise may order it.
    assert (await order(platform, "enterprise-1", "KJ-007")).status_code == 201


async def test_item_for_large_firms_is_refused_to_a_small_one(platform: Platform) -> None:
    assert_problem(await order(platform, "enterprise-1", "JG-003"), 422, "item_not_eligible")
    assert (await order(platform, "enterprise-2", "JG-003")).status_code == 201


async def test_withdrawn_item_cannot_be_ordered(platform: Platform, session: AsyncSession) -> None:
    withdrawn = await platform.client.post(f"{API}/items/LS-002/withdraw", headers=await platform.auth("admin"))
    assert withdrawn.status_code == 200, withdrawn.text
    response = await order(platform, "enterprise-1", "LS-001", "LS-002")
    body = assert_problem(response, 422, "item_unavailable")
    assert body["item_code"] == "LS-002"
    assert body["errors"][0]["msg"] == "it is not a published item"
    assert await count(session, Ticket) == 0


async def test_published_item_not_on_the_current_menu_cannot_be_ordered(
    platform: Platform, session: AsyncSession
) -> None:
    admin = await platform.auth("admin")
    item = item_payload(lead_department_code="kjj", co_department_codes=[], eligible_sizes=["small"])
    created = await platform.client.post(f"{API}/items", json=item, headers=admin)
    assert created.status_code == 201, created.text
    published = await platform.client.post(f"{API}/items/{item['code']}/publish", headers=admin)
    assert published.status_code == 200, published.text
    response = await order(platform, "enterprise-1", item["code"])
    body = assert_problem(response, 422, "item_unavailable")
    assert body["item_code"] == item["code"]
    assert body["errors"][0]["msg"] == "it is not on the current menu"
    assert await count(session, Order) == 0


async def test_a_body_over_the_gateway_limit_is_413(platform: Platform, session: AsyncSession) -> None:
    response = await file_request(platform, "enterprise-1", description="述" * 400_000)
    assert_problem(response, 413)
    assert await count(session, Ticket) == 0


@pytest.mark.parametrize("username", ["dispatcher", "staff-jxw", "supervisor", "admin"])
async def test_only_enterprises_order(platform: Platform, session: AsyncSession, username: str) -> None:
    assert_problem(await order(platform, username, "LS-001"), 403, "role_not_allowed")
    assert await count(session, Order) == 0


async def test_stale_if_match_is_412(platform: Platform) -> None:
    ticket = await order_one(platform)
    await act_ok(platform, "staff-jxw", ticket["id"], "accept", if_match="1")
    stale = await act(platform, "staff-jxw", ticket["id"], "start", {}, if_match="1")
    body = assert_problem(stale, 412, "version_mismatch")
    assert body["current_version"] == 2
    current = (await get_ticket(platform, "staff-jxw", ticket["id"])).json()
    assert (current["status"], current["version"]) == ("accepted", 2)
    assert [e["action"] for e in await events(platform, ticket["id"])] == ["create", "accept"]


@pytest.mark.parametrize("value", ["abc", '"v1"', "-1", "1.5", "1, 2"])
async def test_garbage_if_match_is_422(platform: Platform, value: str) -> None:
    ticket = await order_one(platform)
    response = await act(platform, "staff-jxw", ticket["id"], "accept", if_match=value)
    body = assert_problem(response, 422, "invalid_if_match")
    assert_locs(body, "If-Match")
    assert (await get_ticket(platform, "staff-jxw", ticket["id"])).json()["version"] == 1


async def test_an_if_match_of_non_ascii_digits_is_422_not_500(platform: Platform) -> None:
    """`str.isdigit()` holds for a superscript two (latin-1 0xB2), which `int()` refuses."""
    ticket = await order_one(platform)
    headers = {**await platform.auth("staff-jxw"), "If-Match": b"\xb2"}
    response = await platform.client.post(
        f"/api/v1/tickets/{ticket['id']}/accept", json={"note": "已受理"}, headers=headers
    )
    assert_locs(assert_problem(response, 422, "invalid_if_match"), "If-Match")
    assert (await get_ticket(platform, "staff-jxw", ticket["id"])).json()["version"] == 1


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("accept", {}, "note"),
        ("accept", {"note": "  "}, "note"),
        ("resolve", {}, "result"),
        ("explain", {"explanation": ""}, "explanation"),
        ("request-joint-review", {"note": "x"}, "co_department_codes"),
        ("request-joint-review", {"co_department_codes": [], "note": "x"}, "co_department_codes"),
        ("transfer", {"reason": "x"}, "department_code"),
        ("return", {}, "reason"),
        ("reopen", {"reason": ""}, "reason"),
        ("start", {"note": "extra"}, "note"),
        ("accept", {"note": "x" * 4001}, "note"),
    ],
)
async def test_bad_action_bodies_are_422(platform: Platform, action: str, body: dict[str, object], field: str) -> None:
    ticket = await order_one(platform)
    assert_validation(await act(platform, "staff-jxw", ticket["id"], action, body), field)
    assert (await get_ticket(platform, "staff-jxw", ticket["id"])).json()["version"] == 1


async def test_received_at_bounds_for_dispatchers(platform: Platform, session: AsyncSession) -> None:
    now = datetime.now(UTC)
    for instant, ok in (
        (now + timedelta(hours=1), False),
        (now - timedelta(days=31), False),
        (now - timedelta(days=29), True),
    ):
        response = await file_request(
            platform, "dispatcher", enterprise_id=E1, received_at=instant.isoformat(), channel="visit"
        )
        if ok:
            assert response.status_code == 201, response.text
            assert utc(response.json()["received_at"]) == instant
        else:
            assert_locs(assert_problem(response, 422), "received_at")
    naive = await file_request(platform, "dispatcher", enterprise_id=E1, received_at="2026-01-05T10:00:00")
    assert_locs(assert_problem(naive, 422), "received_at")
    assert await count(session, Ticket) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"received_at": "2026-01-05T10:00:00+08:00"}, "received_at"),
        ({"department_code": "jxw"}, "department_code"),
        ({"enterprise_id": E2}, "enterprise_id"),
    ],
)
async def test_enterprise_cannot_set_dispatcher_fields(
    platform: Platform, session: AsyncSession, overrides: dict[str, str], field: str
) -> None:
    response = await file_request(platform, "enterprise-1", **overrides)
    assert_locs(assert_problem(response, 422), field)
    assert await count(session, Ticket) == 0


async def test_dispatcher_must_name_a_real_enterprise(platform: Platform, session: AsyncSession) -> None:
    assert_locs(assert_problem(await file_request(platform, "dispatcher"), 422), "enterprise_id")
    unknown = await file_request(platform, "dispatcher", enterprise_id="00000000-0000-0000-0000-000000000000")
    assert_locs(assert_problem(unknown, 422), "enterprise_id")
    nowhere = await file_request(platform, "dispatcher", enterprise_id=E1, department_code="nosuch")
    assert_locs(assert_problem(nowhere, 422, "unknown_reference"), "department_code")
    assert await count(session, Ticket) == 0


@pytest.mark.parametrize("username", ["staff-jxw", "supervisor", "admin"])
async def test_only_enterprises_and_dispatchers_file_requests(platform: Platform, username: str) -> None:
    assert_problem(await file_request(platform, username, enterprise_id=E1), 403, "role_not_allowed")


async def test_anonymous_gets_401(platform: Platform) -> None:
    ticket = await order_one(platform)
    assert_problem(await platform.client.get(f"{API}/tickets"), 401)
    assert_problem(await platform.client.get(f"{API}/tickets/{ticket['id']}"), 401)
    assert_problem(await platform.client.post(f"{API}/tickets/{ticket['id']}/accept", json={"note": "x"}), 401)
    assert_problem(await platform.client.post(f"{API}/orders", json={"items": [{"item_code": "LS-001"}]}), 401)


async def test_unknown_ticket_is_404(platform: Platform) -> None:
    assert_problem(await get_ticket(platform, "admin", "no-such-ticket"), 404, "ticket_not_found")
    missing = await act(platform, "dispatcher", "no-such-ticket", "close", {})
    assert_problem(missing, 404, "ticket_not_found")


# Lists


async def _list_fixture(platform: Platform, session: AsyncSession) -> dict[str, dict[str, object]]:
    """Tickets that differ in every filtered attribute."""
    tickets: dict[str, dict[str, object]] = {}
    tickets["order"] = await order_one(platform, "LS-001")
    tickets["visit"] = await dispatch_request(
        platform,
        department_code="kjj",
        title="来访：厂房租金补贴 zebra",
        received_at=(datetime.now(UTC) - timedelta(days=20)).isoformat(),
    )
    tickets["other"] = (await file_request(platform, "enterprise-2", title="其他企业的诉求", channel="onsite")).json()
    tickets["accepted"] = await order_one(platform, "KJ-001")
    await act_ok(platform, "staff-kjj", str(tickets["accepted"]["id"]), "accept")
    await arrange(
        session,
        str(tickets["order"]["id"]),
        status="submitted",
        co_department_codes=("fgw", "czj"),
        is_overdue=True,
        overdue=["accept"],
    )
    return tickets


async def test_list_filters(platform: Platform, session: AsyncSession) -> None:
    t = await _list_fixture(platform, session)
    ids = {key: str(value["id"]) for key, value in t.items()}

    async def shown(**params: object) -> set[str]:
        return set(await list_ids(platform, "dispatcher", **params)) & set(ids.values())

    assert await shown() == set(ids.values())
    assert await shown(status="accepted") == {ids["accepted"]}
    assert await shown(status="submitted") == {ids["order"], ids["visit"], ids["other"]}
    assert await shown(department_code="kjj") == {ids["visit"], ids["accepted"]}
    assert await shown(department_code="jxw") == {ids["order"]}
    assert await shown(enterprise_id=E2) == {ids["other"]}
    assert await shown(enterprise_id=E1) == {ids["order"], ids["visit"], ids["accepted"]}
    assert await shown(channel="visit") == {ids["visit"]}
    assert await shown(channel="onsite") == {ids["other"]}
    assert await shown(kind="order") == {ids["order"], ids["accepted"]}
    assert await shown(kind="request") == {ids["visit"], ids["other"]}
    assert await shown(overdue="true") == {ids["order"]}
    assert ids["order"] not in await shown(overdue="false")
    assert await shown(q="zebra") == {ids["visit"]}
    assert await shown(q="ZEBRA") == {ids["visit"]}
    assert await shown(q="其他企业") == {ids["other"]}
    assert await shown(q=str(t["accepted"]["number"])) == {ids["accepted"]}
    assert await shown(q="no such words anywhere") == set()
    # LIKE wildcards are matched literally.
    assert await shown(q="%") == set()
    assert await shown(q="_") == set()
    # Received between: the visit is twenty days old, the rest are from now.
    five_days_ago = iso(datetime.now(UTC) - timedelta(days=5))
    assert await shown(received_to=five_days_ago) == {ids["visit"]}
    assert await shown(received_from=five_days_ago) == set(ids.values()) - {ids["visit"]}
    visit_received = str(t["visit"]["received_at"])
    assert await shown(received_from=visit_received, received_to=five_days_ago) == {ids["visit"]}
    # Due before: the visit's resolve deadline is long past.
    assert await shown(due_before=iso(datetime.now(UTC))) == {ids["visit"]}
    everything = await shown(due_before=iso(datetime.now(UTC) + timedelta(days=60)))
    assert everything == set(ids.values())
    # Filters combine.
    assert await shown(enterprise_id=E1, kind="order", status="submitted") == {ids["order"]}
    # Every row a filter returns satisfies it, not only ours.
    rows, _ = await walk(platform.client, "/tickets", headers=await platform.auth("dispatcher"), status="submitted")
    assert rows and all(row["status"] == "submitted" for row in rows)


async def test_staff_list_shows_own_and_co_handled_tickets(platform: Platform, session: AsyncSession) -> None:
    t = await _list_fixture(platform, session)
    kjj = set(await list_ids(platform, "staff-kjj"))
    assert {str(t["visit"]["id"]), str(t["accepted"]["id"])} <= kjj
    assert str(t["order"]["id"]) not in kjj
    fgw = set(await list_ids(platform, "staff-fgw"))
    assert str(t["order"]["id"]) in fgw  # fgw co-handles LS-001
    assert str(t["visit"]["id"]) not in fgw


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "open"),
        ("channel", "fax"),
        ("kind", "complaint"),
        ("received_from", "last week"),
        ("due_before", "2026-13-01"),
        ("limit", "0"),
        ("limit", "101"),
        ("department_code", "JXW!"),
        ("overdue", "maybe"),
        ("q", "q" * 101),
    ],
)
async def test_bad_list_queries_are_422(platform: Platform, param: str, value: str) -> None:
    response = await platform.client.get(
        f"{API}/tickets", params={param: value}, headers=await platform.auth("dispatcher")
    )
    assert_validation(response, param, where="query")


@pytest.mark.parametrize("param", ["received_from", "received_to", "due_before"])
async def test_list_instants_without_offset_are_422(platform: Platform, param: str) -> None:
    """RFC 3339 instants carry an offset (DESIGN §5); a bare local time is ambiguous."""
    await order_one(platform)
    response = await platform.client.get(
        f"{API}/tickets", params={param: "2026-01-05T10:00:00"}, headers=await platform.auth("dispatcher")
    )
    assert_locs(assert_problem(response, 422), param, where="query")


async def test_cursor_pagination_walks_everything_once(platform: Platform, session: AsyncSession) -> None:
    # Two orders of several items: tickets of one order share their receipt instant.
    first = await order(platform, "enterprise-1", "LS-001", "KJ-001", "JG-002", "LS-002")
    second = await order(platform, "enterprise-1", "KJ-003", "JG-005", "DL-002")
    backdated = await dispatch_request(platform, received_at=(datetime.now(UTC) - timedelta(days=2)).isoformat())
    expected = {t["id"] for t in first.json()["tickets"] + second.json()["tickets"]} | {backdated["id"]}
    assert len(expected) == 8
    for username in ("enterprise-1", "dispatcher"):
        for limit in (1, 3, 100):
            rows, pages = await walk(
                platform.client, "/tickets", headers=await platform.auth(username), limit=limit, enterprise_id=E1
            )
            walked = [row["id"] for row in rows]
            assert len(walked) == len(set(walked)), "a ticket appeared twice"
            assert set(walked) == expected
            keys = [(utc(row["received_at"]), row["id"]) for row in rows]
            assert keys == sorted(keys, reverse=True), "newest first, then by id"
            if limit == 1:
                assert pages >= 8
            assert walked[-1] == backdated["id"]


def _cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("garbage!!", id="not-base64"),
        pytest.param("%%%", id="symbols"),
        pytest.param(_cursor([1]), id="wrong-arity"),
        pytest.param(_cursor(["yesterday", "x"]), id="not-an-instant"),
        pytest.param(_cursor([{"a": 1}, "x"]), id="object"),
        pytest.param(_cursor(["2026-01-01T00:00:00", "x"]), id="instant-without-offset"),
    ],
)
async def test_garbage_cursor_is_400(platform: Platform, cursor: str) -> None:
    await order_one(platform)
    response = await platform.client.get(
        f"{API}/tickets", params={"cursor": cursor}, headers=await platform.auth("dispatcher")
    )
    assert_problem(response, 400, "invalid_cursor")


async def test_allowed_actions_follow_the_caller(platform: Platform) -> None:
    ticket = await order_one(platform)
    facts = TicketFacts(status="submitted", department_code="jxw", co_department_codes=("fgw", "czj"), enterprise_id=E1)
    for username, actor in (
        ("staff-jxw", Actor("staff-jxw", "staff", department_code="jxw")),
        ("staff-czj", Actor("staff-czj", "staff", department_code="czj")),
        ("dispatcher", Actor("dispatcher", "dispatcher")),
        ("supervisor", Actor("supervisor", "supervisor")),
        ("enterprise-1", Actor("enterprise-1", "enterprise", enterprise_id=E1)),
    ):
        shown = (await get_ticket(platform, username, ticket["id"])).json()["allowed_actions"]
        assert shown == [a.value for a in lifecycle.allowed_actions(facts, actor)], username
    assert (await get_ticket(platform, "staff-jxw", ticket["id"])).json()["allowed_actions"] == ["accept", "return"]
    assert (await get_ticket(platform, "admin", ticket["id"])).json()["allowed_actions"] == []

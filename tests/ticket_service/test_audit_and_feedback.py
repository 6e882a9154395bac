"""The hash-chained audit trail, its verification, feedback rounds, and the outbox rows."""

from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Platform
from tests.ticket_service.helpers import (
    API,
    GENESIS,
    act,
    act_ok,
    arrange,
    assert_problem,
    count,
    dispatch_request,
    events,
    order_one,
    outbox_rows,
    rate,
    resolve_ticket,
    utc,
    verify_chain,
)
from ticket_service import audit
from ticket_service.models import Feedback, OutboxEvent, TicketEvent

HEX64 = re.compile(r"^[0-9a-f]{64}$")
EVENT_KEYS = {
    "seq",
    "action",
    "actor",
    "role",
    "at",
    "from_status",
    "to_status",
    "note",
    "changes",
    "prev_hash",
    "hash",
}


async def _handled_ticket(platform: Platform) -> dict[str, Any]:
    """A ticket with a few steps behind it: create, accept, start, request-info, resume."""
    ticket = await order_one(platform, "LS-001")
    await act_ok(platform, "staff-jxw", ticket["id"], "accept")
    await act_ok(platform, "staff-jxw", ticket["id"], "start")
    await act_ok(platform, "staff-jxw", ticket["id"], "request-info")
    await act_ok(platform, "enterprise-1", ticket["id"], "resume", {})
    return ticket


# The audit trail


async def test_events_are_hash_chained(platform: Platform) -> None:
    ticket = await _handled_ticket(platform)
    trail = await events(platform, ticket["id"])
    assert [e["seq"] for e in trail] == [1, 2, 3, 4, 5]
    assert [e["action"] for e in trail] == ["create", "accept", "start", "request-info", "resume"]
    assert [(e["from_status"], e["to_status"]) for e in trail] == [
        (None, "submitted"),
        ("submitted", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "paused"),
        ("paused", "in_progress"),
    ]
    assert [e["actor"] for e in trail] == ["enterprise-1", "staff-jxw", "staff-jxw", "staff-jxw", "enterprise-1"]
    assert trail[0]["prev_hash"] == GENESIS
    for previous, event in itertools.pairwise(trail):
        assert event["prev_hash"] == previous["hash"]
        assert utc(event["at"]) >= utc(previous["at"])
    for event in trail:
        assert set(event) == EVENT_KEYS
        assert HEX64.match(event["hash"]) and event["hash"] != GENESIS
        assert utc(event["at"]).tzinfo is not None
    assert len({e["hash"] for e in trail}) == len(trail)
    assert trail[3]["changes"]["status"] == ["in_progress", "paused"]
    assert trail[3]["note"] == "请补充近三年用电数据。"


async def test_events_are_append_only(platform: Platform) -> None:
    ticket = await order_one(platform, "LS-001")
    await act_ok(platform, "staff-jxw", ticket["id"], "accept")
    before = await events(platform, ticket["id"])
    await act_ok(platform, "staff-jxw", ticket["id"], "start")
    # A refused action appends nothing.
    assert (await act(platform, "staff-jxw", ticket["id"], "accept")).status_code == 409
    after = await events(platform, ticket["id"])
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    assert after[-1]["prev_hash"] == before[-1]["hash"]


@pytest.mark.parametrize("username", ["supervisor", "admin"])
async def test_verify_reports_an_intact_chain(platform: Platform, username: str) -> None:
    ticket = await _handled_ticket(platform)
    assert await verify_chain(platform, ticket["id"], username) == {"ok": True, "first_broken_seq": None, "events": 5}


@pytest.mark.parametrize("username", ["enterprise-1", "staff-jxw", "dispatcher"])
async def test_verify_is_for_supervisors_and_admins(platform: Platform, username: str) -> None:
    ticket = await order_one(platform, "LS-001")
    response = await platform.client.get(
        f"{API}/tickets/{ticket['id']}/events/verify", headers=await platform.auth(username)
    )
    assert_problem(response, 403, "role_not_allowed")


@pytest.mark.parametrize(
    ("statement", "broken"),
    [
        pytest.param("UPDATE ticket_events SET note = 'tampered' WHERE ticket_id = :id AND seq = 2", 2, id="note"),
        pytest.param("UPDATE ticket_events SET actor = 'someone' WHERE ticket_id = :id AND seq = 1", 1, id="actor"),
        pytest.param(
            "UPDATE ticket_events SET to_status = 'resolved' WHERE ticket_id = :id AND seq = 3", 3, id="to-status"
        ),
        pytest.param("UPDATE ticket_events SET hash = prev_hash WHERE ticket_id = :id AND seq = 5", 5, id="last-hash"),
        pytest.param("DELETE FROM ticket_events WHERE ticket_id = :id AND seq = 4", (4, 5), id="deleted-row"),
        pytest.param(
            "UPDATE ticket_events SET at = at WHERE ticket_id = :id AND seq = 2", None, id="no-op-update-stays-ok"
        ),
    ],
)
async def test_tampering_breaks_the_chain(
    platform: Platform, session: AsyncSession, statement: str, broken: int | tuple[int, ...] | None
) -> None:
    ticket = await _handled_ticket(platform)
    assert (await verify_chain(platform, ticket["id"]))["ok"] is True
    await session.execute(text(statement), {"id": ticket["id"]})
    await session.flush()
    allowed = broken if isinstance(broken, tuple) else (broken,)
    for username in ("supervisor", "admin"):
        result = await verify_chain(platform, ticket["id"], username)
        assert result["ok"] is (broken is None)
        assert result["first_broken_seq"] in allowed
    # The trail is still readable, tampered row and all.
    assert len(await events(platform, ticket["id"])) >= 4


async def test_rewriting_a_row_and_its_own_hash_is_caught_at_the_next_link(
    platform: Platform, session: AsyncSession
) -> None:
    """Whoever knows the hash function and rewrites a row's hash too breaks the next row's link."""
    ticket = await _handled_ticket(platform)
    row = (
        await session.execute(select(TicketEvent).where(TicketEvent.ticket_id == ticket["id"], TicketEvent.seq == 2))
    ).scalar_one()
    row.note = "rewritten"
    row.hash = audit.event_hash(row.prev_hash, audit.event_content(row))
    await session.flush()
    result = await verify_chain(platform, ticket["id"])
    assert (result["ok"], result["first_broken_seq"]) == (False, 3)


# Feedback


@pytest.mark.parametrize(
    "status", ["submitted", "accepted", "in_progress", "paused", "joint_review", "escalated", "returned", "withdrawn"]
)
async def test_feedback_only_after_a_resolution(platform: Platform, session: AsyncSession, status: str) -> None:
    ticket = await order_one(platform, "LS-001")
    await arrange(session, ticket["id"], status=status, co_department_codes=("fgw", "czj"))
    response = await rate(platform, "enterprise-1", ticket["id"], "satisfied")
    body = assert_problem(response, 409, "invalid_transition")
    assert body["state"] == status
    assert await count(session, Feedback, Feedback.ticket_id == ticket["id"]) == 0


async def test_feedback_once_per_resolution(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform, "LS-001")
    await resolve_ticket(platform, ticket)
    first = await rate(platform, "enterprise-1", ticket["id"], "basically_satisfied", "还行")
    assert first.status_code == 201, first.text
    assert (first.json()["rating"], first.json()["comment"], first.json()["channel"]) == (
        "basically_satisfied",
        "还行",
        "web",
    )
    assert first.json()["created_by"] == "enterprise-1"
    for rating in ("satisfied", "unsatisfied"):
        assert_problem(await rate(platform, "enterprise-1", ticket["id"], rating), 409, "already_rated")
    assert await count(session, Feedback, Feedback.ticket_id == ticket["id"]) == 1
    # A second "unsatisfied" attempt must not have reopened the ticket.
    current = await platform.client.get(f"{API}/tickets/{ticket['id']}", headers=await platform.auth("enterprise-1"))
    assert current.json()["status"] == "resolved"
    listed = await platform.client.get(
        f"{API}/tickets/{ticket['id']}/feedback", headers=await platform.auth("supervisor")
    )
    assert [f["rating"] for f in listed.json()] == ["basically_satisfied"]


async def test_a_new_resolution_can_be_rated_again(platform: Platform) -> None:
    ticket = await order_one(platform, "LS-001")
    await resolve_ticket(platform, ticket)
    assert (await rate(platform, "enterprise-1", ticket["id"], "unsatisfied", "没解决")).status_code == 201
    # Reopened: not ratable until resolved again.
    assert_problem(await rate(platform, "enterprise-1", ticket["id"], "satisfied"), 409, "invalid_transition")
    await resolve_ticket(platform, ticket)
    second = await rate(platform, "enterprise-1", ticket["id"], "satisfied", "这次好了")
    assert second.status_code == 201, second.text
    assert second.json()["resolution_round"] == 2
    assert_problem(await rate(platform, "enterprise-1", ticket["id"], "satisfied"), 409, "already_rated")
    listed = await platform.client.get(
        f"{API}/tickets/{ticket['id']}/feedback", headers=await platform.auth("enterprise-1")
    )
    assert [(f["resolution_round"], f["rating"]) for f in listed.json()] == [(1, "unsatisfied"), (2, "satisfied")]


async def test_reopen_by_the_dispatcher_starts_a_new_round(platform: Platform) -> None:
    ticket = await order_one(platform, "LS-001")
    await resolve_ticket(platform, ticket)
    assert (await rate(platform, "enterprise-1", ticket["id"], "satisfied")).status_code == 201
    await act_ok(platform, "dispatcher", ticket["id"], "reopen")
    await resolve_ticket(platform, ticket)
    again = await rate(platform, "enterprise-1", ticket["id"], "satisfied")
    assert again.status_code == 201 and again.json()["resolution_round"] == 2


async def test_explained_and_closed_tickets_can_be_rated(platform: Platform) -> None:
    explained = await order_one(platform, "LS-001")
    await act_ok(platform, "staff-jxw", explained["id"], "accept")
    await act_ok(platform, "staff-jxw", explained["id"], "explain")
    assert (await rate(platform, "enterprise-1", explained["id"], "basically_satisfied")).status_code == 201
    closed = await order_one(platform, "KJ-001")
    await resolve_ticket(platform, closed)
    await act_ok(platform, "enterprise-1", closed["id"], "close", {})
    response = await rate(platform, "enterprise-1", closed["id"], "unsatisfied", "关了也不满意")
    assert response.status_code == 201, response.text
    reopened = await platform.client.get(f"{API}/tickets/{closed['id']}", headers=await platform.auth("enterprise-1"))
    assert (reopened.json()["status"], reopened.json()["closed_at"]) == ("submitted", None)


@pytest.mark.parametrize("username", ["dispatcher", "supervisor", "admin", "staff-jxw"])
async def test_only_the_owner_rates(platform: Platform, session: AsyncSession, username: str) -> None:
    ticket = await order_one(platform, "LS-001")
    await resolve_ticket(platform, ticket)
    assert_problem(await rate(platform, username, ticket["id"], "satisfied"), 403, "role_not_allowed")
    assert await count(session, Feedback, Feedback.ticket_id == ticket["id"]) == 0


async def test_bad_feedback_bodies_are_422(platform: Platform) -> None:
    ticket = await order_one(platform, "LS-001")
    await resolve_ticket(platform, ticket)
    headers = await platform.auth("enterprise-1")
    path = f"{API}/tickets/{ticket['id']}/feedback"
    for body, field in (
        ({"rating": "great"}, "rating"),
        ({}, "rating"),
        ({"rating": "satisfied", "comment": "c" * 2001}, "comment"),
        ({"rating": "satisfied", "stars": 5}, "stars"),
    ):
        response = await platform.client.post(path, json=body, headers=headers)
        assert_problem(response, 422, "validation_error")
        assert any(error["loc"][:2] == ["body", field] for error in response.json()["errors"]), (field, response.text)


# The outbox


def _check_envelope(row: OutboxEvent, ticket_id: str) -> dict[str, Any]:
    envelope = row.envelope
    assert set(envelope) == {"id", "type", "occurred_at", "data"}
    assert str(uuid.UUID(envelope["id"])) == envelope["id"] == row.event_id
    assert envelope["type"] == row.event_type
    assert utc(envelope["occurred_at"]).tzinfo is not None
    assert (row.aggregate_type, row.aggregate_id, row.published_at) == ("ticket", ticket_id, None)
    assert envelope["data"]["id"] == ticket_id
    return dict(envelope["data"])


async def test_every_transition_writes_outbox_rows(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform, "LS-001")
    seen: list[tuple[str, str, int]] = []
    expected: list[tuple[str, str, int]] = [("ticket.created", "submitted", 1)]

    async def step(username: str, action: str, types: list[str], body: dict[str, Any] | None = None) -> None:
        result = await act_ok(platform, username, ticket["id"], action, body)
        expected.extend((event_type, result["status"], result["version"]) for event_type in types)

    await step("staff-jxw", "accept", ["ticket.status_changed", "ticket.accepted"])
    await step("staff-jxw", "start", ["ticket.status_changed"])
    await step("staff-jxw", "resolve", ["ticket.status_changed", "ticket.resolved", "ticket.feedback_requested"])
    await step("enterprise-1", "reopen", ["ticket.status_changed", "ticket.reopened"])
    await step("staff-jxw", "accept", ["ticket.status_changed", "ticket.accepted"])
    await step("staff-jxw", "explain", ["ticket.status_changed", "ticket.explained", "ticket.feedback_requested"])
    await step("enterprise-1", "close", ["ticket.status_changed", "ticket.closed"], {})
    rows = await outbox_rows(session, ticket["id"])
    for row in rows:
        data = _check_envelope(row, ticket["id"])
        seen.append((row.event_type, data["status"], data["version"]))
    assert seen == expected
    assert len({row.event_id for row in rows}) == len(rows)
    assert [row.seq for row in rows] == sorted(row.seq for row in rows)


async def test_side_path_events(platform: Platform, session: AsyncSession) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    await act_ok(platform, "staff-jxw", ticket["id"], "accept")
    await act_ok(platform, "staff-jxw", ticket["id"], "request-joint-review")
    await act_ok(platform, "supervisor", ticket["id"], "escalate")
    types = [row.event_type for row in await outbox_rows(session, ticket["id"])]
    assert types == [
        "ticket.created",
        "ticket.status_changed",
        "ticket.accepted",
        "ticket.status_changed",
        "ticket.joint_review_started",
        "ticket.status_changed",
        "ticket.escalated",
    ]


async def test_an_order_writes_one_created_event_per_ticket(platform: Platform, session: AsyncSession) -> None:
    before = await count(session, OutboxEvent)
    response = await platform.client.post(
        f"{API}/orders",
        json={"items": [{"item_code": "LS-001"}, {"item_code": "KJ-001"}]},
        headers=await platform.auth("enterprise-1"),
    )
    assert response.status_code == 201
    assert await count(session, OutboxEvent) == before + 2
    for ticket in response.json()["tickets"]:
        rows = await outbox_rows(session, ticket["id"])
        assert [row.event_type for row in rows] == ["ticket.created"]
        data = _check_envelope(rows[0], ticket["id"])
        assert (data["number"], data["item_code"], data["department_code"]) == (
            ticket["number"],
            ticket["item_code"],
            ticket["department_code"],
        )


async def test_refused_actions_write_no_outbox_rows(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform, "LS-001")
    before = await count(session, OutboxEvent)
    assert (await act(platform, "staff-jxw", ticket["id"], "resolve")).status_code == 409
    assert (await act(platform, "enterprise-1", ticket["id"], "accept")).status_code == 403
    assert (await act(platform, "staff-jxw", ticket["id"], "accept", if_match="7")).status_code == 412
    assert (await rate(platform, "enterprise-1", ticket["id"], "satisfied")).status_code == 409
    assert await count(session, OutboxEvent) == before

"""Per subscription, one ticket's events arrive in order and a slow ticket holds up no other;
several workers share the due deliveries and attempt each one once."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import pytest

from notification_service.worker import close_context, run_batch
from tests.live_platform import LivePlatform
from tests.notification_service.conftest import FakeClock, worker_context, worker_settings
from tests.notification_service.helpers import ticket_event
from tests.notification_service.live_helpers import live_deliveries, live_post_events, live_subscribe
from tests.notification_service.receiver import Answer, Received, Receiver

pytestmark = pytest.mark.live
BOUND_S = 30.0


async def test_one_tickets_events_arrive_in_order_even_when_relayed_out_of_order(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any]
) -> None:
    await live_subscribe(gateway, receiver.url)
    ticket_id = str(uuid.uuid4())
    created = ticket_event("ticket.created", ticket_id=ticket_id, version=1)
    changed = ticket_event("ticket.status_changed", ticket_id=ticket_id, version=2, status="accepted")
    accepted = ticket_event("ticket.accepted", ticket_id=ticket_id, version=2, status="accepted")
    resolved = ticket_event("ticket.resolved", ticket_id=ticket_id, version=4, status="resolved")
    await live_post_events(live, resolved, created)
    await live_post_events(live, changed, accepted, created)
    for _ in range(10):
        if not await run_batch(worker_ctx):
            break
    order = [request.headers["webhook-id"] for request in receiver.requests]
    assert order == [created["id"], changed["id"], accepted["id"], resolved["id"]]


async def test_a_ticket_with_more_events_queued_than_a_claim_looks_at_holds_up_no_other(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any]
) -> None:
    await live_subscribe(gateway, receiver.url)
    busy_ticket = str(uuid.uuid4())
    busy = [ticket_event("ticket.status_changed", ticket_id=busy_ticket, version=n) for n in range(1, 7)]
    other = ticket_event("ticket.created")
    await live_post_events(live, *busy)
    await live_post_events(live, other)
    # A claim of two looks at the queue's first four (CLAIM_WINDOW): all the busy ticket's, only
    # one of them sendable; it must look further and find the other ticket's event.
    assert await run_batch(worker_ctx, limit=2) == {"delivered": 2}
    assert {request.headers["webhook-id"] for request in receiver.requests} == {busy[0]["id"], other["id"]}
    for _ in range(10):
        if not await run_batch(worker_ctx, limit=2):
            break
    busy_order = [r.headers["webhook-id"] for r in receiver.requests if r.envelope["data"]["id"] == busy_ticket]
    assert busy_order == [event["id"] for event in busy]


async def test_a_slow_ticket_does_not_hold_up_another(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any]
) -> None:
    release = asyncio.Event()
    slow_ticket, quick_ticket = str(uuid.uuid4()), str(uuid.uuid4())

    async def slow_for_one_ticket(request: Received) -> Answer:
        if request.envelope["data"]["id"] == slow_ticket:
            await release.wait()
        return 200, {}, "ok"

    receiver.behaviour = slow_for_one_ticket
    subscription = await live_subscribe(gateway, receiver.url)
    slow = [ticket_event("ticket.created", ticket_id=slow_ticket, version=n) for n in (1, 2)]
    quick = [ticket_event("ticket.created", ticket_id=quick_ticket, version=n) for n in (1, 2, 3)]
    await live_post_events(live, slow[0], quick[0], slow[1], quick[1], quick[2])
    # As the cron's overlapping ticks do: the first batch is stuck on the slow ticket.
    stuck = asyncio.create_task(run_batch(worker_ctx))
    try:
        deadline = time.monotonic() + BOUND_S
        while not [r for r in receiver.requests if r.envelope["data"]["id"] == slow_ticket]:
            assert time.monotonic() < deadline and not stuck.done(), "the slow ticket's event was not sent"
            await asyncio.sleep(0.01)  # poll interval of a bounded wait
        while len([r for r in receiver.requests if r.envelope["data"]["id"] == quick_ticket]) < 3:
            assert time.monotonic() < deadline, "the quick ticket was held up"
            await run_batch(worker_ctx)
        assert [r.headers["webhook-id"] for r in receiver.requests if r.envelope["data"]["id"] == slow_ticket] == [
            slow[0]["id"]
        ], "the slow ticket's second event overtook its first"
        assert not stuck.done()
    finally:
        release.set()
        await asyncio.wait_for(stuck, BOUND_S)
    await run_batch(worker_ctx)
    statuses = {d["event_id"]: d["status"] for d in await live_deliveries(gateway, subscription["id"])}
    assert set(statuses.values()) == {"delivered"} and len(statuses) == 5
    slow_order = [r.headers["webhook-id"] for r in receiver.requests if r.envelope["data"]["id"] == slow_ticket]
    assert slow_order == [slow[0]["id"], slow[1]["id"]]


async def test_two_workers_share_the_work_and_attempt_each_delivery_once(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any], clock: FakeClock
) -> None:
    subscription = await live_subscribe(gateway, receiver.url)
    events = [ticket_event("ticket.created") for _ in range(40)]
    # One ticket with several events too: the order holds across workers.
    ticket_id = str(uuid.uuid4())
    chain = [ticket_event("ticket.status_changed", ticket_id=ticket_id, version=n) for n in range(1, 6)]
    await live_post_events(live, *events, *chain)
    other = await worker_context(worker_settings(live, worker_batch_size=7), clock)
    worker_ctx["settings"] = worker_settings(live, worker_batch_size=7)
    try:
        deadline = time.monotonic() + BOUND_S
        while True:
            first, second = await asyncio.gather(run_batch(worker_ctx), run_batch(other))
            if not first and not second:
                break
            assert time.monotonic() < deadline
    finally:
        await close_context(other)
    ids = [request.headers["webhook-id"] for request in receiver.requests]
    assert sorted(ids) == sorted(event["id"] for event in [*events, *chain]), "an event was lost or sent twice"
    assert [i for i in ids if i in {e["id"] for e in chain}] == [e["id"] for e in chain]
    made = await live_deliveries(gateway, subscription["id"])
    assert len(made) == 45 and {(d["status"], d["attempts"]) for d in made} == {("delivered", 1)}


async def test_an_attempt_that_outlives_its_lease_is_logged_and_settles_nothing(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any], clock: FakeClock
) -> None:
    release = asyncio.Event()
    calls = 0

    async def first_call_hangs(_: Received) -> Answer:
        nonlocal calls
        calls += 1
        if calls == 1:
            await release.wait()
            return 500, {}, "too late"
        return 200, {}, "ok"

    receiver.behaviour = first_call_hangs
    subscription = await live_subscribe(gateway, receiver.url)
    await live_post_events(live, ticket_event("ticket.accepted"))
    hung = asyncio.create_task(run_batch(worker_ctx, now=clock.now))
    try:
        deadline = time.monotonic() + BOUND_S
        while not receiver.requests:
            assert time.monotonic() < deadline and not hung.done()
            await asyncio.sleep(0.01)  # poll interval of a bounded wait
        (delivery,) = await live_deliveries(gateway, subscription["id"])
        redo = await gateway.post(f"/api/v1/webhook-deliveries/{delivery['id']}/redeliver")
        assert redo.status_code == 409 and redo.json()["code"] == "delivery_in_flight"
        # The lease runs out (a worker presumed dead); another worker takes the delivery over.
        clock.advance(worker_ctx["settings"].worker_lease_seconds + 1)
        assert await run_batch(worker_ctx) == {"delivered": 1}
    finally:
        release.set()
    assert await asyncio.wait_for(hung, BOUND_S) == {"lost": 1}
    response = await gateway.get(f"/api/v1/webhook-deliveries/{delivery['id']}")
    shown = response.json()
    assert shown["status"] == "delivered" and shown["attempts"] == 2
    assert [(a["number"], a["status_code"]) for a in shown["attempt_log"]] == [(1, 200), (2, 500)]

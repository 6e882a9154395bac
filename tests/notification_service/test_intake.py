"""The relay's intake fans out: one delivery per event and matching active subscription,
created with the event, so duplicates and replays from the relay create nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.models import WebhookDelivery
from tests.catalog_service.helpers import assert_problem
from tests.conftest import Platform
from tests.notification_service.helpers import API, deliveries, post_events, subscribe, ticket_event


async def test_each_matching_subscription_gets_one_delivery(platform: Platform) -> None:
    everything = await subscribe(platform, event_types=["*"])
    tickets = await subscribe(platform, event_types=["ticket.*"])
    resolved_only = await subscribe(platform, event_types=["ticket.resolved"])
    menus = await subscribe(platform, event_types=["menu.published"])
    resolved, accepted = ticket_event("ticket.resolved"), ticket_event("ticket.accepted")
    receipt = await post_events(platform, resolved, accepted)
    assert receipt == {"received": 2, "duplicates": 0}
    assert {d["event_id"] for d in await deliveries(platform, everything["id"])} == {resolved["id"], accepted["id"]}
    assert {d["event_id"] for d in await deliveries(platform, tickets["id"])} == {resolved["id"], accepted["id"]}
    only = await deliveries(platform, resolved_only["id"])
    assert [(d["event_id"], d["event_type"], d["status"], d["attempts"]) for d in only] == [
        (resolved["id"], "ticket.resolved", "pending", 0)
    ]
    assert only[0]["next_attempt_at"] is not None
    assert await deliveries(platform, menus["id"]) == []


async def test_duplicates_and_replays_from_the_relay_create_nothing_twice(platform: Platform) -> None:
    subscription = await subscribe(platform)
    ticket_id = str(uuid.uuid4())
    first = ticket_event("ticket.accepted", ticket_id=ticket_id, version=2)
    second = ticket_event("ticket.resolved", ticket_id=ticket_id, version=4)
    # Out of order, with a duplicate in the batch, then the whole batch again.
    assert await post_events(platform, second, first, first) == {"received": 2, "duplicates": 1}
    assert await post_events(platform, first, second) == {"received": 0, "duplicates": 2}
    made = await deliveries(platform, subscription["id"])
    assert sorted(d["event_id"] for d in made) == sorted([first["id"], second["id"]])


async def test_disabled_subscriptions_get_no_deliveries(platform: Platform) -> None:
    subscription = await subscribe(platform)
    admin = await platform.auth("admin")
    await platform.client.post(f"{API}/webhook-subscriptions/{subscription['id']}/disable", headers=admin)
    await post_events(platform, ticket_event("ticket.closed"))
    assert await deliveries(platform, subscription["id"]) == []


async def test_delivery_list_filters_and_pages(platform: Platform) -> None:
    subscription = await subscribe(platform)
    events = [ticket_event("ticket.created") for _ in range(5)]
    await post_events(platform, *events)
    admin = await platform.auth("admin")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"subscription_id": subscription["id"], "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await platform.client.get(f"{API}/webhook-deliveries", params=params, headers=admin)).json()
        seen += [item["event_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [event["id"] for event in reversed(events)]
    assert await deliveries(platform, subscription["id"], status="dead") == []
    bad = await platform.client.get(f"{API}/webhook-deliveries", params={"cursor": "!!"}, headers=admin)
    assert_problem(bad, 400, "invalid_cursor")
    bad_status = await platform.client.get(f"{API}/webhook-deliveries", params={"status": "lost"}, headers=admin)
    assert_problem(bad_status, 422)


async def test_redeliver_and_recover_queue_again(platform: Platform, session: AsyncSession) -> None:
    subscription = await subscribe(platform)
    events = [ticket_event("ticket.created") for _ in range(4)]
    await post_events(platform, *events)
    rows = list(
        (
            await session.execute(
                select(WebhookDelivery)
                .where(WebhookDelivery.subscription_id == subscription["id"])
                .order_by(WebhookDelivery.id)
            )
        ).scalars()
    )
    later = datetime.now(UTC) + timedelta(hours=3)
    for row, status in zip(rows[:3], ["dead", "failed", "delivered"], strict=True):
        await session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == row.id).values(status=status, next_attempt_at=later)
        )
    # A worker is sending this one right now: neither recover nor redeliver may take it from it.
    in_flight = {"status": "failed", "next_attempt_at": later, "locked_until": later, "lease_token": "held"}
    await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == rows[3].id).values(**in_flight))
    await session.flush()
    admin = await platform.auth("admin")
    redone = await platform.client.post(f"{API}/webhook-deliveries/{rows[2].id}/redeliver", headers=admin)
    assert redone.status_code == 202, redone.text
    assert redone.json()["status"] == "pending" and redone.json()["event_id"] == rows[2].event_id
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    recovered = await platform.client.post(
        f"{API}/webhook-subscriptions/{subscription['id']}/recover", json={"since": since}, headers=admin
    )
    assert recovered.json() == {"requeued": 2}
    busy = await platform.client.post(f"{API}/webhook-deliveries/{rows[3].id}/redeliver", headers=admin)
    assert_problem(busy, 409, "delivery_in_flight")
    states = {
        d["event_id"]: (d["status"], d["next_attempt_at"]) for d in await deliveries(platform, subscription["id"])
    }
    assert states.pop(rows[3].event_id)[0] == "failed"
    assert {status for status, _ in states.values()} == {"pending"}
    assert all(datetime.fromisoformat(when) < later for _, when in states.values())
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    none = await platform.client.post(
        f"{API}/webhook-subscriptions/{subscription['id']}/recover", json={"since": future}, headers=admin
    )
    assert none.json() == {"requeued": 0}
    assert_problem(await platform.client.post(f"{API}/webhook-deliveries/999999999/redeliver", headers=admin), 404)
    assert_problem(await platform.client.post(f"{API}/webhook-deliveries/abc/redeliver", headers=admin), 404)


async def test_the_intake_wants_the_internal_token(platform: Platform) -> None:
    from tests.notification_service.helpers import notifications_client

    async with notifications_client(platform) as client:
        response = await client.post("/internal/events", json={"events": [ticket_event("ticket.created")]})
    assert_problem(response, 401, "invalid_internal_token")

"""Webhook delivery against real servers: the live platform's notification service takes the
events, a notification worker's batches (on a clock the test moves) send them to a real
receiver that verifies each signature with the `standardwebhooks` library."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from notification_service.deliveries import JITTER, RETRY_DELAYS
from notification_service.worker import close_context
from tests.live_platform import LivePlatform
from tests.notification_service.conftest import FakeClock, worker_context, worker_settings
from tests.notification_service.helpers import API, ticket_event
from tests.notification_service.live_helpers import (
    batch,
    live_post_events,
    live_subscribe,
    live_subscription,
    only_delivery,
)
from tests.notification_service.receiver import Answer, Received, Receiver
from tests.support import bearer, login

pytestmark = pytest.mark.live


async def test_a_signed_delivery_verifies_and_carries_no_personal_data(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any]
) -> None:
    subscription = await live_subscribe(gateway, receiver.url)
    event = ticket_event("ticket.created", description="来电人手机 13812345678，请回电", caller_phone="13912345678")
    event["data"]["allowed_actions"] = ["accept"]
    await live_post_events(live, event)
    assert await batch(worker_ctx) == {"delivered": 1}
    (request,) = receiver.for_event(event["id"])
    payload = Webhook(subscription["secret"]).verify(request.body, request.headers)
    assert payload["id"] == event["id"] and payload["type"] == "ticket.created"
    assert payload["data"]["description"] == "来电人手机 138****5678，请回电"
    assert payload["data"]["caller_phone"] == "139****5678"
    assert "allowed_actions" not in payload["data"]
    assert request.headers["webhook-signature"].startswith("v1,")
    delivery = await only_delivery(gateway, subscription["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    (attempt,) = delivery["attempt_log"]
    assert attempt["status_code"] == 200 and attempt["response_excerpt"] == "ok" and attempt["error"] is None
    assert attempt["latency_ms"] >= 0 and attempt["trigger"] == "schedule"


async def test_a_receiver_down_for_a_while_gets_the_event_on_a_retry(
    live: LivePlatform, gateway: httpx.AsyncClient, worker_ctx: dict[str, Any], clock: FakeClock
) -> None:
    receiver = Receiver()
    subscription = await live_subscribe(gateway, receiver.url)
    event = ticket_event("ticket.resolved")
    await live_post_events(live, event)
    assert await batch(worker_ctx) == {"failed": 1}  # nobody listens: connection refused
    clock.advance(RETRY_DELAYS[1] * (1 - JITTER) - 0.5)
    assert await batch(worker_ctx) == {}, "retried before its backoff"
    clock.advance(RETRY_DELAYS[1] * 2 * JITTER + 1)
    assert await batch(worker_ctx) == {"failed": 1}
    answers = iter([(503, {"Retry-After": "3600"}, "maintenance"), (200, {}, "ok")])

    async def recovering(_: Received) -> Answer:
        return next(answers)

    receiver.behaviour = recovering
    await receiver.start()
    try:
        clock.advance(RETRY_DELAYS[2] * (1 + JITTER) + 1)
        assert await batch(worker_ctx) == {"failed": 1}
        clock.advance(RETRY_DELAYS[3] * (1 + JITTER) + 1)
        assert await batch(worker_ctx) == {}, "Retry-After: 3600 was not honoured"
        clock.advance(3600)
        assert await batch(worker_ctx) == {"delivered": 1}
    finally:
        await receiver.stop()
    delivery = await only_delivery(gateway, subscription["id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 4
    log = delivery["attempt_log"]
    assert [a["status_code"] for a in log] == [None, None, 503, 200]
    assert [a["number"] for a in log] == [1, 2, 3, 4]
    assert "ConnectError" in log[0]["error"] and log[2]["response_excerpt"] == "maintenance"
    starts = [datetime.fromisoformat(a["started_at"]) for a in log]
    assert starts == sorted(starts) and starts[-1] - starts[0] > timedelta(hours=1)
    assert len(receiver.for_event(event["id"])) == 2


async def _fail_until_settled(ctx: dict[str, Any], clock: FakeClock) -> list[str]:
    """Batches, the clock moved past each retry's backoff, until the delivery is dead or not sent."""
    outcomes: list[str] = []
    for delay in [*RETRY_DELAYS[1:], 0]:
        counts = await batch(ctx)
        outcomes += list(counts.elements())
        if "dead" in counts or not counts:
            break
        clock.advance(delay * (1 + JITTER) + 1)
    return outcomes


async def test_dead_after_the_last_attempt_then_recover_and_redeliver(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any], clock: FakeClock
) -> None:
    async def broken(_: Received) -> Answer:
        return 500, {}, "x" * 5000

    receiver.behaviour = broken
    subscription = await live_subscribe(gateway, receiver.url)
    event = ticket_event("ticket.closed")
    started = datetime.now(UTC) - timedelta(minutes=1)
    await live_post_events(live, event)
    for delay in RETRY_DELAYS[1:]:
        assert await batch(worker_ctx) == {"failed": 1}
        clock.advance(delay * (1 + JITTER) + 1)
    assert await batch(worker_ctx) == {"dead": 1}
    delivery = await only_delivery(gateway, subscription["id"])
    assert delivery["status"] == "dead" and delivery["attempts"] == len(RETRY_DELAYS)
    assert delivery["next_attempt_at"] is None
    assert all(len(a["response_excerpt"]) == 1024 for a in delivery["attempt_log"])
    assert (await live_subscription(gateway, subscription["id"]))["status"] == "active"
    receiver.behaviour = Receiver().behaviour
    recover = await gateway.post(
        f"{API}/webhook-subscriptions/{subscription['id']}/recover", json={"since": started.isoformat()}
    )
    assert recover.json() == {"requeued": 1}
    # The redelivery is due at the server's real now, long before the test's moved clock.
    assert await batch(worker_ctx) == {"delivered": 1}
    redo = await gateway.post(f"{API}/webhook-deliveries/{delivery['id']}/redeliver")
    assert redo.status_code == 202
    assert await batch(worker_ctx) == {"delivered": 1}
    log = (await only_delivery(gateway, subscription["id"]))["attempt_log"]
    assert [a["trigger"] for a in log[-2:]] == ["recover", "redeliver"]
    ids = {request.headers["webhook-id"] for request in receiver.for_event(event["id"])}
    assert ids == {event["id"]} and len(receiver.for_event(event["id"])) == len(RETRY_DELAYS) + 2


async def _admin_inbox(live: LivePlatform) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=live.gateway_url, timeout=30) as client:
        headers = bearer(await login(client, "admin"))
        response = await client.get(f"{API}/inbox", params={"limit": 100}, headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_410_gone_disables_the_endpoint_at_once(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any]
) -> None:
    async def gone(_: Received) -> Answer:
        return 410, {}, "gone"

    receiver.behaviour = gone
    subscription = await live_subscribe(gateway, receiver.url)
    await live_post_events(live, ticket_event("ticket.accepted"))
    assert await batch(worker_ctx) == {"dead": 1}
    shown = await live_subscription(gateway, subscription["id"])
    assert shown["status"] == "disabled" and "410" in shown["disabled_reason"]
    notices = [item for item in await _admin_inbox(live) if item["kind"] == "webhook.disabled"]
    assert any(receiver.url in item["title"] for item in notices)
    await live_post_events(live, ticket_event("ticket.accepted"))
    assert await batch(worker_ctx) == {}
    assert len(receiver.requests) == 1


async def test_five_days_of_failures_disable_the_endpoint_and_tell_the_admins(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any], clock: FakeClock
) -> None:
    async def broken(_: Received) -> Answer:
        return 502, {}, "bad gateway"

    receiver.behaviour = broken
    subscription = await live_subscribe(gateway, receiver.url)
    await live_post_events(live, ticket_event("ticket.accepted"))
    first_failure = clock.now
    assert await _fail_until_settled(worker_ctx, clock) == ["failed"] * (len(RETRY_DELAYS) - 1) + ["dead"]
    assert (await live_subscription(gateway, subscription["id"]))["status"] == "active"
    await live_post_events(live, ticket_event("ticket.accepted"))
    second = await _fail_until_settled(worker_ctx, clock)
    assert 0 < len(second) < len(RETRY_DELAYS) and set(second) == {"failed"}
    shown = await live_subscription(gateway, subscription["id"])
    assert shown["status"] == "disabled" and "5 days" in shown["disabled_reason"]
    assert clock.now - first_failure >= timedelta(days=5)
    notices = [item for item in await _admin_inbox(live) if item["kind"] == "webhook.disabled"]
    assert any(receiver.url in item["title"] and "5 days" in item["title"] for item in notices)


async def test_during_the_grace_period_both_secrets_sign(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any], clock: FakeClock
) -> None:
    subscription = await live_subscribe(gateway, receiver.url)
    old = subscription["secret"]
    rotated = await gateway.post(f"{API}/webhook-subscriptions/{subscription['id']}/rotate-secret")
    new = rotated.json()["secret"]
    during = ticket_event("ticket.accepted")
    await live_post_events(live, during)
    assert await batch(worker_ctx) == {"delivered": 1}
    (request,) = receiver.for_event(during["id"])
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(request.body, request.headers)
    clock.advance(24 * 3600 + 60)
    after = ticket_event("ticket.accepted")
    await live_post_events(live, after)
    assert await batch(worker_ctx) == {"delivered": 1}
    (request,) = receiver.for_event(after["id"])
    assert len(request.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(request.body, request.headers)


async def test_production_checks_the_address_again_before_sending(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, clock: FakeClock
) -> None:
    subscription = await live_subscribe(gateway, receiver.url)
    settings = worker_settings(
        live,
        environment="production",
        jwt_secret="production-test-secret-0123456789abcdef",
        internal_token="production-internal-token",
        hotline_webhook_secret="whsec_cHJvZHVjdGlvbi1ob3RsaW5l",
    )
    ctx = await worker_context(settings, clock)
    try:
        await live_post_events(live, ticket_event("ticket.accepted"))
        assert await batch(ctx) == {"failed": 1}
    finally:
        await gateway.post(f"{API}/webhook-subscriptions/{subscription['id']}/disable")
        await close_context(ctx)
    (attempt,) = (await only_delivery(gateway, subscription["id"]))["attempt_log"]
    assert attempt["error"].startswith("refused:") and "loopback" in attempt["error"]
    assert receiver.requests == []


async def test_a_large_event_is_sent_thin_and_a_slow_answer_times_out(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, clock: FakeClock
) -> None:
    release = asyncio.Event()

    async def slow_for_closed(request: Received) -> Answer:
        if request.envelope["type"] == "ticket.closed":
            await release.wait()
        return 200, {}, "ok"

    receiver.behaviour = slow_for_closed
    subscription = await live_subscribe(gateway, receiver.url)
    ctx = await worker_context(worker_settings(live, webhook_max_payload_bytes=2048, webhook_timeout_seconds=1), clock)
    try:
        big = ticket_event("ticket.created", description="材料" * 3000)
        await live_post_events(live, big)
        assert await batch(ctx) == {"delivered": 1}
        (request,) = receiver.for_event(big["id"])
        Webhook(subscription["secret"]).verify(request.body, request.headers)
        thin = request.envelope
        assert thin["thin"] is True and thin["id"] == big["id"] and thin["type"] == "ticket.created"
        assert thin["data"] == {
            "id": big["data"]["id"],
            "url": f"{live.gateway_url}/api/v1/tickets/{big['data']['id']}",
        }
        await live_post_events(live, ticket_event("ticket.closed", ticket_id=str(uuid.uuid4())))
        assert await batch(ctx) == {"failed": 1}
    finally:
        release.set()
        await gateway.post(f"{API}/webhook-subscriptions/{subscription['id']}/disable")
        await close_context(ctx)
    items = [
        d
        for d in (
            await gateway.get(f"{API}/webhook-deliveries", params={"subscription_id": subscription["id"]})
        ).json()["items"]
    ]
    slow = next(d for d in items if d["event_type"] == "ticket.closed")
    assert slow["status"] == "failed" and slow["last_error"].startswith("timeout")


async def test_production_connects_to_the_address_it_checked(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, clock: FakeClock
) -> None:
    name = f"hooks-{uuid.uuid4().hex[:8]}.example.test"
    subscription = await live_subscribe(gateway, f"http://{name}:{receiver.port}/hooks")
    lookups: list[str] = []

    async def fake_dns(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    settings = worker_settings(
        live,
        environment="production",
        jwt_secret="production-test-secret-0123456789abcdef",
        internal_token="production-internal-token",
        hotline_webhook_secret="whsec_cHJvZHVjdGlvbi1ob3RsaW5l",
        webhook_allowed_hosts=["127.0.0.1/32"],
    )
    ctx = await worker_context(settings, clock)
    ctx["resolver"] = fake_dns
    try:
        event = ticket_event("ticket.accepted")
        await live_post_events(live, event)
        # The name exists only in the fake DNS: reaching the receiver means the worker connected
        # to the address it checked instead of resolving the name again.
        assert await batch(ctx) == {"delivered": 1}
    finally:
        await gateway.post(f"{API}/webhook-subscriptions/{subscription['id']}/disable")
        await close_context(ctx)
    assert lookups == [name]
    (request,) = receiver.for_event(event["id"])
    assert request.headers["host"] == f"{name}:{receiver.port}"
    Webhook(subscription["secret"]).verify(request.body, request.headers)


async def test_a_redirect_is_a_failure_and_is_not_followed(
    live: LivePlatform, gateway: httpx.AsyncClient, receiver: Receiver, worker_ctx: dict[str, Any]
) -> None:
    async def redirect(request: Received) -> Answer:
        if request.path == "/elsewhere":
            return 200, {}, "followed"
        return 307, {"location": f"http://127.0.0.1:{receiver.port}/elsewhere"}, "moved"

    receiver.behaviour = redirect
    subscription = await live_subscribe(gateway, receiver.url)
    await live_post_events(live, ticket_event("ticket.accepted"))
    assert await batch(worker_ctx) == {"failed": 1}
    # A redirect could point inside the platform: the worker never follows one.
    assert [request.path for request in receiver.requests] == ["/hooks"]
    delivery = await only_delivery(gateway, subscription["id"])
    assert delivery["last_status_code"] == 307 and delivery["attempt_log"][0]["response_excerpt"] == "moved"

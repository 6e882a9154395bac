"""The notification worker's figures: webhook deliveries by outcome, and the backlog of
unsettled deliveries (read at scrape time). Made with the worker's context."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notification_service.deliveries import backlog
from services.metrics import Metrics


@dataclass(frozen=True)
class DeliveryWorkerMetrics:
    metrics: Metrics
    deliveries: Counter

    def record(self, outcomes: Tally[str]) -> None:
        for outcome, count in outcomes.items():
            self.deliveries.labels(outcome).inc(count)


def create_delivery_worker_metrics(
    sessionmaker: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime]
) -> DeliveryWorkerMetrics:
    metrics = Metrics("notification_worker")
    waiting = metrics.gauge("webhook_delivery_backlog", "Deliveries not yet settled, by status.", ["status"])
    overdue = metrics.gauge(
        "webhook_delivery_oldest_due_seconds", "How long the most overdue unsettled delivery has been due."
    )

    async def refresh() -> None:
        async with sessionmaker() as session:
            by_status, seconds = await backlog(session, now=clock())
        for status, count in by_status.items():
            waiting.labels(status).set(count)
        overdue.set(seconds)

    metrics.add_refresher("webhook_backlog", refresh)
    deliveries = Counter(
        "webhook_deliveries",
        "Delivery attempts by outcome: delivered, failed (retried later), dead, lost (lease expired).",
        ["outcome"],
        registry=metrics.registry,
    )
    return DeliveryWorkerMetrics(metrics=metrics, deliveries=deliveries)

"""The SLA worker's figures: each sweep's duration and the steps it took, the relay's work,
and the ticket outbox's backlog (read at scrape time). Made at the worker's start-up."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Histogram
from sqlalchemy.ext.asyncio import AsyncEngine

from services.metrics import Metrics, watch_outbox
from ticket_service.models import OutboxEvent
from ticket_service.sla import SweepReport

# A sweep of a quiet city takes milliseconds; a backlog after an outage, minutes.
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True)
class SlaWorkerMetrics:
    metrics: Metrics
    sweep_duration: Histogram
    sweep_steps: Counter
    sweep_failed: Counter
    relayed: Counter

    def record_sweep(self, report: SweepReport, seconds: float) -> None:
        self.sweep_duration.observe(seconds)
        for step, count in report.counts().items():
            self.sweep_steps.labels(step).inc(count)
        self.sweep_failed.inc(len(report.failed))


def create_sla_worker_metrics(engine: AsyncEngine) -> SlaWorkerMetrics:
    metrics = Metrics("sla_worker")
    metrics.watch_pool(engine)
    watch_outbox(metrics, engine, OutboxEvent, outbox="tickets")
    registry = metrics.registry
    return SlaWorkerMetrics(
        metrics=metrics,
        sweep_duration=Histogram(
            "sla_sweep_duration_seconds",
            "How long one sweep of the 1-3-5 clock took.",
            buckets=SWEEP_BUCKETS,
            registry=registry,
        ),
        sweep_steps=Counter(
            "sla_sweep_steps", "Steps the sweeps took (reminders, escalations, ...).", ["step"], registry=registry
        ),
        sweep_failed=Counter(
            "sla_sweep_failed_tickets",
            "Tickets whose steps failed and were rolled back (due again).",
            registry=registry,
        ),
        relayed=Counter("outbox_relayed_events", "Ticket events this worker published.", registry=registry),
    )

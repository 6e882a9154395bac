from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings

NOTIFICATION_QUEUE = "arq:notifications"


class NotificationSettings(ServiceSettings):
    """The service's and its delivery worker's settings (`NOTIFICATION_` prefix)."""

    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore", populate_by_name=True)

    port: int = 8003
    service_name: str = "notifications"
    webhook_timeout_seconds: float = Field(15.0, gt=0, le=60, description="An answer slower than this is a failure.")
    webhook_secret_grace_seconds: int = Field(
        24 * 3600, ge=0, le=30 * 24 * 3600, description="How long a rotated-out secret still signs."
    )
    webhook_max_payload_bytes: int = Field(256 * 1024, ge=1024, le=4 * 1024 * 1024)
    webhook_disable_after_seconds: int = Field(
        5 * 24 * 3600, ge=60, description="An endpoint failing every delivery this long is disabled."
    )
    webhook_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts or networks (CIDR) a production subscription may reach though they are private (JSON list).",
    )
    tickets_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="A hotline call waits this long for the ticket service, then 503."
    )
    worker_queue_name: str = NOTIFICATION_QUEUE
    worker_batch_size: int = Field(100, ge=1, le=500, description="Deliveries one claim takes.")
    worker_lines: int = Field(
        2, ge=1, le=16, description="Batches a delivery job keeps going at once (one claims while another sends)."
    )
    worker_lease_seconds: int = Field(
        60, ge=5, le=3600, description="A claimed delivery's lease; a killed worker's claims expire after it."
    )
    worker_max_jobs: int = Field(20, ge=1, le=1000)
    worker_metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="Where the delivery worker serves /metrics (0: any free port); unset: nowhere.",
    )
    worker_connections: int = Field(
        200, ge=1, le=2000, description="Open connections to webhook endpoints one worker keeps at most."
    )

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.queue import SLA_QUEUE
from services.settings import SharedSettings


class WorkerSettings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore", populate_by_name=True)

    queue_name: str = SLA_QUEUE
    job_timeout_seconds: int = Field(60, ge=5, le=600)
    max_jobs: int = Field(100, ge=1, le=1000)
    poll_delay_seconds: float = Field(0.05, gt=0, le=5)
    relay_batch_size: int = Field(500, ge=1, le=1000)
    relay_timeout_seconds: float = Field(5.0, gt=0, le=60)
    sweep_chunk_size: int = Field(200, ge=1, le=2000, description="Due tickets a sweep takes per transaction.")
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="Where the worker serves /metrics (0: any free port); unset: nowhere."
    )

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.settings import SharedSettings


class WorkerSettings(SharedSettings):
    model_config = SettingsConfigDict(env_prefix="SLA_", extra="ignore", populate_by_name=True)

    queue_name: str = "arq:sla"
    job_timeout_seconds: int = Field(60, ge=5, le=600)
    max_jobs: int = Field(100, ge=1, le=1000)
    poll_delay_seconds: float = Field(0.05, gt=0, le=5)

from __future__ import annotations

from datetime import time, timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings
from ticket_service.sla_rules import SlaPolicy


class TicketSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKET_", extra="ignore", populate_by_name=True)

    port: int = 8002
    service_name: str = "tickets"
    workday_end: time | None = Field(
        None, description="End of a working day for deadlines, local time; unset means 24:00."
    )
    timezone: str = "Asia/Shanghai"
    feedback_window_days: int = Field(
        7, ge=1, le=90, description="A resolved ticket not rated within this many days closes itself (worker)."
    )
    due_soon_fraction_of_day: float = Field(
        0.5, gt=0, lt=5, description="Due-soon warnings this many working days before each deadline."
    )
    catalog_timeout_seconds: float = Field(2.0, gt=0, le=30)
    stats_fold_seconds: float = Field(
        2.0,
        ge=0,
        le=3600,
        description="How often the statistics' deltas are folded into their summary rows (0: only by a rebuild).",
    )
    stats_gap_threshold_points: float = Field(
        5.0,
        ge=0,
        le=100,
        description="Fairness: flag a gap between the best- and worst-served size past this many points.",
    )

    def sla_policy(self) -> SlaPolicy:
        return SlaPolicy(
            due_soon_fraction_of_day=self.due_soon_fraction_of_day,
            close_after=timedelta(days=self.feedback_window_days),
        )

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class TicketSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TICKET_", extra="ignore", populate_by_name=True)

    port: int = 8002
    service_name: str = "tickets"

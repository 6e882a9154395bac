from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFICATION_", extra="ignore", populate_by_name=True)

    port: int = 8003
    service_name: str = "notifications"

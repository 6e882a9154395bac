from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    port: int = 8000
    service_name: str = "gateway"
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest request body proxied.")
    proxy_pool_size: int = Field(200, ge=1, le=10_000)
    openapi_cache_seconds: float = Field(60.0, ge=0)
    login_failures_burst_per_username: int = Field(
        10, ge=1, le=1_000_000, description="Failed logins one username may have at once before 429."
    )
    login_failures_per_minute_per_username: float = Field(
        1.0, gt=0, le=10_000, description="How fast a username's failed-login allowance refills."
    )
    login_failures_burst_per_ip: int = Field(
        50, ge=1, le=1_000_000, description="Failed logins one client address may have at once before 429."
    )
    login_failures_per_minute_per_ip: float = Field(
        10.0, gt=0, le=100_000, description="How fast a client address's failed-login allowance refills."
    )
    board_cache_seconds: float = Field(
        30.0, ge=0, le=3600, description="How long the public board reuses the statistics it read for a period."
    )

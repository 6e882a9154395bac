from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    port: int = 8000
    service_name: str = "gateway"
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest request body proxied.")
    proxy_pool_size: int = Field(200, ge=1, le=10_000)
    replica_down_seconds: float = Field(
        5.0, gt=0, le=300, description="How long a replica that refused a connection is passed over."
    )
    replica_probe_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        description="How often a replica marked down is asked its /health/ready (and how long each probe waits).",
    )
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
    rate_limit_burst_per_principal: int = Field(
        300, ge=1, le=100_000_000, description="Requests one caller (token subject) may make at once before 429."
    )
    rate_limit_per_minute_per_principal: float = Field(
        600.0, gt=0, le=100_000_000, description="How fast a caller's request allowance refills."
    )
    rate_limit_burst_per_ip: int = Field(
        1200, ge=1, le=100_000_000, description="Requests one client address may make at once before 429."
    )
    rate_limit_per_minute_per_ip: float = Field(
        2400.0, gt=0, le=100_000_000, description="How fast a client address's request allowance refills."
    )
    rate_limit_lease_hits: int = Field(
        10,
        ge=1,
        le=1000,
        description=(
            "Hits of a roomy allowance (a burst of at least 20 leases) one round trip to Redis takes at once, "
            "for an anonymous request's address; 1 asks Redis on every request (services.rate_limit)."
        ),
    )
    rate_limit_lease_seconds: float = Field(
        1.0, gt=0, le=60, description="How long a replica may use leased hits before the unused ones are forfeit."
    )
    rate_limit_redis_timeout_seconds: float = Field(
        0.5, gt=0, le=10, description="How long a request waits for the limiter's Redis before it is admitted."
    )
    trusted_proxies: str = Field(
        "",
        description=(
            "Comma-separated addresses or networks (CIDR) of the proxies in front of the gateway; "
            "X-Forwarded-For and X-Forwarded-Proto count only when the peer is one of them."
        ),
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: str) -> str:
        for entry in _entries(value):
            ip_network(entry, strict=False)
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ip_network(entry, strict=False) for entry in _entries(self.trusted_proxies))


def _entries(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(",") if entry.strip()]

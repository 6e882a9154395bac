"""Settings shared by every process, and the base class that each service extends.

Shared values (database, Redis, secrets) are read from unprefixed variables such as
`DATABASE_URL`; each service's own values use its prefix (`GATEWAY_PORT`, `CATALOG_PORT`, ...).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.replicas import parse_urls

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The hotline's documented development secret (README, DESIGN §5): the hotline's test system
# signs with it. JWT_SECRET and INTERNAL_TOKEN have no such constant: unset, a development
# process generates them once under `var/secrets/` (see `development_secret`).
DEFAULT_HOTLINE_SECRET = "whsec_ZGV2LW9ubHktaG90bGluZS1zZWNyZXQtOTY1ODA4"
DEFAULT_DEMO_PASSWORD = "demo-965808"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

Environment = Literal["development", "test", "production"]


class InsecureSettingsError(ValueError):
    """A production process lacks an explicit secret, or was given a development default."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


def development_secret(var_dir: Path, name: str) -> str:
    """The random secret `name` of this development platform, kept in `var_dir/secrets/<name>`
    (mode 0600) and created on first use.

    Every process of one platform reads the same file. The value is written whole to a private
    temporary file and then hard-linked into place, which fails if the file exists: of two
    processes starting at once, one link wins and both read its value."""
    directory = var_dir / "secrets"
    path = directory / name
    if not path.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
            # Another process's link won: its value is the one to read.
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()


class SharedSettings(BaseSettings):
    """Values every process reads; unprefixed environment variables."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None, populate_by_name=True)

    environment: Environment = Field("development", validation_alias=_env("ENVIRONMENT"))
    var_dir: Path = Field(PROJECT_ROOT / "var", validation_alias=_env("VAR_DIR"))
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    # Empty means unset: generated under `var/secrets/` outside production (see the validator).
    jwt_secret: SecretStr = Field(SecretStr(""), validation_alias=_env("JWT_SECRET"))
    jwt_issuer: str = Field("965808-gateway", validation_alias=_env("JWT_ISSUER"))
    access_token_ttl_seconds: int = Field(3600, ge=60, le=86400, validation_alias=_env("ACCESS_TOKEN_TTL_SECONDS"))
    internal_token: SecretStr = Field(SecretStr(""), validation_alias=_env("INTERNAL_TOKEN"))
    hotline_webhook_secret: SecretStr = Field(
        SecretStr(DEFAULT_HOTLINE_SECRET), validation_alias=_env("HOTLINE_WEBHOOK_SECRET")
    )
    demo_password: SecretStr = Field(SecretStr(DEFAULT_DEMO_PASSWORD), validation_alias=_env("DEMO_PASSWORD"))
    log_level: str = Field("INFO", validation_alias=_env("LOG_LEVEL"))
    log_json: bool = Field(True, validation_alias=_env("LOG_JSON"))
    # FastAPI's own OpenTelemetry spans and metrics: off unless asked for, since it looks up the
    # global OTel providers on every request (a few percent of a fast one) and the platform
    # carries its own request id and traceparent.
    otel_enabled: bool = Field(False, validation_alias=_env("OTEL_ENABLED"))
    bind_host: str = Field("127.0.0.1", validation_alias=_env("BIND_HOST"))
    gateway_url: str = Field("http://127.0.0.1:8000", validation_alias=_env("GATEWAY_URL"))
    catalog_url: str = Field("http://127.0.0.1:8001", validation_alias=_env("CATALOG_URL"))
    ticket_url: str = Field("http://127.0.0.1:8002", validation_alias=_env("TICKET_URL"))
    notification_url: str = Field("http://127.0.0.1:8003", validation_alias=_env("NOTIFICATION_URL"))
    # Several replicas of a service, comma-separated (`CATALOG_URLS=http://a,http://b`); when
    # unset, the singular variable above is the only one.
    catalog_urls: str = Field("", validation_alias=_env("CATALOG_URLS"))
    ticket_urls: str = Field("", validation_alias=_env("TICKET_URLS"))
    notification_urls: str = Field("", validation_alias=_env("NOTIFICATION_URLS"))
    upstream_timeout_seconds: float = Field(10.0, gt=0, le=120, validation_alias=_env("UPSTREAM_TIMEOUT_SECONDS"))
    # Strict-Transport-Security on answers served over HTTPS; 0 sends none. Turn it on only
    # where every name of the platform is served over HTTPS, since browsers remember it.
    hsts_max_age_seconds: int = Field(0, ge=0, le=63_072_000, validation_alias=_env("HSTS_MAX_AGE_SECONDS"))
    # Who reads `/metrics` besides a loopback caller connecting directly (services.metrics):
    # one showing `Authorization: Bearer <METRICS_TOKEN>`. Empty: loopback callers only.
    metrics_token: SecretStr = Field(SecretStr(""), validation_alias=_env("METRICS_TOKEN"))
    # Off, an HTTP process neither times its requests nor serves `/metrics` (benchmarks/gateway_cost.py
    # measures what they cost the gateway's hot path).
    metrics_enabled: bool = Field(True, validation_alias=_env("METRICS_ENABLED"))

    @property
    def catalog_replicas(self) -> list[str]:
        return parse_urls(self.catalog_urls, self.catalog_url)

    @property
    def ticket_replicas(self) -> list[str]:
        return parse_urls(self.ticket_urls, self.ticket_url)

    @property
    def notification_replicas(self) -> list[str]:
        return parse_urls(self.notification_urls, self.notification_url)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.var_dir / 'platform.db'}"

    @property
    def effective_redis_url(self) -> str:
        """`REDIS_URL`, else the local default (the launcher starts an embedded one when unset)."""
        return self.redis_url or DEFAULT_REDIS_URL

    @model_validator(mode="after")
    def _explicit_secrets_in_production(self) -> Self:
        generated = {"JWT_SECRET": "jwt_secret", "INTERNAL_TOKEN": "internal_token"}
        if not self.is_production:
            for attribute in generated.values():
                if not getattr(self, attribute).get_secret_value():
                    setattr(self, attribute, SecretStr(development_secret(self.var_dir, attribute)))
            return self
        missing = [name for name, attribute in generated.items() if not getattr(self, attribute).get_secret_value()]
        if self.hotline_webhook_secret.get_secret_value() in ("", DEFAULT_HOTLINE_SECRET):
            missing.append("HOTLINE_WEBHOOK_SECRET")
        if missing:
            raise InsecureSettingsError(
                "refusing to start in production without explicit secrets: " + ", ".join(missing)
            )
        if len(self.jwt_secret.get_secret_value()) < 32:
            raise InsecureSettingsError("JWT_SECRET must be at least 32 characters in production")
        if self.database_url is None:
            raise InsecureSettingsError("DATABASE_URL must be set in production")
        return self


class ServiceSettings(SharedSettings):
    """Base for one HTTP service's settings; subclasses set `env_prefix` and the default port."""

    port: int = Field(8000, ge=1, le=65535)
    service_name: str = "service"
    # `<PREFIX>_MAX_BODY_BYTES`: a larger request body gets 413, even from a caller that
    # reaches the service without the gateway.
    max_body_bytes: int = Field(1_048_576, ge=1024, description="Largest request body accepted.")

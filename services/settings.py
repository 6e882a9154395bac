"""Settings shared by every process, and the base class that each service extends.

Shared values (database, Redis, secrets) are read from unprefixed variables such as
`DATABASE_URL`; each service's own values use its prefix (`GATEWAY_PORT`, `CATALOG_PORT`, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789"
DEFAULT_HOTLINE_SECRET = "whsec_ZGV2LW9ubHktaG90bGluZS1zZWNyZXQtOTY1ODA4"
DEFAULT_INTERNAL_TOKEN = "dev-only-internal-token"
DEFAULT_DEMO_PASSWORD = "demo-965808"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

Environment = Literal["development", "test", "production"]


class InsecureSettingsError(ValueError):
    """A production process was configured with a development default secret."""


def _env(name: str) -> AliasChoices:
    return AliasChoices(name)


class SharedSettings(BaseSettings):
    """Values every process reads; unprefixed environment variables."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None, populate_by_name=True)

    environment: Environment = Field("development", validation_alias=_env("ENVIRONMENT"))
    var_dir: Path = Field(PROJECT_ROOT / "var", validation_alias=_env("VAR_DIR"))
    database_url: str | None = Field(None, validation_alias=_env("DATABASE_URL"))
    redis_url: str | None = Field(None, validation_alias=_env("REDIS_URL"))
    jwt_secret: SecretStr = Field(SecretStr(DEFAULT_JWT_SECRET), validation_alias=_env("JWT_SECRET"))
    jwt_issuer: str = Field("965808-gateway", validation_alias=_env("JWT_ISSUER"))
    access_token_ttl_seconds: int = Field(3600, ge=60, le=86400, validation_alias=_env("ACCESS_TOKEN_TTL_SECONDS"))
    internal_token: SecretStr = Field(SecretStr(DEFAULT_INTERNAL_TOKEN), validation_alias=_env("INTERNAL_TOKEN"))
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
    upstream_timeout_seconds: float = Field(10.0, gt=0, le=120, validation_alias=_env("UPSTREAM_TIMEOUT_SECONDS"))

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
    def _refuse_default_secrets_in_production(self) -> Self:
        if not self.is_production:
            return self
        defaults = {
            "JWT_SECRET": (self.jwt_secret, DEFAULT_JWT_SECRET),
            "INTERNAL_TOKEN": (self.internal_token, DEFAULT_INTERNAL_TOKEN),
            "HOTLINE_WEBHOOK_SECRET": (self.hotline_webhook_secret, DEFAULT_HOTLINE_SECRET),
        }
        insecure = [name for name, (value, default) in defaults.items() if value.get_secret_value() == default]
        if insecure:
            raise InsecureSettingsError(
                "refusing to start in production with development default secrets: " + ", ".join(insecure)
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

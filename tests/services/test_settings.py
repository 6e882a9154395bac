from __future__ import annotations

import pytest
from pydantic import ValidationError

from catalog_service.settings import CatalogSettings
from gateway.settings import GatewaySettings
from services.settings import DEFAULT_JWT_SECRET, SharedSettings

STRONG = {
    "JWT_SECRET": "x" * 40,
    "INTERNAL_TOKEN": "internal-" + "y" * 30,
    "HOTLINE_WEBHOOK_SECRET": "whsec_" + "z" * 32,
    "DATABASE_URL": "postgresql+asyncpg://db/platform",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "ENVIRONMENT",
        "JWT_SECRET",
        "INTERNAL_TOKEN",
        "HOTLINE_WEBHOOK_SECRET",
        "DATABASE_URL",
        "CATALOG_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_refuses_default_secrets(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ENVIRONMENT", "production")
    clean_env.setenv("DATABASE_URL", "postgresql+asyncpg://db/platform")
    with pytest.raises(ValidationError, match="JWT_SECRET, INTERNAL_TOKEN, HOTLINE_WEBHOOK_SECRET"):
        GatewaySettings()


@pytest.mark.parametrize("missing", sorted(STRONG))
def test_production_needs_every_secret_and_a_database(clean_env: pytest.MonkeyPatch, missing: str) -> None:
    clean_env.setenv("ENVIRONMENT", "production")
    for name, value in STRONG.items():
        if name != missing:
            clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match=missing):
        SharedSettings()


def test_production_with_real_secrets_starts(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ENVIRONMENT", "production")
    for name, value in STRONG.items():
        clean_env.setenv(name, value)
    settings = SharedSettings()
    assert settings.is_production
    assert settings.jwt_secret.get_secret_value() != DEFAULT_JWT_SECRET


def test_short_jwt_secret_is_refused_in_production(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ENVIRONMENT", "production")
    for name, value in STRONG.items():
        clean_env.setenv(name, value)
    clean_env.setenv("JWT_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        SharedSettings()


def test_development_defaults_and_service_prefixes(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CATALOG_PORT", "9101")
    clean_env.setenv("DATABASE_URL", "sqlite+aiosqlite:///tmp/x.db")
    catalog = CatalogSettings()
    assert catalog.port == 9101
    assert GatewaySettings().port == 8000
    assert catalog.effective_database_url == "sqlite+aiosqlite:///tmp/x.db"
    clean_env.delenv("DATABASE_URL")
    assert SharedSettings().effective_database_url.endswith("var/platform.db")

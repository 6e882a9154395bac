from __future__ import annotations

import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from catalog_service.settings import CatalogSettings
from gateway.app import upstream_urls
from gateway.settings import GatewaySettings
from services.settings import DEFAULT_HOTLINE_SECRET, SharedSettings, development_secret

STRONG = {
    "JWT_SECRET": "x" * 40,
    "INTERNAL_TOKEN": "internal-" + "y" * 30,
    "HOTLINE_WEBHOOK_SECRET": "whsec_" + "z" * 32,
    "DATABASE_URL": "postgresql+asyncpg://db/platform",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
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


def test_production_refuses_to_start_without_explicit_secrets(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("ENVIRONMENT", "production")
    clean_env.setenv("DATABASE_URL", "postgresql+asyncpg://db/platform")
    with pytest.raises(
        ValidationError, match="without explicit secrets: JWT_SECRET, INTERNAL_TOKEN, HOTLINE_WEBHOOK_SECRET"
    ):
        GatewaySettings()
    assert not (tmp_path / "secrets").exists(), "production never generates a secret"


def test_production_refuses_the_documented_hotline_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ENVIRONMENT", "production")
    for name, value in STRONG.items():
        clean_env.setenv(name, value)
    clean_env.setenv("HOTLINE_WEBHOOK_SECRET", DEFAULT_HOTLINE_SECRET)
    with pytest.raises(ValidationError, match="HOTLINE_WEBHOOK_SECRET"):
        SharedSettings()


def test_development_secrets_are_generated_once_per_var_dir(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    first, second = SharedSettings(), CatalogSettings()
    assert first.jwt_secret.get_secret_value() == second.jwt_secret.get_secret_value()
    assert first.internal_token.get_secret_value() == second.internal_token.get_secret_value()
    assert len(first.jwt_secret.get_secret_value()) >= 32
    assert first.jwt_secret.get_secret_value() != first.internal_token.get_secret_value()
    for name in ("jwt_secret", "internal_token"):
        kept = tmp_path / "secrets" / name
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert kept.read_text() == getattr(first, name).get_secret_value()
    other = SharedSettings(var_dir=tmp_path / "another-platform")
    assert other.jwt_secret.get_secret_value() != first.jwt_secret.get_secret_value()


def test_an_explicit_development_secret_is_used_as_given(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("JWT_SECRET", "a-secret-the-developer-chose-0123456789")
    assert SharedSettings().jwt_secret.get_secret_value() == "a-secret-the-developer-chose-0123456789"
    assert not (tmp_path / "secrets" / "jwt_secret").exists()


def test_processes_starting_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    starters = 16
    barrier = threading.Barrier(starters)

    def start() -> str:
        barrier.wait()
        return development_secret(tmp_path, "jwt_secret")

    with ThreadPoolExecutor(starters) as pool:
        values = set(pool.map(lambda _: start(), range(starters)))
    assert len(values) == 1
    assert sorted(path.name for path in (tmp_path / "secrets").iterdir()) == ["jwt_secret"]


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
    assert settings.jwt_secret.get_secret_value() == STRONG["JWT_SECRET"]


def test_short_jwt_secret_is_refused_in_production(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("ENVIRONMENT", "production")
    for name, value in STRONG.items():
        clean_env.setenv(name, value)
    clean_env.setenv("JWT_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        SharedSettings()


def test_development_defaults_and_service_prefixes(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("CATALOG_PORT", "9101")
    clean_env.setenv("DATABASE_URL", "sqlite+aiosqlite:///tmp/x.db")
    catalog = CatalogSettings()
    assert catalog.port == 9101
    assert GatewaySettings().port == 8000
    assert catalog.effective_database_url == "sqlite+aiosqlite:///tmp/x.db"
    clean_env.delenv("DATABASE_URL")
    assert SharedSettings().effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"


def test_several_replicas_of_a_service_come_from_the_plural_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CATALOG_URLS", "http://127.0.0.1:9101,http://127.0.0.1:9102")
    monkeypatch.setenv("TICKET_URL", "http://127.0.0.1:9200")
    monkeypatch.delenv("TICKET_URLS", raising=False)
    settings = GatewaySettings()
    assert upstream_urls(settings) == {
        "catalog": ["http://127.0.0.1:9101", "http://127.0.0.1:9102"],
        "tickets": ["http://127.0.0.1:9200"],
        "notifications": [settings.notification_url],
    }

"""One alembic history in `migrations/` creates every service's tables."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from services.settings import PROJECT_ROOT


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if url:
        config.attributes["url"] = url
    return config


def migrate(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)

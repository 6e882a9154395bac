from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", populate_by_name=True)

    port: int = 8001
    service_name: str = "catalog"
    read_cache_seconds: float = Field(
        1.0, ge=0, le=300, description="Anonymous reads are served from memory this long; 0 turns it off."
    )
    relay_interval_seconds: float = Field(
        5.0, ge=0, le=300, description="How often published menus and policies are relayed; 0 turns the relay off."
    )
    visit_flush_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description=(
            "How often the visits counted in memory are added to the database; 0: only when the figures"
            " are read and when the process stops."
        ),
    )

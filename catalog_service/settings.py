from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from services.settings import ServiceSettings


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", populate_by_name=True)

    port: int = 8001
    service_name: str = "catalog"

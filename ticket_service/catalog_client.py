"""A small typed client for the catalogue service (the ticket service never reads its tables)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ticket_service.errors import CatalogUnavailable

# A bound on a listing walk: 100 pages of 100 is far more departments than a city has.
_MAX_PAGES = 100


@dataclass(frozen=True, slots=True)
class CatalogItem:
    code: str
    title: str
    category_code: str
    lead_department_code: str
    co_department_codes: list[str]
    eligible_sizes: list[str]
    sla_profile: str
    status: str

    def snapshot(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "category_code": self.category_code,
            "lead_department_code": self.lead_department_code,
            "co_department_codes": list(self.co_department_codes),
            "sla_profile": self.sla_profile,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> CatalogItem:
        return cls(
            code=body["code"],
            title=body["title"],
            category_code=body["category_code"],
            lead_department_code=body["lead_department_code"],
            co_department_codes=list(body["co_department_codes"]),
            eligible_sizes=list(body["eligible_sizes"]),
            sla_profile=body["sla_profile"],
            status=body["status"],
        )


class CatalogClient:
    """Reads the published catalogue as an anonymous caller would; short timeouts; 503 when down."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def _get(self, path: str) -> Any | None:
        try:
            response = await self.http.get(path)
        except httpx.TimeoutException as exc:
            raise CatalogUnavailable("timed out") from exc
        except httpx.HTTPError as exc:
            raise CatalogUnavailable(type(exc).__name__) from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise CatalogUnavailable(f"status {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise CatalogUnavailable("unreadable answer") from exc

    async def get_item(self, code: str) -> CatalogItem | None:
        body = await self._get(f"/api/v1/items/{code}")
        return CatalogItem.from_json(body) if body is not None else None

    async def current_menu_items(self) -> dict[str, CatalogItem]:
        """The published items of the current menu, by code (none when no menu is published)."""
        body = await self._get("/api/v1/menus/current")
        return {item["code"]: CatalogItem.from_json(item) for item in body["items"]} if body else {}

    async def category_exists(self, code: str) -> bool:
        return await self._get(f"/api/v1/categories/{code}") is not None

    async def category_co_departments(self, code: str) -> list[str]:
        """The category's default co-handling departments (used when a free request goes to joint review)."""
        body = await self._get(f"/api/v1/categories/{code}")
        return list(body.get("default_co_department_codes", [])) if body else []

    async def department_codes(self) -> list[str]:
        """Every active department's code, in the catalogue's order (all pages)."""
        codes: list[str] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            path = "/api/v1/departments?limit=100" + (f"&cursor={cursor}" if cursor else "")
            body = await self._get(path)
            if not body:
                break
            codes += [item["code"] for item in body["items"]]
            cursor = body.get("next_cursor")
            if not cursor:
                break
        return codes

    async def department_exists(self, code: str) -> bool:
        return await self._get(f"/api/v1/departments/{code}") is not None

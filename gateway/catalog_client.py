"""The catalogue's departments as the public board names them: a small typed client over the
gateway's shared httpx client for the catalogue (public reads, no credentials)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

PAGE_LIMIT = 100
MAX_PAGES = 20


@dataclass(frozen=True, slots=True)
class DepartmentName:
    name: str
    short_name: str

    @property
    def label(self) -> str:
        """The short name where the catalogue has one (charts), else the full name."""
        return self.short_name or self.name


class CatalogDepartments:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def names(self) -> dict[str, DepartmentName]:
        """Every department's names by code; empty when the catalogue cannot say (the board then
        shows codes rather than fail: the figures come from the ticket service)."""
        names: dict[str, DepartmentName] = {}
        params: dict[str, str | int] = {"limit": PAGE_LIMIT}
        for _ in range(MAX_PAGES):
            try:
                response = await self.http.get("/api/v1/departments", params=params)
                if response.status_code != 200:
                    return {}
                body = response.json()
                for row in body["items"]:
                    names[str(row["code"])] = DepartmentName(name=str(row["name"]), short_name=str(row["short_name"]))
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                return {}
            cursor = body.get("next_cursor")
            if not cursor:
                break
            params = {"limit": PAGE_LIMIT, "cursor": str(cursor)}
        return names

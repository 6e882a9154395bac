"""The ticket service's statistics as the public board reads them: a small typed client over the
gateway's shared httpx client for the tickets upstream (the gateway never reads its tables).

The statistics API is for supervisors, admins and staff; the board is public, so the gateway
calls it with the platform's internal token, which never leaves the platform's own processes.
Only department-level figures reach the page: no ticket, person or enterprise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import httpx

from gateway.errors import StatsUnavailable
from services.errors import ProblemError

REFUSALS_PASSED_ON = frozenset({400, 422})
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ratio:
    """`count` of `of`, as the API gives it; `rate` is None when `of` is 0."""

    count: int
    of: int
    rate: float | None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Ratio:
        rate = body["rate"]
        return cls(count=int(body["count"]), of=int(body["of"]), rate=None if rate is None else float(rate))


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Period:
        return cls(start=date.fromisoformat(body["start"]), end=date.fromisoformat(body["end"]))


@dataclass(frozen=True, slots=True)
class DepartmentScore:
    rank: int
    department_code: str
    score: float
    max_score: float


@dataclass(frozen=True, slots=True)
class Scores:
    period: Period
    scheme_version: int
    ranked: list[DepartmentScore]
    without_tickets: list[str]


@dataclass(frozen=True, slots=True)
class DepartmentRates:
    department_code: str
    received: int
    resolved_on_time: Ratio
    satisfaction: Ratio


@dataclass(frozen=True, slots=True)
class Overview:
    units_joined: int | None
    visits: int | None
    policies_published: int | None
    items_published: int | None
    requests_received: int
    completion: Ratio
    satisfaction: Ratio


@dataclass(frozen=True, slots=True)
class WeekTrend:
    week_start: date
    received: int
    resolved_on_time: Ratio
    satisfaction: Ratio


class StatsClient:
    """Reads the statistics API; short timeouts; StatsUnavailable (503) when it cannot."""

    def __init__(self, http: httpx.AsyncClient, *, token: str) -> None:
        self.http = http
        self._headers = {"X-Internal-Token": token}

    async def _get(self, path: str, period: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self.http.get(path, params=period, headers=self._headers)
        except httpx.TimeoutException as exc:
            raise StatsUnavailable("timed out") from exc
        except httpx.HTTPError as exc:
            raise StatsUnavailable(type(exc).__name__) from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise StatsUnavailable(f"unreadable answer, status {response.status_code}") from exc
        if response.status_code in REFUSALS_PASSED_ON and isinstance(body, dict) and "code" in body:
            # The statistics API's own refusal of the period (more than it covers, say) is the reader's to see.
            raise ProblemError(
                body.get("detail"),
                status=response.status_code,
                code=str(body["code"]),
                title=body.get("title"),
                **({"errors": body["errors"]} if "errors" in body else {}),
            )
        if response.status_code != 200 or not isinstance(body, dict):
            raise StatsUnavailable(f"status {response.status_code}")
        return body

    async def _read(self, path: str, period: dict[str, str], parse: Callable[[dict[str, Any]], T]) -> T:
        body = await self._get(path, period)
        try:
            return parse(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise StatsUnavailable(f"unreadable answer from {path}") from exc

    async def scores(self, period: dict[str, str]) -> Scores:
        return await self._read("/api/v1/stats/scores", period, _scores)

    async def department_rates(self, period: dict[str, str]) -> dict[str, DepartmentRates]:
        return await self._read("/api/v1/stats/departments", period, _department_rates)

    async def overview(self, period: dict[str, str]) -> Overview:
        return await self._read("/api/v1/stats/overview", period, _overview)

    async def trends(self, period: dict[str, str]) -> list[WeekTrend]:
        return await self._read("/api/v1/stats/trends", period, _trends)


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _scores(body: dict[str, Any]) -> Scores:
    ranked = [
        DepartmentScore(
            rank=int(row["rank"]),
            department_code=str(row["department_code"]),
            score=float(row["score"]),
            max_score=float(row["max_score"]),
        )
        for row in body["scores"]
    ]
    return Scores(
        period=Period.from_json(body["period"]),
        scheme_version=int(body["scheme_version"]),
        ranked=sorted(ranked, key=lambda row: row.rank),
        without_tickets=[str(code) for code in body["without_tickets"]],
    )


def _department_rates(body: dict[str, Any]) -> dict[str, DepartmentRates]:
    rates = (
        DepartmentRates(
            department_code=str(row["department_code"]),
            received=int(row["received"]),
            resolved_on_time=Ratio.from_json(row["resolved_on_time"]),
            satisfaction=Ratio.from_json(row["satisfaction"]),
        )
        for row in body["departments"]
    )
    return {row.department_code: row for row in rates}


def _overview(body: dict[str, Any]) -> Overview:
    return Overview(
        units_joined=_optional_int(body["units_joined"]),
        visits=_optional_int(body["visits"]),
        policies_published=_optional_int(body["policies_published"]),
        items_published=_optional_int(body["items_published"]),
        requests_received=int(body["requests_received"]),
        completion=Ratio.from_json(body["completion"]),
        satisfaction=Ratio.from_json(body["satisfaction"]),
    )


def _trends(body: dict[str, Any]) -> list[WeekTrend]:
    return [
        WeekTrend(
            week_start=date.fromisoformat(week["week_start"]),
            received=int(week["received"]),
            resolved_on_time=Ratio.from_json(week["resolved_on_time"]),
            satisfaction=Ratio.from_json(week["satisfaction"]),
        )
        for week in body["weeks"]
    ]

"""The assessment's scoring scheme (纳入年度考核): versions an admin writes, and scoring by one.

Pure scoring (`score_department`) plus the versions' storage: each change is a new row of
`scoring_schemes` (who, when, why, the whole scheme), never an update, so a scorecard that names
its version can be reproduced. Version 0 is the built-in default, modelled on published city
schemes: on-time completion 20 points, minus 1 per percentage point below 95 %; satisfaction
25 points, minus 0.5 per point below 98 %, never below 12.5."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import Reader, utcnow
from services.errors import Unprocessable
from services.principals import Principal
from ticket_service.errors import InvalidScheme, SchemeNotFound
from ticket_service.models import ScoringScheme

# Lower is better for these: the threshold is the most allowed.
LOWER_IS_BETTER = frozenset({"redo", "returned"})

DEFAULT_SCHEME: dict[str, Any] = {
    "indicators": [
        {
            "indicator": "accepted_on_time",
            "label": "及时签收率",
            "points": 15,
            "threshold": 98,
            "deduction": 1,
            "floor": 0,
        },
        {
            "indicator": "resolved_on_time",
            "label": "按时办结率",
            "points": 20,
            "threshold": 95,
            "deduction": 1,
            "floor": 0,
        },
        {"indicator": "completion", "label": "办结率", "points": 15, "threshold": 95, "deduction": 1, "floor": 0},
        {
            "indicator": "satisfaction",
            "label": "满意率",
            "points": 25,
            "threshold": 98,
            "deduction": 0.5,
            "floor": 12.5,
        },
        {"indicator": "redo", "label": "发回重办率", "points": 10, "threshold": 5, "deduction": 1, "floor": 0},
        {"indicator": "returned", "label": "回退率", "points": 15, "threshold": 10, "deduction": 0.5, "floor": 0},
    ],
    "groups": [],
    "default_weight": 1.0,
    "note": "Built-in default.",
}


def indicator_points(rule: Mapping[str, Any], rate: float | None) -> tuple[float, float]:
    """(points scored, deduction) for one indicator at `rate` (0–1). No rate (nothing to judge):
    full points. Each percentage point past the threshold costs `deduction`, down to `floor`."""
    points = float(rule["points"])
    if rate is None:
        return points, 0.0
    percent = rate * 100
    threshold = float(rule["threshold"])
    shortfall = percent - threshold if rule["indicator"] in LOWER_IS_BETTER else threshold - percent
    deduction = max(0.0, shortfall) * float(rule["deduction"])
    scored = max(float(rule.get("floor", 0)), points - deduction)
    return round(scored, 2), round(points - scored, 2)


def weight_of(scheme: Mapping[str, Any], department_code: str) -> tuple[str | None, float]:
    for group in scheme["groups"]:
        if department_code in group["department_codes"]:
            return group["name"], float(group["weight"])
    return None, float(scheme["default_weight"])


def score_department(scheme: Mapping[str, Any], figures: Mapping[str, Any]) -> dict[str, Any]:
    """A department's score under `scheme` from its figures (`stats.department_figures`)."""
    indicators = []
    for rule in scheme["indicators"]:
        rate = figures[rule["indicator"]]["rate"]
        points, deduction = indicator_points(rule, rate)
        indicators.append(
            {
                "indicator": rule["indicator"],
                "label": rule["label"],
                "rate": rate,
                "points": points,
                "max_points": float(rule["points"]),
                "deduction": deduction,
            }
        )
    group, weight = weight_of(scheme, figures["department_code"])
    raw = round(sum(item["points"] for item in indicators), 2)
    return {
        "department_code": figures["department_code"],
        "group": group,
        "weight": weight,
        "raw_score": raw,
        "score": round(raw * weight, 2),
        "max_score": round(sum(float(rule["points"]) for rule in scheme["indicators"]) * weight, 2),
        "indicators": indicators,
    }


def rank(scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Best first; equal scores share a rank (1, 1, 3), then by department code."""
    ordered = sorted(scores, key=lambda item: (-item["score"], item["department_code"]))
    ranked: list[dict[str, Any]] = []
    for position, item in enumerate(ordered, start=1):
        same = ranked and ranked[-1]["score"] == item["score"]
        ranked.append({"rank": ranked[-1]["rank"] if same else position, **item})
    return ranked


def _check(definition: Mapping[str, Any]) -> None:
    seen: set[str] = set()
    for n, rule in enumerate(definition["indicators"]):
        if rule["indicator"] in seen:
            raise _invalid(["body", "indicators", n, "indicator"], "Each indicator may appear once.")
        seen.add(rule["indicator"])
        if rule["floor"] > rule["points"]:
            raise _invalid(["body", "indicators", n, "floor"], "The floor cannot exceed the points.")
    grouped: set[str] = set()
    for n, group in enumerate(definition["groups"]):
        overlap = grouped & set(group["department_codes"])
        if overlap:
            raise _invalid(["body", "groups", n, "department_codes"], f"Already in a group: {sorted(overlap)}.")
        grouped |= set(group["department_codes"])


def _invalid(loc: list[str | int], message: str) -> Unprocessable:
    return InvalidScheme(loc, message)


def _stored(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored version as the API shows it."""
    return {
        **row["definition"],
        "note": row["note"],
        "version": row["version"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
    }


def _default() -> dict[str, Any]:
    return {**DEFAULT_SCHEME, "version": 0, "created_by": "system", "created_at": "2026-01-01T00:00:00Z"}


async def get_scheme(db: Reader, *, version: int | None = None) -> dict[str, Any]:
    """The scheme of `version`, or the latest (the built-in default while there is none)."""
    table = ScoringScheme.__table__
    if version == 0:
        return _default()
    query = select(table)
    query = query.where(table.c.version == version) if version is not None else query.order_by(table.c.version.desc())
    row = (await db.execute(query.limit(1))).mappings().first()
    if row is None:
        if version is not None:
            raise SchemeNotFound(version)
        return _default()
    return _stored(row)


async def list_schemes(db: Reader) -> list[dict[str, Any]]:
    table = ScoringScheme.__table__
    rows = (await db.execute(select(table).order_by(table.c.version))).mappings().all()
    return [_default(), *(_stored(row) for row in rows)]


async def save_scheme(session: AsyncSession, *, principal: Principal, definition: dict[str, Any]) -> dict[str, Any]:
    """A new version of the scheme; the older ones stay as they were."""
    _check(definition)
    table = ScoringScheme.__table__
    latest = (await session.execute(select(func.max(table.c.version)))).scalar() or 0
    note = definition.pop("note", "")
    row = ScoringScheme(
        version=latest + 1,
        definition=definition,
        note=note,
        created_by=principal.subject,
        role=principal.role.value,
        created_at=utcnow(),
    )
    session.add(row)
    await session.flush()
    return _stored(
        {
            "definition": definition,
            "note": note,
            "version": row.version,
            "created_by": row.created_by,
            "created_at": row.created_at,
        }
    )

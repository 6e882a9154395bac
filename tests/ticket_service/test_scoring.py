"""The scoring scheme: deductions and floors at their edges, versions, who may change and see it."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Platform
from tests.ticket_service.helpers import API, assert_problem
from tests.ticket_service.test_stats_figures import PERIOD, national_day_history
from ticket_service.scoring import DEFAULT_SCHEME, indicator_points, rank, score_department

ON_TIME = {"indicator": "resolved_on_time", "points": 20, "threshold": 95, "deduction": 1, "floor": 0}
SATISFACTION = {"indicator": "satisfaction", "points": 25, "threshold": 98, "deduction": 0.5, "floor": 12.5}
REDO = {"indicator": "redo", "points": 10, "threshold": 5, "deduction": 1, "floor": 0}


@pytest.mark.parametrize(
    ("rule", "rate", "points", "deduction"),
    [
        (ON_TIME, 0.95, 20.0, 0.0),  # at the threshold: full points
        (ON_TIME, 0.9499, 19.99, 0.01),  # 0.01 point below: 0.01 off
        (ON_TIME, 0.94, 19.0, 1.0),  # one point below: 1 off
        (ON_TIME, 1.0, 20.0, 0.0),
        (ON_TIME, 0.75, 0.0, 20.0),  # 20 points below: nothing left
        (ON_TIME, 0.5, 0.0, 20.0),  # further still: not below zero
        (ON_TIME, None, 20.0, 0.0),  # nothing to judge
        (SATISFACTION, 0.98, 25.0, 0.0),
        (SATISFACTION, 0.97, 24.5, 0.5),
        (SATISFACTION, 0.73, 12.5, 12.5),  # 25 points below: 12.5 off, exactly the floor
        (SATISFACTION, 0.72, 12.5, 12.5),  # past it: the floor holds
        (SATISFACTION, 0.0, 12.5, 12.5),
        (REDO, 0.05, 10.0, 0.0),  # lower is better: at the most allowed, full points
        (REDO, 0.07, 8.0, 2.0),  # two points over
        (REDO, 0.0, 10.0, 0.0),
    ],
)
def test_deductions_and_floors_at_their_edges(
    rule: dict[str, Any], rate: float | None, points: float, deduction: float
) -> None:
    assert indicator_points(rule, rate) == (points, deduction)


def test_a_group_weight_scales_the_score_and_ties_share_a_rank() -> None:
    scheme = {**DEFAULT_SCHEME, "groups": [{"name": "窗口单位", "weight": 1.2, "department_codes": ["b"]}]}
    full = {"count": 1, "of": 1, "rate": 1.0, "denominator": "x"}
    none = {"count": 0, "of": 1, "rate": 0.0, "denominator": "x"}
    rates = {"accepted_on_time": full, "resolved_on_time": full, "completion": full, "satisfaction": full}
    scored = [
        score_department(scheme, {"department_code": code, **rates, "redo": none, "returned": none})
        for code in ("a", "b", "c")
    ]
    assert [(item["raw_score"], item["score"], item["weight"]) for item in scored] == [
        (100.0, 100.0, 1.0),
        (100.0, 120.0, 1.2),
        (100.0, 100.0, 1.0),
    ]
    assert [(item["rank"], item["department_code"]) for item in rank(scored)] == [(1, "b"), (2, "a"), (2, "c")]


SCHEME = {
    "indicators": [
        {"indicator": "resolved_on_time", "label": "按时办结率", "points": 60, "threshold": 90, "deduction": 2},
        {"indicator": "satisfaction", "label": "满意率", "points": 40, "threshold": 95, "deduction": 1, "floor": 20},
    ],
    "groups": [{"name": "综合部门", "weight": 1.1, "department_codes": ["fgw"]}],
    "note": "2027 年度方案",
}


async def scores(platform: Platform, username: str, **params: Any) -> Any:
    response = await platform.client.get(
        f"{API}/stats/scores", params={**PERIOD, **params}, headers=await platform.auth(username)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_admin_versions_the_scheme_and_a_scorecard_names_its_version(
    platform: Platform, session: AsyncSession
) -> None:
    await national_day_history(session)
    before = await scores(platform, "supervisor")
    assert before["scheme_version"] == 0
    refused = await platform.client.put(f"{API}/stats/scheme", json=SCHEME, headers=await platform.auth("supervisor"))
    assert_problem(refused, 403, "role_not_allowed")
    written = await platform.client.put(f"{API}/stats/scheme", json=SCHEME, headers=await platform.auth("admin"))
    assert written.status_code == 201, written.text
    assert (written.json()["version"], written.json()["created_by"], written.json()["note"]) == (
        1,
        "admin",
        SCHEME["note"],
    )
    after = await scores(platform, "supervisor")
    fgw = {item["department_code"]: item for item in after["scores"]}["fgw"]
    # fgw: on time 3 of 6 = 50 %, 40 points below 90: 80 off 60 -> 0; satisfaction 3 of 4 = 75 %,
    # 20 below 95: 20 off 40 -> 20 (the floor); raw 20, weight 1.1 -> 22.
    assert after["scheme_version"] == 1
    assert [(item["indicator"], item["points"]) for item in fgw["indicators"]] == [
        ("resolved_on_time", 0.0),
        ("satisfaction", 20.0),
    ]
    assert (fgw["raw_score"], fgw["score"], fgw["group"]) == (20.0, 22.0, "综合部门")
    # The old version still gives the old numbers.
    assert await scores(platform, "supervisor", scheme_version=0) == before
    versions = await platform.client.get(f"{API}/stats/scheme/versions", headers=await platform.auth("supervisor"))
    assert [item["version"] for item in versions.json()] == [0, 1]
    missing = await platform.client.get(
        f"{API}/stats/scores", params={"scheme_version": 9}, headers=await platform.auth("supervisor")
    )
    assert_problem(missing, 404, "scheme_not_found")


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"indicators": [SCHEME["indicators"][0], SCHEME["indicators"][0]]}, ["body", "indicators", 1, "indicator"]),
        (
            {"indicators": [{**SCHEME["indicators"][1], "floor": 41}]},
            ["body", "indicators", 0, "floor"],
        ),
        (
            {
                "groups": [
                    {"name": "x", "weight": 1, "department_codes": ["a"]},
                    {"name": "y", "weight": 1, "department_codes": ["a"]},
                ]
            },
            ["body", "groups", 1, "department_codes"],
        ),
    ],
)
async def test_an_inconsistent_scheme_is_refused(platform: Platform, change: dict[str, Any], loc: list[Any]) -> None:
    response = await platform.client.put(
        f"{API}/stats/scheme", json={**SCHEME, **change}, headers=await platform.auth("admin")
    )
    assert_problem(response, 422, "invalid_scheme")
    assert response.json()["errors"][0]["loc"] == loc


async def test_staff_see_their_own_scorecard_and_no_other(platform: Platform, session: AsyncSession) -> None:
    await national_day_history(session)
    everyone = await scores(platform, "supervisor")
    assert {"fgw", "kjj"} <= {item["department_code"] for item in everyone["scores"]}
    own = await scores(platform, "staff-fgw")
    assert [item["department_code"] for item in own["scores"]] == ["fgw"]
    assert own["scores"][0] == {item["department_code"]: item for item in everyone["scores"]}["fgw"]
    listed = await platform.client.get(
        f"{API}/stats/departments", params=PERIOD, headers=await platform.auth("staff-fgw")
    )
    assert [item["department_code"] for item in listed.json()["departments"]] == ["fgw"]
    other = await platform.client.get(
        f"{API}/stats/departments/kjj", params=PERIOD, headers=await platform.auth("staff-fgw")
    )
    assert_problem(other, 403, "stats_not_visible")
    for username in ("dispatcher", "enterprise-1"):
        refused = await platform.client.get(f"{API}/stats/scores", headers=await platform.auth(username))
        assert_problem(refused, 403, "stats_not_visible")
    anonymous = await platform.client.get(f"{API}/stats/scores")
    assert_problem(anonymous, 401, "not_authenticated")


async def test_the_annual_report_as_xlsx_equals_the_json(platform: Platform, session: AsyncSession) -> None:
    await national_day_history(session)
    body = await scores(platform, "supervisor")
    response = await platform.client.get(
        f"{API}/stats/scores",
        params=PERIOD,
        headers={
            **await platform.auth("supervisor"),
            "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.title == "年度考核得分"
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:6] == ("名次", "部门", "分组", "权重", "原始得分", "得分")
    assert "按时办结率得分" in header and header[-1] == "评分方案版本"
    on_time = header.index("按时办结率得分")
    assert [(row[0], row[1], row[5], row[on_time], row[-1]) for row in rows] == [
        (
            item["rank"],
            item["department_code"],
            item["score"],
            {i["indicator"]: i["points"] for i in item["indicators"]}["resolved_on_time"],
            0,
        )
        for item in body["scores"]
    ]

"""The statistics API over HTTP: who may read which figures, shapes, and CSV / XLSX tables."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.conftest import Platform
from tests.notification_service.helpers import internal_headers
from tests.ticket_service.helpers import API, assert_problem, assert_validation, dispatch_request, rate, resolve_ticket

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_a_supervisor_reads_every_department_and_an_enterprise_nothing(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    await resolve_ticket(platform, ticket)
    response = await platform.client.get(f"{API}/stats/departments", headers=await platform.auth("supervisor"))
    assert response.status_code == 200, response.text
    body = response.json()
    codes = [item["department_code"] for item in body["departments"]]
    assert "jxw" in codes
    jxw = body["departments"][codes.index("jxw")]
    assert jxw["received"] >= 1
    assert jxw["accepted_on_time"]["denominator"] == "received"
    assert "jxw" not in body["without_tickets"]
    for path in ("departments", "departments/jxw", "scores", "fairness", "overview", "trends"):
        refused = await platform.client.get(f"{API}/stats/{path}", headers=await platform.auth("enterprise-1"))
        assert_problem(refused, 403, "stats_not_visible")


async def test_csv_and_xlsx_of_the_department_figures_open_back(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    await resolve_ticket(platform, ticket)
    headers = await platform.auth("supervisor")
    body = (await platform.client.get(f"{API}/stats/departments", headers=headers)).json()
    as_csv = await platform.client.get(f"{API}/stats/departments", headers={**headers, "Accept": "text/csv"})
    assert as_csv.status_code == 200
    assert as_csv.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    by_code = {row["部门"]: row for row in rows}
    for item in body["departments"]:
        assert int(by_code[item["department_code"]]["受理量"]) == item["received"]
    as_xlsx = await platform.client.get(f"{API}/stats/departments", headers={**headers, "Accept": XLSX})
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][:2] == ("部门", "受理量")
    assert {row[0]: row[1] for row in table[1:]} == {
        item["department_code"]: item["received"] for item in body["departments"]
    }


async def unsatisfied_ticket(platform: Platform) -> dict[str, Any]:
    ticket = await dispatch_request(platform, department_code="jxw")
    await resolve_ticket(platform, ticket)
    assert (await rate(platform, "enterprise-1", ticket["id"], "unsatisfied", "太慢")).status_code == 201
    return ticket


async def test_only_a_supervisor_rules_a_rating_out_and_once(platform: Platform) -> None:
    ticket = await unsatisfied_ticket(platform)
    path = f"{API}/tickets/{ticket['id']}/feedback/1/adjudication"
    body = {"reason": "诉求超出政策范围"}
    for username in ("admin", "staff-jxw", "dispatcher", "enterprise-1"):
        assert_problem(await platform.client.post(path, json=body, headers=await platform.auth(username)), 403)
    assert_validation(
        await platform.client.post(path, json={"reason": ""}, headers=await platform.auth("supervisor")),
        "reason",
    )
    before = await department(platform, "jxw")
    ruled = await platform.client.post(path, json=body, headers=await platform.auth("supervisor"))
    assert ruled.status_code == 201, ruled.text
    assert (ruled.json()["ruled_out"], ruled.json()["department_code"]) == (True, "jxw")
    after = await department(platform, "jxw")
    assert after["satisfaction"]["of"] == before["satisfaction"]["of"] - 1
    assert after["satisfaction"]["count"] == before["satisfaction"]["count"]
    again = await platform.client.post(path, json=body, headers=await platform.auth("supervisor"))
    assert_problem(again, 409, "already_ruled_out")
    # The enterprise and the department read the ruling and its reason in the audit trail.
    for username in ("enterprise-1", "staff-jxw"):
        trail = await platform.client.get(f"{API}/tickets/{ticket['id']}/events", headers=await platform.auth(username))
        ruling = [event for event in trail.json() if event["action"] == "adjudicate"]
        assert [event["note"] for event in ruling] == ["诉求超出政策范围"]


async def test_a_ruling_needs_an_unsatisfied_rating_of_that_round(platform: Platform) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    await resolve_ticket(platform, ticket)
    path = f"{API}/tickets/{ticket['id']}/feedback/1/adjudication"
    headers = await platform.auth("supervisor")
    assert_problem(
        await platform.client.post(path, json={"reason": "无理"}, headers=headers), 404, "feedback_not_found"
    )
    assert (await rate(platform, "enterprise-1", ticket["id"], "satisfied")).status_code == 201
    assert_problem(await platform.client.post(path, json={"reason": "无理"}, headers=headers), 409, "not_unsatisfied")
    missing = await platform.client.post(
        f"{API}/tickets/nope/feedback/1/adjudication", json={"reason": "无理"}, headers=headers
    )
    assert_problem(missing, 404, "ticket_not_found")


async def department(platform: Platform, code: str) -> dict[str, Any]:
    response = await platform.client.get(f"{API}/stats/departments/{code}", headers=await platform.auth("supervisor"))
    assert response.status_code == 200, response.text
    return dict(response.json()["figures"])


async def test_the_board_reads_with_the_internal_token_and_a_wrong_one_is_refused(platform: Platform) -> None:
    transport = httpx.ASGITransport(app=platform.upstreams["tickets"])
    async with httpx.AsyncClient(transport=transport, base_url="http://tickets") as tickets:
        for path in ("departments", "scores", "fairness", "overview", "trends"):
            answer = await tickets.get(f"{API}/stats/{path}", headers=internal_headers())
            assert answer.status_code == 200, answer.text
        wrong = await tickets.get(f"{API}/stats/scores", headers={"X-Internal-Token": "wrong"})
        assert_problem(wrong, 401, "invalid_internal_token")


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"start": "2026-10-02", "end": "2026-10-01"}, ["query", "end"]),
        ({"start": "2020-01-01", "end": "2026-01-01"}, ["query", "end"]),
        ({"start": "0001-01-01"}, ["query", "start"]),
        ({"end": "9999-12-31"}, ["query", "start"]),
    ],
)
async def test_a_bad_period_is_a_422(platform: Platform, params: dict[str, str], loc: list[str]) -> None:
    response = await platform.client.get(
        f"{API}/stats/departments", params=params, headers=await platform.auth("admin")
    )
    assert_problem(response, 422, "invalid_period")
    assert response.json()["errors"][0]["loc"] == loc
    not_a_date = await platform.client.get(
        f"{API}/stats/overview", params={"start": "yesterday"}, headers=await platform.auth("admin")
    )
    assert_validation(not_a_date, "start", where="query")

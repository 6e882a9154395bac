"""The statistics API over HTTP: who may read which figures, shapes, and CSV / XLSX tables."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.conftest import Platform
from tests.ticket_service.helpers import API, assert_problem, dispatch_request, resolve_ticket

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
        assert_problem(refused, 403, "stats_not_visible" if path != "x" else "")


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

"""The statistics as tables: JSON by default, CSV for Excel (UTF-8 with BOM, Chinese headers) with
`Accept: text/csv`, and an .xlsx workbook (the annual assessment report) with the spreadsheet
media type. One table per answer: its columns are (header, how to read a row's value)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from openpyxl import Workbook

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"

Cell = str | int | float | None


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    value: Callable[[Mapping[str, Any]], Cell]


def field(name: str) -> Callable[[Mapping[str, Any]], Cell]:
    def read(row: Mapping[str, Any]) -> Cell:
        value = row[name]
        return value if isinstance(value, (str, int, float)) or value is None else str(value)

    return read


def rate_percent(name: str) -> Callable[[Mapping[str, Any]], Cell]:
    """A ratio's rate as a percentage to two places ('' when there is nothing to divide by)."""

    def read(row: Mapping[str, Any]) -> Cell:
        rate = row[name]["rate"]
        return None if rate is None else round(rate * 100, 2)

    return read


def ratio_part(name: str, part: str) -> Callable[[Mapping[str, Any]], Cell]:
    def read(row: Mapping[str, Any]) -> Cell:
        value: Cell = row[name][part]
        return value

    return read


def ratio_columns(name: str, label: str) -> list[Column]:
    """A ratio as three columns: the rate (%), its numerator and its denominator."""
    return [
        Column(f"{label}(%)", rate_percent(name)),
        Column(f"{label}分子", ratio_part(name, "count")),
        Column(f"{label}分母", ratio_part(name, "of")),
    ]


def wants(request: Request) -> str:
    """The media type to answer in, from the Accept header (JSON unless a table is asked for)."""
    accept = request.headers.get("accept", "").lower()
    if XLSX_MEDIA_TYPE in accept:
        return XLSX_MEDIA_TYPE
    if CSV_MEDIA_TYPE in accept:
        return CSV_MEDIA_TYPE
    return "application/json"


def csv_text(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    for row in rows:
        writer.writerow(["" if (value := column.value(row)) is None else value for column in columns])
    return BOM + out.getvalue()


def xlsx_bytes(title: str, columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([column.value(row) for column in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def respond(
    request: Request,
    body: Any,
    *,
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    filename: str,
    title: str,
) -> Response:
    """`body` as JSON, or `rows` as CSV or XLSX, as the caller's Accept asks."""
    media_type = wants(request)
    if media_type == CSV_MEDIA_TYPE:
        return Response(
            csv_text(columns, rows).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if media_type == XLSX_MEDIA_TYPE:
        return Response(
            xlsx_bytes(title, columns, rows),
            media_type=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
        )
    return JSONResponse(jsonable_encoder(body))


TABLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
        "description": "JSON by default; `Accept: text/csv` (UTF-8 with BOM) or the .xlsx media type for a table.",
    }
}

"""The board's SVG charts: the figures they draw, and no script in them."""

from __future__ import annotations

from datetime import date, timedelta
from xml.etree import ElementTree

from gateway.board import BoardRow
from gateway.catalog_client import DepartmentName
from gateway.charts import ranking_chart, rates_chart, received_chart
from gateway.stats_client import Ratio, WeekTrend


def _rows() -> list[BoardRow]:
    scores = [96.5, 88.25, 71.0]
    return [
        BoardRow(
            rank=rank,
            department_code=f"dept-{rank}",
            name=DepartmentName(name=f"市第{rank}局全称", short_name=f"第{rank}局"),
            score=score,
            max_score=100,
            resolved_on_time=None,
            satisfaction=None,
        )
        for rank, score in enumerate(scores, start=1)
    ]


def _weeks() -> list[WeekTrend]:
    monday = date(2026, 9, 28)
    return [
        WeekTrend(
            week_start=monday + timedelta(weeks=n),
            received=received,
            resolved_on_time=Ratio(count=on_time, of=received, rate=round(on_time / received, 4) if received else None),
            satisfaction=Ratio(count=0, of=0, rate=None),
        )
        for n, (received, on_time) in enumerate([(10, 9), (0, 0), (8, 2)])
    ]


SVG = "{http://www.w3.org/2000/svg}"


def _values(svg: str) -> list[str]:
    tree = ElementTree.fromstring(svg)
    return [element.text or "" for element in tree.iter(SVG + "desc") if element.get("class") == "value"]


def _texts(svg: str) -> set[str]:
    return {element.text or "" for element in ElementTree.fromstring(svg).iter(SVG + "text")}


def test_ranking_chart_draws_each_score_under_the_short_name() -> None:
    svg = ranking_chart(_rows(), title="部门考核得分")
    # Drawn bottom-up, so the best department's bar is last and appears at the top.
    assert _values(svg) == ["71", "88.25", "96.5"]
    assert {"第1局", "第2局", "第3局", "部门考核得分"} <= _texts(svg)
    assert "<script" not in svg
    assert ElementTree.fromstring(svg).get("viewBox") is not None


def test_ranking_chart_without_departments_says_so() -> None:
    assert "本期暂无排名" in _texts(ranking_chart([]))


def test_weekly_charts_draw_each_week_and_leave_gaps_where_nothing_was_due() -> None:
    received = received_chart(_weeks())
    assert _values(received) == ["10", "0", "8"]
    assert {"09-28", "10-05", "10-12"} <= _texts(received)
    rates = rates_chart(_weeks())
    # 90 % and 25 % on time; the empty week and the unrated weeks draw no point.
    assert _values(rates) == ["90", "25"]
    for svg in (received, rates):
        assert "<script" not in svg

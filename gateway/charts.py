"""The board's SVG charts, drawn by pygal.

pygal writes a `<script>` into every chart for its optional tooltips; the board runs no script,
so each chart is rendered to a tree and its scripts are removed before it is serialised. What
remains is markup and the chart's own `<style>`, scoped to the chart's id."""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree import ElementTree

import pygal
from pygal.style import Style

if TYPE_CHECKING:
    from gateway.board import BoardRow

from gateway.stats_client import WeekTrend

FONT = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif'
LABEL_FONT_SIZE = 15
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#102a43",
    foreground_subtle="#d9e2ec",
    colors=("#1f6feb", "#2f9e44", "#e8590c", "#ae3ec9"),
    font_family=FONT,
    title_font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    legend_font_family=FONT,
    tooltip_font_family=FONT,
    label_font_size=LABEL_FONT_SIZE,
    major_label_font_size=LABEL_FONT_SIZE,
    legend_font_size=16,
    title_font_size=20,
    value_font_size=14,
)
_COMMON = {
    "style": STYLE,
    "js": [],
    "disable_xml_declaration": True,
    "explicit_size": False,
    "show_y_guides": True,
    "print_values": False,
    "legend_at_bottom": True,
}
ROW_HEIGHT = 34


def _svg(chart: pygal.graph.graph.Graph) -> str:
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag == "script":
                parent.remove(child)
    return ElementTree.tostring(tree, encoding="unicode")


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def ranking_chart(rows: list[BoardRow], *, title: str | None = None) -> str:
    """Each ranked department's score as a horizontal bar, best at the top."""
    # pygal draws a horizontal bar chart's first label at the bottom.
    ordered = list(reversed(rows))
    labels = [row.name.label for row in ordered]
    chart = pygal.HorizontalBar(
        **_COMMON,
        width=600,
        height=max(240, 90 + ROW_HEIGHT * len(rows)),
        title=title,
        show_legend=False,
        range=(0, max((row.max_score for row in rows), default=100)),
        truncate_label=-1,
        margin_left=_cjk_allowance(labels),
        no_data_text="本期暂无排名",
    )
    chart.x_labels = labels
    chart.add("得分", [row.score for row in ordered])
    return _svg(chart)


def _weekly(
    chart_class: type[pygal.graph.graph.Graph], weeks: list[WeekTrend], **config: object
) -> pygal.graph.graph.Graph:
    chart = chart_class(
        **_COMMON,
        width=560,
        height=340,
        x_label_rotation=30,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(weeks) // 6),
        no_data_text="本期暂无数据",
        **config,
    )
    chart.x_labels = [week.week_start.strftime("%m-%d") for week in weeks]
    return chart


def received_chart(weeks: list[WeekTrend], *, title: str | None = None) -> str:
    """Requests received per week (the week starting on the Monday shown)."""
    chart = _weekly(pygal.Bar, weeks, title=title, show_legend=False, value_formatter=_whole)
    chart.add("受理量", [week.received for week in weeks])
    return _svg(chart)


def rates_chart(weeks: list[WeekTrend], *, title: str | None = None) -> str:
    """The on-time resolution and satisfaction rates per week, in percent; gaps where none was due."""
    chart = _weekly(pygal.Line, weeks, title=title, range=(0, 100), value_formatter=_whole, dots_size=4)
    chart.add("按时办结率 %", [_percent(week.resolved_on_time.rate) for week in weeks])
    chart.add("满意率 %", [_percent(week.satisfaction.rate) for week in weeks])
    return _svg(chart)


def _cjk_allowance(labels: list[str]) -> int:
    """pygal sizes a label at 0.6 em a character; a Chinese character takes a whole em, so the
    margin gets the difference for the longest label."""
    widest = max((len(label) for label in labels), default=0)
    return int(0.4 * LABEL_FONT_SIZE * widest) + 8


def _whole(value: float) -> str:
    return f"{value:.0f}"

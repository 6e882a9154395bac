"""Reading the figures back out of the board's HTML (the `data-figure` cells), for the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class BoardPage:
    overview: dict[str, str] = field(default_factory=dict)
    rows: dict[str, dict[str, str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    other: dict[str, str] = field(default_factory=dict)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = BoardPage()
        self.section: str | None = None
        self.department: str | None = None
        self.figure: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("data-section"):
            self.section = attributes["data-section"]
        if tag == "tr" and attributes.get("data-department"):
            self.department = attributes["data-department"]
            self.page.order.append(self.department or "")
            self.page.rows[self.department or ""] = {}
        if attributes.get("data-figure"):
            self.figure = attributes["data-figure"]
            self.text = []

    def handle_data(self, data: str) -> None:
        if self.figure is not None:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.figure is not None and tag in ("span", "td", "th", "dd", "strong"):
            value = "".join(self.text).strip()
            if self.department is not None:
                self.page.rows[self.department][self.figure] = value
            elif self.section == "overview":
                self.page.overview[self.figure] = value
            else:
                self.page.other[self.figure] = value
            self.figure = None
        if tag == "tr":
            self.department = None
        if tag in ("dl", "table"):
            self.section = None


def read_board(html: str) -> BoardPage:
    reader = _Reader()
    reader.feed(html)
    return reader.page

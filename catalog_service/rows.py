"""How a service item's row reads: eligible sizes are stored as ",small,micro," for one LIKE."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def sizes_to_text(sizes: Sequence[str]) -> str:
    return "," + ",".join(sizes) + ","


def sizes_from_text(text: str) -> list[str]:
    return [size for size in text.split(",") if size]


def item_row(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["eligible_sizes"] = sizes_from_text(row.pop("eligible_sizes"))
    return row

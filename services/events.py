"""The event envelope (DESIGN §4): `id`, `type`, `occurred_at`, `data`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, TypedDict


class Envelope(TypedDict):
    id: str
    type: str
    occurred_at: str
    data: dict[str, Any]


def make_envelope(event_type: str, data: dict[str, Any], *, occurred_at: datetime | None = None) -> Envelope:
    instant = occurred_at or datetime.now(UTC)
    if instant.tzinfo is None:
        raise ValueError("occurred_at must be aware")
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": instant.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }

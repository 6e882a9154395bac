from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Envelope(BaseModel):
    id: str = Field(min_length=1, max_length=36)
    type: str = Field(min_length=1, max_length=64)
    occurred_at: datetime
    data: dict[str, Any]


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[Envelope] = Field(min_length=1, max_length=1000)


class BatchReceipt(BaseModel):
    received: int
    duplicates: int

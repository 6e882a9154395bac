"""Tables owned by the notification service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from services.db import Base, UtcDateTime, utcnow


class ReceivedEvent(Base):
    """Every platform event the relay delivered, once (consumers de-duplicate by event id)."""

    __tablename__ = "received_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    envelope: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

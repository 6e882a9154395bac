"""Request and response bodies of the ticket service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

YearStatus = Literal["official", "admin_complete", "provisional"]
DaySource = Literal["package", "overlay", "weekend", "default"]


class DeadlinesRead(BaseModel):
    received_at: datetime
    profile: str = Field(examples=["1-3-5"])
    accept_due: datetime = Field(description="End of the 1st (profile's accept) working day after receipt.")
    resolve_due: datetime
    final_due: datetime
    provisional: bool = Field(description="True if any day counted lies in a year without official data.")


class CalendarDayRead(BaseModel):
    date: date
    weekday: int = Field(description="ISO weekday, 1 = Monday.")
    is_workday: bool
    reason: str
    source: DaySource


class OverlayInfo(BaseModel):
    complete: bool
    revision: int
    updated_by: str
    updated_at: datetime


class CalendarYearRead(BaseModel):
    year: int
    status: YearStatus
    days: list[CalendarDayRead] = Field(description="Every day that differs from Monday–Friday or has an overlay row.")
    overlay: OverlayInfo | None = None


class OverlayDayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    is_workday: bool
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class CalendarYearUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: list[OverlayDayIn] = Field(max_length=366)
    complete: bool = Field(False, description="The rows are the year's whole official notice.")


class CalendarChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    year: int
    revision: int
    actor: str
    role: str
    at: datetime
    complete: bool
    previous_complete: bool
    days: list[dict[str, object]]
    previous_days: list[dict[str, object]]

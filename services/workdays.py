"""China's working-day calendar and fast SLA deadline arithmetic (DESIGN.md §3).

A pure module: no I/O of its own, no database, no settings.  The caller loads the admin
overlay rows and the set of years an admin declared complete, and builds a
:class:`WorkCalendar` once (and again after each overlay change).

Rules
-----
* A working day is a Monday–Friday that is not an official public holiday, plus the official
  make-up working days (调休).  Official data comes from the ``chinesecalendar`` package
  (import name ``chinese_calendar``) for the years it covers; the covered years are read from
  its data, never hard-coded.
* An admin overlay row (date, is_workday, note) wins over the package and the weekend rule.
* Year status: ``official`` if the package covers the year, ``admin_complete`` if an admin
  declared the year's overlay complete, else ``provisional`` (Monday–Friday plus overlay rows).
  Nothing raises for a date past the package's last year.
* Supported range: years :data:`MIN_YEAR` .. :data:`MAX_YEAR`; outside it
  :class:`CalendarRangeError` (a :class:`ValueError`) is raised.

Deadlines
---------
The day of receipt (its local date in the calendar's time zone) never counts; the N-th deadline
is the end of the N-th working day strictly after it.  The end of a working day is ``day_end``
(default ``None`` = 24:00, i.e. the first instant of the next calendar day).  All returned
instants are aware UTC datetimes.

Working-time coordinates
------------------------
On a working day the working interval is ``[00:00, day_end)`` local; other days contribute
nothing.  Every working day therefore contributes the same length ``L``, so the prefix sum of
working time over days is ``L * (number of working days before the day)``.  The calendar keeps
that count as a prefix array over all days (``_after[i]`` = working days up to and including
day ``i``; equal to ``bisect_right`` into the sorted list of working-day ordinals ``_work``, but
one list index instead of a search).  Converting an instant to a coordinate (working time
since the epoch, local midnight of ``MIN_YEAR-01-01``) is one lookup in that array, and back one
``divmod`` and one index into ``_work``; ``add_workdays``, ``working_time_between`` and
``shift_for_pause`` are O(1), never loops over days.  The provisional check of a span is a
``bisect`` over the runs of provisional years.

Internally the coordinates are integer microseconds (exact); the float-seconds API has
sub-microsecond resolution up to about 2100 and about 1 µs up to 2199 — use
:meth:`WorkCalendar.working_us` and :meth:`WorkCalendar.instant_at_us` where exactness matters
(e.g. storing the working time left when a ticket is paused).

The time zone must have a fixed UTC offset over the supported range (Asia/Shanghai has been
+08:00 since 1991); this is verified once per zone, and a zone with DST is rejected.
"""

from __future__ import annotations

import functools
import itertools
import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, cast
from zoneinfo import ZoneInfo

import chinese_calendar  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "DEFAULT_PROFILE",
    "MAX_YEAR",
    "MIN_YEAR",
    "CalendarRangeError",
    "DayInfo",
    "Deadlines",
    "InvalidSlaProfile",
    "OverlayDay",
    "SlaProfile",
    "WorkCalendar",
    "WorkdaySource",
    "YearStatus",
    "package_years",
]

WorkdaySource = Literal["package", "overlay", "weekend", "default"]
YearStatus = Literal["official", "admin_complete", "provisional"]

MIN_YEAR = 2000
MAX_YEAR = 2199

MAKE_UP_REASON = "make-up working day"
WEEKEND_REASON = "weekend"
WORKDAY_REASON = "working day"

_DAY_US = 86_400_000_000
_FIRST_ORDINAL = date(MIN_YEAR, 1, 1).toordinal()
_LAST_ORDINAL = date(MAX_YEAR, 12, 31).toordinal()
_N_DAYS = _LAST_ORDINAL - _FIRST_ORDINAL + 1
_YEAR_STARTS = [date(y, 1, 1).toordinal() for y in range(MIN_YEAR, MAX_YEAR + 2)]
_SLA_MAX_DAYS = 60
_DAYS = "([1-9]|[1-5][0-9]|60)"
#: The syntax of an SLA profile as JSON Schema states it (each count 1–60); that the counts do not
#: decrease is a rule no pattern states briefly, so schemas add `format: sla-profile` and say it.
SLA_PROFILE_PATTERN = f"^{_DAYS}-{_DAYS}-{_DAYS}$"
SLA_PROFILE_SCHEMA: dict[str, str] = {"pattern": SLA_PROFILE_PATTERN, "format": "sla-profile"}


class CalendarRangeError(ValueError):
    """A date, year or instant outside the supported range MIN_YEAR..MAX_YEAR."""


class InvalidSlaProfile(ValueError):
    """An SLA profile that is not three non-decreasing integers in 1..60 ("1-3-5")."""


# --------------------------------------------------------------------------------------------
# value types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OverlayDay:
    """One admin row: this date is (or is not) a working day, whatever the package says."""

    day: date
    is_workday: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class SlaProfile:
    """Accept / resolve / final deadlines in working days, e.g. ``1-3-5``."""

    accept: int
    resolve: int
    final: int

    def __post_init__(self) -> None:
        values = (self.accept, self.resolve, self.final)
        for value in values:
            if type(value) is not int or not 1 <= value <= _SLA_MAX_DAYS:
                raise InvalidSlaProfile(f"SLA profile {values!r}: each value must be an integer in 1..{_SLA_MAX_DAYS}")
        if not self.accept <= self.resolve <= self.final:
            raise InvalidSlaProfile(
                f"SLA profile {self.accept}-{self.resolve}-{self.final}: accept <= resolve <= final is required"
            )

    @classmethod
    def parse(cls, text: str) -> SlaProfile:
        """Parse ``"1-3-5"``; :class:`InvalidSlaProfile` unless 3 ints in 1..60, non-decreasing."""
        parts = text.strip().split("-")
        if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
            raise InvalidSlaProfile(f"invalid SLA profile {text!r}: expected three working-day counts like '1-3-5'")
        return cls(int(parts[0]), int(parts[1]), int(parts[2]))

    def __str__(self) -> str:
        return f"{self.accept}-{self.resolve}-{self.final}"


DEFAULT_PROFILE = SlaProfile(1, 3, 5)


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The deadline triple of a ticket (aware UTC datetimes)."""

    accept_due: datetime
    resolve_due: datetime
    final_due: datetime
    provisional: bool


@dataclass(frozen=True, slots=True)
class DayInfo:
    """Why a day is (not) a working day."""

    day: date
    is_workday: bool
    reason: str
    source: WorkdaySource


# --------------------------------------------------------------------------------------------
# package-derived base data (pure, computed lazily once per process)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PackageBase:
    years: range
    holidays: dict[date, str]
    workdays: dict[date, str]
    flags: bytes  # one byte per day from MIN_YEAR-01-01: 1 = working day


@functools.cache
def _package_base() -> _PackageBase:
    holidays = cast("dict[date, str]", chinese_calendar.holidays)
    workdays = cast("dict[date, str]", chinese_calendar.workdays)
    # The package itself supports exactly [min year, max year] of its holiday table.
    first, last = min(holidays).year, max(holidays).year
    years = range(max(first, MIN_YEAR), min(last, MAX_YEAR) + 1)
    lo = date(years.start, 1, 1) if years else date.max
    hi = date(years.stop - 1, 12, 31) if years else date.min
    holidays = {d: name for d, name in holidays.items() if lo <= d <= hi}
    workdays = {d: name for d, name in workdays.items() if lo <= d <= hi}

    first_weekday = date.fromordinal(_FIRST_ORDINAL).weekday()
    week = bytes(1 if (first_weekday + i) % 7 < 5 else 0 for i in range(7))
    flags = bytearray((week * (_N_DAYS // 7 + 1))[:_N_DAYS])
    for d in holidays:
        flags[d.toordinal() - _FIRST_ORDINAL] = 0
    for d in workdays:
        flags[d.toordinal() - _FIRST_ORDINAL] = 1
    return _PackageBase(years, holidays, workdays, bytes(flags))


@functools.cache
def _all_dates() -> tuple[date, ...]:
    """Shared date objects for every supported day (so lookups never build a new date)."""
    return tuple(map(date.fromordinal, range(_FIRST_ORDINAL, _LAST_ORDINAL + 1)))


def package_years() -> range:
    """The years covered by the installed ``chinesecalendar`` data (within MIN_YEAR..MAX_YEAR)."""
    return _package_base().years


@functools.cache
def _fixed_offset_seconds(tz_name: str) -> int:
    """The zone's UTC offset in seconds, verified constant over the supported range.

    Checked at local noon of every day from MIN_YEAR to MAX_YEAR, so any offset regime lasting
    a day or more (DST, a zone change) is caught.
    """
    utcoffset = ZoneInfo(tz_name).utcoffset
    offsets: set[timedelta | None] = set()
    one_day = timedelta(days=1)
    local_noon = datetime(MIN_YEAR, 1, 1, 12)  # naive: local wall time
    last_noon = datetime(MAX_YEAR, 12, 31, 12)
    while local_noon <= last_noon:  # ~20 ms once per zone and process
        offsets.add(utcoffset(local_noon))
        local_noon += one_day
    if len(offsets) != 1:
        raise ValueError(
            f"time zone {tz_name!r} does not have a fixed UTC offset over "
            f"{MIN_YEAR}..{MAX_YEAR}; only fixed-offset zones (e.g. Asia/Shanghai) are supported"
        )
    offset = offsets.pop()
    if offset is None:  # pragma: no cover - ZoneInfo always returns an offset
        raise ValueError(f"time zone {tz_name!r} has no UTC offset")
    if offset % timedelta(seconds=1):
        raise ValueError(f"time zone {tz_name!r} has a sub-second UTC offset")
    return offset // timedelta(seconds=1)


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarRangeError(f"year {year} is outside the supported calendar range {MIN_YEAR}..{MAX_YEAR}")


def _range_error(what: object) -> CalendarRangeError:
    return CalendarRangeError(f"{what} is outside the supported calendar range {MIN_YEAR}-01-01..{MAX_YEAR}-12-31")


def _merge_runs(years: list[int]) -> tuple[list[int], list[int]]:
    """Sorted years -> (start ordinals, end ordinals) of maximal runs of consecutive years."""
    starts: list[int] = []
    ends: list[int] = []
    for _, run in itertools.groupby(enumerate(years), key=lambda iy: iy[1] - iy[0]):
        run_years = [y for _, y in run]
        starts.append(_YEAR_STARTS[run_years[0] - MIN_YEAR])
        ends.append(_YEAR_STARTS[run_years[-1] - MIN_YEAR + 1] - 1)
    return starts, ends


# --------------------------------------------------------------------------------------------
# the calendar
# --------------------------------------------------------------------------------------------


class WorkCalendar:
    """An immutable working-day calendar; build it with :meth:`WorkCalendar.build`."""

    __slots__ = (
        "_after",
        "_complete_years",
        "_day_end",
        "_day_len_us",
        "_end0",
        "_epoch_utc",
        "_flags",
        "_overlay",
        "_prov_ends",
        "_prov_starts",
        "_tz_name",
        "_work",
        "_work_dates",
    )

    _after: list[int]
    _complete_years: frozenset[int]
    _day_end: time | None
    _day_len_us: int
    _end0: datetime
    _epoch_utc: datetime
    _flags: bytes
    _overlay: dict[date, OverlayDay]
    _prov_ends: list[int]
    _prov_starts: list[int]
    _tz_name: str
    _work: list[int]
    _work_dates: list[date]

    def __init__(self) -> None:
        raise TypeError("use WorkCalendar.build(...)")

    @classmethod
    def build(
        cls,
        overlay: Iterable[OverlayDay] = (),
        complete_years: Iterable[int] = (),
        *,
        day_end: time | None = None,
        tz: str = "Asia/Shanghai",
    ) -> WorkCalendar:
        """Build the calendar for MIN_YEAR..MAX_YEAR.

        ``overlay``: admin rows, winning over the package and the weekend rule (rows for the
        same day must agree on ``is_workday``; the last note wins).  ``complete_years``: years
        whose whole official notice an admin has entered.  ``day_end``: the end of a working day
        (naive local time, after 00:00), ``None`` = 24:00.  ``tz``: a fixed-offset zone.
        """
        base = _package_base()

        if day_end is None:
            day_len_us = _DAY_US
        else:
            if day_end.tzinfo is not None:
                raise ValueError("day_end must be a naive local time (the calendar's zone applies)")
            day_len_us = (day_end.hour * 3600 + day_end.minute * 60 + day_end.second) * 1_000_000 + day_end.microsecond
            if day_len_us == 0:
                raise ValueError("day_end must be after 00:00 (use None for 24:00)")

        rows: dict[date, OverlayDay] = {}
        for row in overlay:
            if isinstance(row.day, datetime) or not isinstance(row.day, date):
                raise TypeError(f"overlay day must be a date, got {row.day!r}")
            _check_year(row.day.year)
            previous = rows.get(row.day)
            if previous is not None and previous.is_workday != row.is_workday:
                raise ValueError(f"conflicting overlay rows for {row.day.isoformat()}")
            rows[row.day] = row

        complete = frozenset(complete_years)
        for year in complete:
            _check_year(year)

        flags = bytearray(base.flags)
        for row in rows.values():
            flags[row.day.toordinal() - _FIRST_ORDINAL] = 1 if row.is_workday else 0

        provisional = [y for y in range(MIN_YEAR, MAX_YEAR + 1) if y not in base.years and y not in complete]

        offset = _fixed_offset_seconds(tz)
        epoch_utc = datetime(MIN_YEAR, 1, 1, tzinfo=UTC) - timedelta(seconds=offset)

        self = object.__new__(cls)
        self._tz_name = tz
        self._day_end = day_end
        self._day_len_us = day_len_us
        self._epoch_utc = epoch_utc
        self._end0 = epoch_utc + timedelta(microseconds=day_len_us)
        self._flags = bytes(flags)
        self._after = list(itertools.accumulate(flags))
        self._work = list(itertools.compress(range(_FIRST_ORDINAL, _LAST_ORDINAL + 1), flags))
        self._work_dates = list(itertools.compress(_all_dates(), flags))
        self._overlay = rows
        self._complete_years = complete
        self._prov_starts, self._prov_ends = _merge_runs(provisional)
        return self

    # ---- introspection ------------------------------------------------------------------------

    @property
    def tz(self) -> str:
        return self._tz_name

    @property
    def day_end(self) -> time | None:
        return self._day_end

    @property
    def working_day_length(self) -> timedelta:
        """The working time one working day contributes (24 h by default)."""
        return timedelta(microseconds=self._day_len_us)

    def __repr__(self) -> str:
        end = "24:00" if self._day_end is None else self._day_end.isoformat()
        return (
            f"WorkCalendar(tz={self._tz_name!r}, day_end={end}, overlay_rows={len(self._overlay)}, "
            f"complete_years={sorted(self._complete_years)})"
        )

    # ---- days ---------------------------------------------------------------------------------

    def _ordinal(self, day: date) -> int:
        if isinstance(day, datetime):
            raise TypeError("expected a date, got a datetime (use its local date)")
        o = day.toordinal()
        if not _FIRST_ORDINAL <= o <= _LAST_ORDINAL:
            raise _range_error(day)
        return o

    def is_workday(self, day: date) -> bool:
        return self._flags[self._ordinal(day) - _FIRST_ORDINAL] == 1

    def add_workdays(self, day: date, n: int) -> date:
        """The ``n``-th working day strictly after ``day`` (``n == 0`` returns ``day``)."""
        if isinstance(day, datetime):
            raise TypeError("expected a date, got a datetime (use its local date)")
        i = day.toordinal() - _FIRST_ORDINAL
        if not 0 <= i < _N_DAYS:
            raise _range_error(day)
        if n <= 0:
            if n == 0:
                return day
            raise ValueError(f"n must be >= 0, got {n}")
        try:
            return self._work_dates[self._after[i] + n - 1]
        except IndexError:
            raise CalendarRangeError(
                f"the {n}-th working day after {day.isoformat()} is past {MAX_YEAR}-12-31"
            ) from None

    def year_status(self, year: int) -> YearStatus:
        _check_year(year)
        if year in _package_base().years:
            return "official"
        if year in self._complete_years:
            return "admin_complete"
        return "provisional"

    def is_provisional_span(self, start: date, end: date) -> bool:
        """True if any day from ``start`` through ``end`` lies in a provisional year."""
        lo, hi = self._ordinal(start), self._ordinal(end)
        if hi < lo:
            lo, hi = hi, lo
        return self._provisional_ordinals(lo, hi)

    def _provisional_ordinals(self, lo: int, hi: int) -> bool:
        i = bisect_right(self._prov_starts, hi) - 1
        return i >= 0 and self._prov_ends[i] >= lo

    def day_info(self, day: date) -> DayInfo:
        """Whether ``day`` is a working day, why, and which rule decided it."""
        o = self._ordinal(day)
        row = self._overlay.get(day)
        if row is not None:
            default_note = "working day (admin)" if row.is_workday else "non-working day (admin)"
            return DayInfo(day, row.is_workday, row.note or default_note, "overlay")
        base = _package_base()
        name = base.holidays.get(day)
        if name is not None:
            return DayInfo(day, False, name, "package")
        if day in base.workdays:
            return DayInfo(day, True, MAKE_UP_REASON, "package")
        workday = self._flags[o - _FIRST_ORDINAL] == 1
        if workday:
            return DayInfo(day, True, WORKDAY_REASON, "default")
        return DayInfo(day, False, WEEKEND_REASON, "weekend")

    def non_default_days(self, year: int) -> list[DayInfo]:
        """Every day of ``year`` that differs from plain Monday–Friday or has an overlay row."""
        _check_year(year)
        out: list[DayInfo] = []
        start = _YEAR_STARTS[year - MIN_YEAR]
        for o in range(start, _YEAR_STARTS[year - MIN_YEAR + 1]):
            day = date.fromordinal(o)
            workday = self._flags[o - _FIRST_ORDINAL] == 1
            if workday != (day.weekday() < 5) or day in self._overlay:
                out.append(self.day_info(day))
        return out

    # ---- deadlines ----------------------------------------------------------------------------

    def deadline_for(self, received_at: datetime, n: int) -> datetime:
        """End of the ``n``-th working day after the local date of ``received_at`` (UTC)."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if received_at.tzinfo is None:
            raise ValueError("naive datetime: an aware datetime is required")
        i = (received_at - self._epoch_utc).days  # local day index (fixed offset)
        if not 0 <= i < _N_DAYS:
            raise _range_error(received_at.isoformat())
        j = self._after[i] + n - 1
        work = self._work
        if j >= len(work):
            raise CalendarRangeError(f"deadline for {received_at.isoformat()} is past {MAX_YEAR}")
        return self._end0 + timedelta(work[j] - _FIRST_ORDINAL)

    def deadlines(self, received_at: datetime, profile: SlaProfile = DEFAULT_PROFILE) -> Deadlines:
        """The accept / resolve / final deadlines for a ticket received at ``received_at``."""
        if received_at.tzinfo is None:
            raise ValueError("naive datetime: an aware datetime is required")
        i = (received_at - self._epoch_utc).days  # local day index (fixed offset)
        if not 0 <= i < _N_DAYS:
            raise _range_error(received_at.isoformat())
        work = self._work
        j = self._after[i] - 1  # index of the last working day up to the day of receipt
        last = j + profile.final
        if last >= len(work):
            raise CalendarRangeError(f"deadline for {received_at.isoformat()} is past {MAX_YEAR}")
        final_ordinal = work[last]
        end0 = self._end0
        k = bisect_right(self._prov_starts, final_ordinal) - 1
        return Deadlines(
            end0 + timedelta(work[j + profile.accept] - _FIRST_ORDINAL),
            end0 + timedelta(work[j + profile.resolve] - _FIRST_ORDINAL),
            end0 + timedelta(final_ordinal - _FIRST_ORDINAL),
            k >= 0 and self._prov_ends[k] >= i + _FIRST_ORDINAL,
        )

    # ---- working-time coordinates -------------------------------------------------------------

    def working_us(self, at: datetime) -> int:
        """Exact working-time coordinate of an aware instant, in integer microseconds."""
        if at.tzinfo is None:
            raise ValueError("naive datetime: an aware datetime is required")
        delta = at - self._epoch_utc
        i = delta.days  # local day index (fixed offset)
        if not 0 <= i < _N_DAYS:
            raise _range_error(at.isoformat())
        if self._flags[i]:
            before = self._after[i] - 1  # working days strictly before this one
            into_day = delta.seconds * 1_000_000 + delta.microseconds
            return before * self._day_len_us + min(into_day, self._day_len_us)
        return self._after[i] * self._day_len_us

    def instant_at_us(self, coordinate_us: int) -> datetime:
        """The earliest aware UTC instant whose working-time coordinate is ``coordinate_us``."""
        if coordinate_us <= 0:
            if coordinate_us == 0:
                return self._epoch_utc
            raise _range_error(f"working-time coordinate {coordinate_us} µs")
        work = self._work
        k, r = divmod(coordinate_us - 1, self._day_len_us)
        if k >= len(work):
            raise _range_error(f"working-time coordinate {coordinate_us} µs")
        return self._epoch_utc + timedelta(work[k] - _FIRST_ORDINAL, 0, r + 1)

    def working_seconds(self, at: datetime) -> float:
        """Working-time coordinate of an aware instant: working seconds since the epoch."""
        return self.working_us(at) / 1_000_000

    def instant_at(self, coordinate: float) -> datetime:
        """The earliest aware UTC instant with that coordinate (rounded to the microsecond)."""
        if not math.isfinite(coordinate):
            raise ValueError(f"coordinate must be finite, got {coordinate!r}")
        whole = math.floor(coordinate)
        return self.instant_at_us(whole * 1_000_000 + round((coordinate - whole) * 1_000_000))

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (negative if ``end < start``)."""
        return timedelta(microseconds=self.working_us(end) - self.working_us(start))

    def shift_for_pause(self, deadline: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
        """Move ``deadline`` so the working time left at ``paused_at`` is left at ``resumed_at``.

        The working time left may be negative (already overdue); it is then overdue by the
        same working time after the resume.  Returns an aware UTC datetime.
        """
        if deadline.tzinfo is None or paused_at.tzinfo is None or resumed_at.tzinfo is None:
            raise ValueError("naive datetime: aware datetimes are required")
        if resumed_at < paused_at:
            raise ValueError("resumed_at is before paused_at")
        if resumed_at == paused_at:
            self.working_us(paused_at)  # range / awareness check
            return deadline.astimezone(UTC)
        left = self.working_us(deadline) - self.working_us(paused_at)
        return self.instant_at_us(self.working_us(resumed_at) + left)

"""Tests for services.workdays: China's working-day calendar and SLA deadline arithmetic."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.workdays import (
    DEFAULT_PROFILE,
    MAX_YEAR,
    MIN_YEAR,
    CalendarRangeError,
    DayInfo,
    Deadlines,
    InvalidSlaProfile,
    OverlayDay,
    SlaProfile,
    WorkCalendar,
    package_years,
)

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar.build()
CAL_1730 = WorkCalendar.build(day_end=time(17, 30))
ONE_US = timedelta(microseconds=1)
LAST_PACKAGE_YEAR = max(chinese_calendar.holidays).year

FAST = settings(max_examples=150, deadline=None)

# Aware instants in a few zones, kept away from the ends of the supported range.
ZONES = st.sampled_from([SH, UTC, timezone(timedelta(hours=-5)), ZoneInfo("Europe/Berlin")])
INSTANTS = st.datetimes(min_value=datetime(2000, 1, 3), max_value=datetime(2198, 12, 1), timezones=ZONES)
NEAR_INSTANTS = st.datetimes(  # float coordinates keep µs precision up to ~2099
    min_value=datetime(2000, 1, 3), max_value=datetime(2080, 12, 31), timezones=ZONES
)
RECENT = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2060, 12, 31), timezones=ZONES)
DATES = st.dates(min_value=date(MIN_YEAR, 1, 1), max_value=date(2198, 12, 31))


def local(dt: datetime) -> datetime:
    return dt.astimezone(SH)


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


# ---------------------------------------------------------------- vectors from DESIGN.md §3


@pytest.mark.parametrize("hour", [0, 9, 23])
def test_national_day_2026_vectors(hour: int) -> None:
    received = sh(2026, 9, 30, hour, 59)
    assert CAL.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)  # Saturday make-up day
    assert CAL.add_workdays(date(2026, 9, 30), 5) == date(2026, 10, 13)
    got = CAL.deadlines(received)
    assert got == Deadlines(
        accept_due=sh(2026, 10, 9),  # end (24:00) of Thu 10-08
        resolve_due=sh(2026, 10, 11),
        final_due=sh(2026, 10, 14),
        provisional=False,
    )
    assert got.accept_due.tzinfo is UTC
    assert got.accept_due == datetime(2026, 10, 8, 16, 0, tzinfo=UTC)
    assert CAL.deadline_for(received, 1) == got.accept_due


def test_make_up_days_and_holidays_2026() -> None:
    for make_up in (date(2026, 10, 10), date(2026, 2, 14), date(2026, 2, 28)):
        assert make_up.weekday() == 5 and CAL.is_workday(make_up)
    for day in range(1, 8):
        assert not CAL.is_workday(date(2026, 10, day))
    assert not CAL.is_workday(date(2026, 10, 11))  # ordinary Sunday


def test_received_friday_before_spring_festival() -> None:
    assert CAL.add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CAL.deadlines(sh(2026, 2, 13, 15)).accept_due == sh(2026, 2, 15)


def test_received_on_sunday_or_on_a_make_up_saturday() -> None:
    # Sun 2026-03-01: counting starts on the next working day, Mon 03-02.
    assert CAL.deadlines(sh(2026, 3, 1, 10)).accept_due == sh(2026, 3, 3)
    # Sat 2026-02-28 is a working day, but the day of receipt never counts.
    assert CAL.deadlines(sh(2026, 2, 28, 10)).accept_due == sh(2026, 3, 3)


def test_local_date_of_receipt_is_taken_in_shanghai() -> None:
    # 2026-09-29T16:30Z is 2026-09-30 00:30 in Shanghai: the 1st working day is 10-08,
    # not 09-30 (which the UTC date would give).
    got = CAL.deadlines(datetime(2026, 9, 29, 16, 30, tzinfo=UTC))
    assert got.accept_due == sh(2026, 10, 9)
    got = CAL.deadlines(datetime(2026, 9, 29, 15, 59, tzinfo=UTC))  # 09-29 23:59 local
    assert got.accept_due == sh(2026, 10, 1)


def test_custom_day_end() -> None:
    got = CAL_1730.deadlines(sh(2026, 9, 30, 20))
    assert local(got.accept_due) == sh(2026, 10, 8, 17, 30)
    assert local(got.resolve_due) == sh(2026, 10, 10, 17, 30)
    assert local(got.final_due) == sh(2026, 10, 13, 17, 30)
    assert got.accept_due == datetime(2026, 10, 8, 9, 30, tzinfo=UTC)
    assert CAL_1730.working_day_length == timedelta(hours=17, minutes=30)
    # After 17:30 nothing counts; before 00:00 of the next working day nothing either.
    assert CAL_1730.working_time_between(sh(2026, 10, 8, 17, 30), sh(2026, 10, 9)) == timedelta()
    with pytest.raises(ValueError, match="after 00:00"):
        WorkCalendar.build(day_end=time(0, 0))
    with pytest.raises(ValueError, match="naive"):
        WorkCalendar.build(day_end=time(17, 30, tzinfo=UTC))


# ---------------------------------------------------------------- agreement with the package


def test_every_package_day_agrees_with_chinese_calendar() -> None:
    years = package_years()
    assert years.start == 2004 and years.stop - 1 == LAST_PACKAGE_YEAR >= 2026
    day, last = date(years.start, 1, 1), date(years.stop - 1, 12, 31)
    while day <= last:
        assert CAL.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_outside_package_years_monday_to_friday() -> None:
    for year in (MIN_YEAR, 2003, LAST_PACKAGE_YEAR + 1, 2150, MAX_YEAR):
        day = date(year, 1, 1)
        while day.year == year:
            assert CAL.is_workday(day) == (day.weekday() < 5), day
            day += timedelta(days=1)


def test_cross_check_with_python_holidays() -> None:
    years = package_years()
    cn = holidays.country_holidays("CN", years=range(years.start, years.stop + 1))
    first, last = date(years.start, 1, 1), date(years.stop - 1, 12, 31)

    disagreements: dict[date, tuple[bool, bool]] = {}
    day = first
    while day <= last:
        ours, theirs = CAL.is_workday(day), cn.is_working_day(day)
        if ours != theirs:
            disagreements[day] = (ours, theirs)
        day += timedelta(days=1)

    # python-holidays exposes make-up working days (调休) as `weekend_workdays`.
    our_make_up = {d.day for y in years for d in CAL.non_default_days(y) if d.is_workday}
    their_make_up = {d for d in cn.weekend_workdays if first <= d <= last}

    # The one known disagreement, 2005-12-31 (a Saturday).  The State Council notice for 2006
    # (国办发明电〔2005〕35号, 2005-12-16) says: 元旦 1月1日—3日放假 ... 将12月31日（星期六）、
    # 1月1日（星期日）两个公休日调至1月2日、3日，12月31日（星期六）上班 — i.e. Saturday
    # 2005-12-31 was a make-up working day.  python-holidays has it (recorded with its 2006
    # substitutions: Jan 3 2006 <- Dec 31 2005); chinesecalendar 1.11.0 omits it (its 2005
    # data has no 12-31 entry; upstream issue liriansu-opus/chinese-calendar#125).  Our
    # calendar follows the package, so it is an ordinary Saturday off here; an admin overlay
    # row (2005-12-31, is_workday=True) would correct it.
    known = date(2005, 12, 31)
    assert disagreements == {known: (False, True)}
    assert their_make_up - our_make_up == {known}
    assert our_make_up - their_make_up == set()
    assert known in cn.weekend_workdays
    assert known not in chinese_calendar.workdays and not chinese_calendar.is_workday(known)
    fixed = WorkCalendar.build([OverlayDay(known, True, "国办发明电〔2005〕35号")])
    assert fixed.is_workday(known)
    assert fixed.day_info(known) == DayInfo(known, True, "国办发明电〔2005〕35号", "overlay")


# ---------------------------------------------------------------- day info


def test_day_info_and_non_default_days() -> None:
    assert CAL.day_info(date(2026, 10, 1)) == DayInfo(date(2026, 10, 1), False, "National Day", "package")
    assert CAL.day_info(date(2026, 10, 10)) == DayInfo(date(2026, 10, 10), True, "make-up working day", "package")
    assert CAL.day_info(date(2026, 10, 11)).source == "weekend"
    assert CAL.day_info(date(2026, 10, 12)).source == "default"
    assert CAL.day_info(date(2027, 10, 1)).source == "default"  # provisional: Mon–Fri only

    days = {d.day: d for d in CAL.non_default_days(2026)}
    assert date(2026, 10, 1) in days and date(2026, 10, 10) in days
    assert date(2026, 10, 3) not in days  # a holiday on a Saturday: same as plain Mon–Fri
    assert all(d.is_workday != (d.day.weekday() < 5) for d in days.values())

    cal = WorkCalendar.build([OverlayDay(date(2026, 6, 1), True, "children's day check")])
    rows = {d.day: d for d in cal.non_default_days(2026)}
    assert rows[date(2026, 6, 1)] == DayInfo(date(2026, 6, 1), True, "children's day check", "overlay")
    assert CAL.non_default_days(2150) == []


# ---------------------------------------------------------------- overlay and year status


def test_overlay_wins() -> None:
    cal = WorkCalendar.build([OverlayDay(date(2026, 10, 8), False, "local closure")])
    assert not cal.is_workday(date(2026, 10, 8))
    got = cal.deadlines(sh(2026, 9, 30, 10))
    assert got.accept_due == sh(2026, 10, 10)  # Fri 10-09
    assert got.resolve_due == sh(2026, 10, 13)  # 10-09, Sat 10-10, Mon 10-12
    assert got.final_due == sh(2026, 10, 15)  # ... 10-13, 10-14
    assert got.provisional is False
    assert cal.day_info(date(2026, 10, 8)).source == "overlay"

    # An overlay also beats the weekend rule and a package make-up day.
    cal = WorkCalendar.build([OverlayDay(date(2026, 10, 11), True), OverlayDay(date(2026, 10, 10), False)])
    assert cal.is_workday(date(2026, 10, 11)) and not cal.is_workday(date(2026, 10, 10))
    assert cal.day_info(date(2026, 10, 10)).reason == "non-working day (admin)"


def test_conflicting_overlay_rows_raise() -> None:
    with pytest.raises(ValueError, match="conflicting"):
        WorkCalendar.build([OverlayDay(date(2027, 1, 1), False), OverlayDay(date(2027, 1, 1), True)])


def test_year_status_and_provisional_flag() -> None:
    assert CAL.year_status(2026) == "official"
    assert CAL.year_status(LAST_PACKAGE_YEAR + 1) == "provisional"
    assert CAL.year_status(2027) == "provisional"
    assert CAL.year_status(2003) == "provisional"
    assert CAL.deadlines(sh(2027, 3, 1, 10)).provisional is True
    # Received in an official year, but the final deadline falls in 2027.
    assert CAL.deadlines(sh(2026, 12, 30, 10)).provisional is True
    assert CAL.deadlines(sh(2026, 12, 18, 10)).provisional is False
    # Received in a provisional year (2003, before the package's data), due in official 2004.
    assert CAL.deadlines(sh(2003, 12, 30, 10)).provisional is True
    assert CAL.deadlines(sh(2004, 1, 5, 10)).provisional is False
    assert CAL.is_provisional_span(date(2026, 12, 31), date(2027, 1, 1))
    assert not CAL.is_provisional_span(date(2026, 1, 1), date(2026, 12, 31))

    notice_2027 = [
        OverlayDay(date(2027, 1, 1), False, "New Year's Day"),
        OverlayDay(date(2027, 2, 6), True, "make-up working day"),
    ]
    cal = WorkCalendar.build(notice_2027, complete_years={2027})
    assert cal.year_status(2027) == "admin_complete"
    assert cal.year_status(2028) == "provisional"
    assert cal.deadlines(sh(2027, 3, 1, 10)).provisional is False
    assert cal.deadlines(sh(2026, 12, 30, 10)).provisional is False
    assert cal.deadlines(sh(2027, 12, 30, 10)).provisional is True
    # 2028 complete but 2027 not: a 2027 receipt stays provisional even if due in 2028.
    only_2028 = WorkCalendar.build(complete_years={2028})
    assert only_2028.deadlines(sh(2027, 12, 30, 10)).provisional is True
    assert only_2028.deadlines(sh(2028, 1, 3, 10)).provisional is False
    assert cal.is_workday(date(2027, 2, 6)) and not cal.is_workday(date(2027, 1, 1))
    # Rows without complete_years apply but the year stays provisional.
    cal = WorkCalendar.build(notice_2027)
    assert cal.year_status(2027) == "provisional"
    assert cal.deadlines(sh(2027, 3, 1, 10)).provisional is True


# ---------------------------------------------------------------- SLA profiles


def test_sla_profiles() -> None:
    assert SlaProfile.parse("1-3-5") == DEFAULT_PROFILE == SlaProfile(1, 3, 5)
    assert str(SlaProfile.parse(" 2-2-10 ")) == "2-2-10"
    assert str(DEFAULT_PROFILE) == "1-3-5"
    got = CAL.deadlines(sh(2026, 9, 30, 10), SlaProfile.parse("2-2-10"))
    assert got.accept_due == got.resolve_due == sh(2026, 10, 10)
    assert got.final_due == CAL.deadline_for(sh(2026, 9, 30, 10), 10)


@pytest.mark.parametrize(
    "text", ["1-3", "3-1-5", "a-b-c", "0-3-5", "1-3-61", "1-3-5-7", "-1-3-5", "1-3-+5", "1-3-²", ""]
)
def test_invalid_profiles(text: str) -> None:
    with pytest.raises(InvalidSlaProfile):
        SlaProfile.parse(text)
    assert issubclass(InvalidSlaProfile, ValueError)


def test_invalid_profile_constructor() -> None:
    with pytest.raises(InvalidSlaProfile):
        SlaProfile(3, 1, 5)
    with pytest.raises(InvalidSlaProfile):
        SlaProfile(True, 3, 5)


# ---------------------------------------------------------------- range and input errors


@pytest.mark.parametrize("year", [1900, 1999, 2200, 2300])
def test_out_of_range_years_raise(year: int) -> None:
    assert issubclass(CalendarRangeError, ValueError)
    with pytest.raises(CalendarRangeError, match=r"2000\.\.2199|2000-01-01"):
        CAL.is_workday(date(year, 6, 1))
    with pytest.raises(CalendarRangeError):
        CAL.add_workdays(date(year, 6, 1), 1)
    with pytest.raises(CalendarRangeError):
        CAL.year_status(year)
    with pytest.raises(CalendarRangeError):
        CAL.deadlines(sh(year, 6, 1))
    with pytest.raises(CalendarRangeError):
        CAL.working_seconds(sh(year, 6, 1))
    with pytest.raises(CalendarRangeError):
        WorkCalendar.build([OverlayDay(date(year, 6, 1), True)])
    with pytest.raises(CalendarRangeError):
        WorkCalendar.build(complete_years=[year])


def test_range_edges() -> None:
    assert CAL.is_workday(date(2199, 12, 31)) == (date(2199, 12, 31).weekday() < 5)
    assert CAL.add_workdays(date(2000, 1, 1), 1) == date(2000, 1, 3)
    with pytest.raises(CalendarRangeError, match="past 2199"):
        CAL.add_workdays(date(2199, 12, 31), 1)
    with pytest.raises(CalendarRangeError):
        CAL.deadlines(sh(2199, 12, 30))
    assert CAL.working_seconds(sh(2000, 1, 1)) == 0.0
    assert CAL.instant_at(0.0) == sh(2000, 1, 1)
    with pytest.raises(CalendarRangeError):
        CAL.instant_at(-1.0)
    with pytest.raises(CalendarRangeError):
        CAL.instant_at(1e12)


def test_input_errors() -> None:
    naive = datetime(2026, 9, 30, 10)  # naive on purpose
    aware = sh(2026, 9, 30, 10)
    for call in (
        lambda: CAL.deadlines(naive),
        lambda: CAL.deadline_for(naive, 1),
        lambda: CAL.working_seconds(naive),
        lambda: CAL.working_time_between(naive, aware),
        lambda: CAL.shift_for_pause(aware, naive, aware),
    ):
        with pytest.raises(ValueError, match="naive"):
            call()
    with pytest.raises(ValueError):
        CAL.add_workdays(date(2026, 9, 30), -1)
    with pytest.raises(ValueError):
        CAL.deadline_for(aware, 0)
    with pytest.raises(TypeError):
        CAL.add_workdays(aware, 1)
    with pytest.raises(ValueError):
        CAL.shift_for_pause(aware, aware, aware - timedelta(hours=1))
    with pytest.raises(ValueError, match="fixed UTC offset"):
        WorkCalendar.build(tz="Europe/Berlin")
    assert CAL.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)


# ---------------------------------------------------------------- working time and pauses


def test_pause_across_national_day() -> None:
    resolve_due = sh(2026, 9, 29)  # end of Mon 09-28
    resumed = sh(2026, 10, 8, 12)
    # Paused Thu 09-24 12:00: left = 12 h of 09-24 + 24 h of Mon 09-28 = 36 h
    # (Fri 09-25 is the Mid-autumn Festival holiday, 09-26/27 a weekend).  From Thu 10-08 12:00:
    # 12 h of 10-08 + 24 h of Fri 10-09 -> end of 10-09 = 2026-10-10T00:00+08:00.
    paused = sh(2026, 9, 24, 12)
    assert CAL.working_time_between(paused, resolve_due) == timedelta(hours=36)
    assert CAL.shift_for_pause(resolve_due, paused, resumed) == sh(2026, 10, 10)

    # The brief's case, paused Fri 09-25 12:00: 2026-09-25 is NOT a working day (中秋节,
    # Mid-autumn Festival, 9月25日至27日放假), so no working time is left "of Fri 25": the
    # working time left is only Mon 09-28, 24 h -> 12 h of 10-08 + 12 h of 10-09 -> 10-09 12:00.
    paused = sh(2026, 9, 25, 12)
    assert not CAL.is_workday(date(2026, 9, 25))
    assert CAL.day_info(date(2026, 9, 25)).reason == "Mid-autumn Festival"
    assert CAL.working_time_between(paused, resolve_due) == timedelta(hours=24)
    new_due = CAL.shift_for_pause(resolve_due, paused, resumed)
    assert new_due == sh(2026, 10, 9, 12)
    assert new_due.tzinfo is UTC
    assert CAL.working_time_between(resumed, new_due) == timedelta(hours=24)


def test_pause_when_overdue_and_with_day_end() -> None:
    # Overdue by 6 working hours at pause -> overdue by 6 working hours at resume.
    due = sh(2026, 9, 24)  # end of Wed 09-23
    new_due = CAL.shift_for_pause(due, sh(2026, 9, 24, 6), sh(2026, 10, 8, 12))
    assert new_due == sh(2026, 10, 8, 6)
    # With a 17:30 day end, the 09-24 evening counts nothing.
    due = CAL_1730.deadlines(sh(2026, 9, 22, 9)).accept_due  # 09-23 17:30
    assert local(due) == sh(2026, 9, 23, 17, 30)
    new_due = CAL_1730.shift_for_pause(due, sh(2026, 9, 23, 16, 30), sh(2026, 10, 8, 20))
    assert new_due == sh(2026, 10, 9, 1)  # 1 working hour left, counted from 10-09 00:00


def test_working_time_between_signs() -> None:
    a, b = sh(2026, 9, 30, 12), sh(2026, 10, 8, 12)
    assert CAL.working_time_between(a, b) == timedelta(hours=24)
    assert CAL.working_time_between(b, a) == timedelta(hours=-24)
    assert CAL.working_time_between(sh(2026, 10, 2), sh(2026, 10, 5)) == timedelta()


# ---------------------------------------------------------------- properties


@FAST
@given(DATES, st.integers(0, 60), st.integers(0, 60))
def test_add_workdays_composes(day: date, n: int, m: int) -> None:
    assert CAL.add_workdays(CAL.add_workdays(day, n), m) == CAL.add_workdays(day, n + m)


@FAST
@given(DATES, st.integers(1, 60))
def test_add_workdays_counts_working_days(day: date, n: int) -> None:
    result = CAL.add_workdays(day, n)
    assert result > day and CAL.is_workday(result)
    between = sum(CAL.is_workday(day + timedelta(days=k)) for k in range(1, (result - day).days + 1))
    assert between == n


@FAST
@given(INSTANTS, st.integers(1, 60), st.sampled_from([CAL, CAL_1730]))
def test_deadline_is_end_of_a_working_day(received: datetime, n: int, cal: WorkCalendar) -> None:
    due = cal.deadline_for(received, n)
    assert due.tzinfo is UTC
    assert cal.is_workday(local(due - ONE_US).date())
    assert local(due - ONE_US).date() > local(received).date()
    assert cal.instant_at(cal.working_seconds(due)) == due  # maps back to itself


@FAST
@given(INSTANTS, INSTANTS, INSTANTS, st.sampled_from([CAL, CAL_1730]))
def test_pause_and_resume_at_same_instant_changes_nothing(
    received: datetime, paused: datetime, any_due: datetime, cal: WorkCalendar
) -> None:
    due = cal.deadlines(received).resolve_due
    assert cal.shift_for_pause(due, paused, paused) == due
    # Even a non-canonical deadline is kept (compared in UTC: Python never equates an
    # ambiguous fold=0 wall time across zones, e.g. Berlin 2000-10-29 02:00).
    assert cal.shift_for_pause(any_due, paused, paused) == any_due.astimezone(UTC)
    # Also through the general path: resume a microsecond later, or within a non-working
    # stretch, leaves the (canonical, end-of-working-day) deadline unchanged.
    resumed = paused + ONE_US
    if cal.working_time_between(paused, resumed) == timedelta():
        assert cal.shift_for_pause(due, paused, resumed) == due


@FAST
@given(INSTANTS, INSTANTS)
def test_deadlines_monotonic(a: datetime, b: datetime) -> None:
    a, b = min(a, b), max(a, b)
    da, db = CAL.deadlines(a), CAL.deadlines(b)
    assert da.accept_due <= db.accept_due
    assert da.resolve_due <= db.resolve_due
    assert da.final_due <= db.final_due
    assert da.accept_due <= da.resolve_due <= da.final_due


@FAST
@given(NEAR_INSTANTS, st.integers(0, 10 * 250 * 86_400 * 10**6), st.sampled_from([CAL, CAL_1730]))
def test_instant_at_inverts_working_seconds(a: datetime, x_us: int, cal: WorkCalendar) -> None:
    x = x_us / 1_000_000
    target = cal.instant_at(cal.working_seconds(a) + x)
    assert cal.working_time_between(a, target) == timedelta(microseconds=x_us)


@FAST
@given(NEAR_INSTANTS, st.integers(0, 20 * 250 * 86_400 * 10**6))
def test_integer_coordinates_are_exact(a: datetime, x_us: int) -> None:
    target = CAL.instant_at_us(CAL.working_us(a) + x_us)
    assert CAL.working_time_between(a, target) == timedelta(microseconds=x_us)
    assert CAL.instant_at_us(CAL.working_us(target)) == target


@FAST
@given(RECENT, RECENT, RECENT)
def test_pause_preserves_working_time_left(due: datetime, paused: datetime, r: datetime) -> None:
    resumed = max(paused, r)
    left = CAL.working_time_between(paused, due)
    new_due = CAL.shift_for_pause(due, paused, resumed)
    assert CAL.working_time_between(resumed, new_due) == left

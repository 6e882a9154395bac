"""Benchmark services.workdays against naive alternatives.

Run from the repository root:  python benchmarks/workdays.py

Compares, in one run and on the same inputs (dates in 2025–2026, where all three agree):
* ``add_workdays(d, 5)``: WorkCalendar (bisect) vs a day-by-day loop over
  ``chinese_calendar.is_workday`` vs python-holidays' ``HolidayBase.get_nth_working_day(d, 5)``;
* the 1-3-5 deadline triple from an aware datetime: ``WorkCalendar.deadlines`` vs the same
  two alternatives (local date, three working-day look-ups, ends of day as aware UTC datetimes).
Per-call figures include the ``for d in inputs`` loop overhead (the same for all).
"""

from __future__ import annotations

import sys
import time
import timeit
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.workdays import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
ONE_DAY = timedelta(days=1)

TARGET_ADD_US = 1.0
TARGET_LOOP_RATIO = 100.0
TARGET_HOLIDAYS_RATIO = 6.0
TARGET_DEADLINES_US = 5.0


def loop_add(day: date, n: int) -> date:
    """The n-th working day after `day`, one day at a time with chinese_calendar."""
    while n:
        day += ONE_DAY
        if chinese_calendar.is_workday(day):
            n -= 1
    return day


def end_of_day_utc(day: date) -> datetime:
    return (datetime(day.year, day.month, day.day, tzinfo=SH) + ONE_DAY).astimezone(UTC)


def loop_deadlines(received: datetime) -> tuple[datetime, datetime, datetime]:
    d1 = loop_add(received.astimezone(SH).date(), 1)
    d3 = loop_add(d1, 2)
    d5 = loop_add(d3, 2)
    return end_of_day_utc(d1), end_of_day_utc(d3), end_of_day_utc(d5)


def make_holidays_deadlines(
    cn: holidays.HolidayBase,
) -> Callable[[datetime], tuple[datetime, datetime, datetime]]:
    nth = cn.get_nth_working_day

    def holidays_deadlines(received: datetime) -> tuple[datetime, datetime, datetime]:
        local_day = received.astimezone(SH).date()
        d1 = nth(local_day, 1)
        d3 = nth(d1, 2)
        d5 = nth(d3, 2)
        return end_of_day_utc(d1), end_of_day_utc(d3), end_of_day_utc(d5)

    return holidays_deadlines


def per_call_us(call: str, func: Callable[..., object], inputs: list[object]) -> float:
    """Best of 5 runs of ``for x in inputs: <call>``, µs per call (``call`` uses f and x)."""
    timer = timeit.Timer(f"for x in inputs: {call}", globals={"f": func, "inputs": inputs})
    number, _ = timer.autorange()
    best = min(timer.repeat(repeat=5, number=number))
    return best / (number * len(inputs)) * 1e6


def main() -> int:
    t0 = time.perf_counter()
    cal = WorkCalendar.build()
    cold_ms = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    WorkCalendar.build()
    warm_ms = (time.perf_counter() - t0) * 1e3

    cn = holidays.country_holidays("CN", years=range(2024, 2028))  # populated up front
    holidays_deadlines = make_holidays_deadlines(cn)

    start = date(2025, 1, 1)
    days = [start + timedelta(days=i) for i in range(714)]  # to 2026-12-15
    instants = [datetime(2025, 1, 1, 7, 13, tzinfo=SH) + timedelta(hours=23 * i, minutes=7 * i) for i in range(740)]
    instants = [x if i % 2 else x.astimezone(UTC) for i, x in enumerate(instants)]
    assert max(instants) < datetime(2026, 12, 16, tzinfo=SH)

    # The three implementations agree on these inputs.
    for d in days:
        assert cal.add_workdays(d, 5) == loop_add(d, 5) == cn.get_nth_working_day(d, 5), d
    for x in instants:
        ours = cal.deadlines(x)
        triple = (ours.accept_due, ours.resolve_due, ours.final_due)
        assert triple == loop_deadlines(x) == holidays_deadlines(x), x

    dates_in: list[object] = list(days)
    instants_in: list[object] = list(instants)
    add_ours = per_call_us("f(x, 5)", cal.add_workdays, dates_in)
    add_loop = per_call_us("f(x, 5)", loop_add, dates_in)
    add_hol = per_call_us("f(x, 5)", cn.get_nth_working_day, dates_in)
    dl_ours = per_call_us("f(x)", cal.deadlines, instants_in)
    dl_loop = per_call_us("f(x)", loop_deadlines, instants_in)
    dl_hol = per_call_us("f(x)", holidays_deadlines, instants_in)
    empty = per_call_us("f(x)", id, dates_in)

    print(
        f"services.workdays benchmark  (chinesecalendar {version('chinesecalendar')}, "
        f"holidays {version('holidays')}, Python {sys.version.split()[0]})"
    )
    print(f"build 2000..2199: first {cold_ms:.1f} ms (incl. tz check), again {warm_ms:.1f} ms")
    print(f"(per-call figures include the loop and call overhead, ~{empty:.3f} µs for id(x))")
    print()
    header = f"{'operation':<34}{'µs/call':>10}{'calls/s':>14}{'vs ours':>10}"
    print(header)
    print("-" * len(header))
    rows = [
        ("add_workdays(d, 5)  WorkCalendar", add_ours, add_ours),
        ("  chinese_calendar day loop", add_loop, add_ours),
        ("  holidays get_nth_working_day", add_hol, add_ours),
        ("deadlines(aware)    WorkCalendar", dl_ours, dl_ours),
        ("  chinese_calendar day loop", dl_loop, dl_ours),
        ("  holidays get_nth_working_day", dl_hol, dl_ours),
    ]
    for name, us, base in rows:
        print(f"{name:<34}{us:>10.3f}{1e6 / us:>14,.0f}{us / base:>9.1f}x")
    print()

    checks = [
        (f"add_workdays <= {TARGET_ADD_US:g} µs", add_ours <= TARGET_ADD_US, f"{add_ours:.3f} µs"),
        (
            f"add_workdays >= {TARGET_LOOP_RATIO:g}x the day loop",
            add_loop / add_ours >= TARGET_LOOP_RATIO,
            f"{add_loop / add_ours:.0f}x",
        ),
        (
            f"add_workdays >= {TARGET_HOLIDAYS_RATIO:g}x python-holidays",
            add_hol / add_ours >= TARGET_HOLIDAYS_RATIO,
            f"{add_hol / add_ours:.1f}x",
        ),
        (
            f"deadline triple <= {TARGET_DEADLINES_US:g} µs",
            dl_ours <= TARGET_DEADLINES_US,
            f"{dl_ours:.3f} µs",
        ),
    ]
    for name, ok, figure in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name:<40} {figure}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

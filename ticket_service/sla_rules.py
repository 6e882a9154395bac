"""When each SLA step of a ticket falls due (pure: no I/O).

Steps, in the order the worker takes them: a due-soon warning and the overdue step for each
of the three deadlines (accept → flag `overdue_accept`; resolve → joint review; final →
escalation), and the auto-close of a resolved case nobody closed. Each step fires once per
clock cycle (a reopen starts a new cycle); `fired` is the bitmask of those already taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntFlag

from services.workdays import WorkCalendar


class Step(IntFlag):
    WARN_ACCEPT = 1
    OVERDUE_ACCEPT = 2
    WARN_RESOLVE = 4
    JOINT_REVIEW = 8
    WARN_FINAL = 16
    ESCALATE = 32
    AUTO_CLOSE = 64


STEP_ORDER = (
    Step.WARN_ACCEPT,
    Step.OVERDUE_ACCEPT,
    Step.WARN_RESOLVE,
    Step.JOINT_REVIEW,
    Step.WARN_FINAL,
    Step.ESCALATE,
    Step.AUTO_CLOSE,
)
_ACCEPT_OPEN = frozenset({"submitted", "returned"})
_RESOLVE_OPEN = frozenset({"submitted", "accepted", "in_progress", "returned"})
_FINAL_OPEN = frozenset({"submitted", "accepted", "in_progress", "joint_review", "returned"})
APPLIES: dict[Step, frozenset[str]] = {
    Step.WARN_ACCEPT: _ACCEPT_OPEN,
    Step.OVERDUE_ACCEPT: _ACCEPT_OPEN,
    Step.WARN_RESOLVE: _RESOLVE_OPEN,
    Step.JOINT_REVIEW: _RESOLVE_OPEN,
    Step.WARN_FINAL: _FINAL_OPEN,
    Step.ESCALATE: _FINAL_OPEN,
    Step.AUTO_CLOSE: frozenset({"resolved", "explained"}),
}
DEADLINE_OF: dict[Step, str] = {
    Step.WARN_ACCEPT: "accept",
    Step.OVERDUE_ACCEPT: "accept",
    Step.WARN_RESOLVE: "resolve",
    Step.JOINT_REVIEW: "resolve",
    Step.WARN_FINAL: "final",
    Step.ESCALATE: "final",
}


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    due_soon_fraction_of_day: float = 0.5
    close_after: timedelta = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Clock:
    status: str
    fired: int
    accept_due: datetime
    resolve_due: datetime
    final_due: datetime
    resolved_at: datetime | None


def step_instant(step: Step, clock: Clock, calendar: WorkCalendar, policy: SlaPolicy) -> datetime | None:
    if step == Step.AUTO_CLOSE:
        return clock.resolved_at + policy.close_after if clock.resolved_at else None
    due = {"accept": clock.accept_due, "resolve": clock.resolve_due, "final": clock.final_due}[DEADLINE_OF[step]]
    if step in (Step.WARN_ACCEPT, Step.WARN_RESOLVE, Step.WARN_FINAL):
        window = int(calendar.working_day_length / timedelta(microseconds=1) * policy.due_soon_fraction_of_day)
        return calendar.instant_at_us(calendar.working_us(due) - window)
    return due


# Plain ints: `fired & step` on the IntFlag builds a flag per test, a visible cost per creation.
_STEP_BITS = tuple((step, int(step)) for step in STEP_ORDER)


def pending(clock: Clock) -> list[Step]:
    return [step for step, bit in _STEP_BITS if not clock.fired & bit and clock.status in APPLIES[step]]


def next_check(clock: Clock, calendar: WorkCalendar, policy: SlaPolicy) -> datetime | None:
    """The earliest instant a pending step falls due; None when nothing can fall due (paused, done)."""
    instants = [step_instant(step, clock, calendar, policy) for step in pending(clock)]
    return min((instant for instant in instants if instant is not None), default=None)


def due_steps(clock: Clock, calendar: WorkCalendar, policy: SlaPolicy, now: datetime) -> list[Step]:
    """Pending steps whose instant has come, in order. A warning whose deadline has also passed is
    skipped (fired silently): an overdue ticket gets no 'due soon' notice."""
    steps = []
    for step in pending(clock):
        instant = step_instant(step, clock, calendar, policy)
        if instant is not None and instant <= now:
            steps.append(step)
    return steps

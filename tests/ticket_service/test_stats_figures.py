"""Each figure on a hand-built history around National Day 2026, its answer worked out here.

The 2026 calendar: 1–7 October are holidays and Saturday 10 October is a make-up working day.
A request received on Wednesday 30 September at 10:00 is due to be accepted by the end of
Thursday 8 October (one working day, the holiday skipped) and resolved by the end of Saturday
10 October (three working days: 8, 9 and the make-up 10), so a resolution on Monday 12 October
is late only because that Saturday is a working day. A working day counts 24 h here (no end of
the working day is set), so handling times are hours over 24, kept to the tenth below.

Department fgw leads six tickets received on 30 September (and returned a seventh):
  A  accepted 8 Oct 09:00, resolved Sat 10 Oct 09:00 (the make-up day), rated satisfied, closed
     handling 14 + 24 + 24 + 9 = 71 h = 2.9 days
  B  (a large firm, by visit) accepted 9 Oct 09:00 (late), resolved 12 Oct 10:00 (late),
     rated basically satisfied; handling 14 + 72 + 10 = 96 h = 4.0
  C  accepted 8 Oct 08:00, joint review with czj, whose contribution came 11 Oct 10:00 (after the
     resolve deadline), resolved 12 Oct 09:00: late, but by czj's contribution, so on time for
     fgw and a late contribution for czj; handling 14 + 72 + 9 = 95 h = 3.9
  D  returned by fgw 8 Oct 10:00, then transferred to kjj: one return for fgw, received by kjj
  E  accepted 8 Oct 09:00, resolved 9 Oct 10:00, rated unsatisfied 9 Oct 12:00 (reopened: its
     clock restarts, accept by the end of Sat 10 Oct, resolve by the end of 13 Oct), accepted
     10 Oct 09:00, resolved 12 Oct 15:00 (on time), rated satisfied 13 Oct;
     handling of the last round 12 + 24 + 15 = 51 h = 2.1
  F  never accepted: the SLA worker flags the accept deadline missed, a supervisor escalates it
  G  withdrawn by the enterprise 8 Oct 09:00
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.principals import Principal, Role
from tests.conftest import Platform
from tests.ticket_service.helpers import API, E1, E2
from tests.ticket_service.test_stats_summary import summary_rows
from ticket_service import adjudication, calendar_service, lifecycle, stats_summary
from ticket_service.actions import ActionInput, apply_action
from ticket_service.calendar_service import CalendarCache
from ticket_service.changes import TicketChange, flag_overdue
from ticket_service.context import TicketContext
from ticket_service.creation import TicketDraft, create_tickets
from ticket_service.feedback import rate_locked
from ticket_service.models import Ticket
from ticket_service.numbers import TicketNumbers
from ticket_service.sla_rules import SlaPolicy

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = {"start": "2026-09-28", "end": "2026-10-16"}
DISPATCHER = Principal(subject="dispatcher", role=Role.DISPATCHER)
SUPERVISOR = Principal(subject="supervisor", role=Role.SUPERVISOR)
SYSTEM = Principal(subject="sla-worker", role=Role.SYSTEM)
FGW = Principal(subject="staff-fgw", role=Role.STAFF, department_code="fgw")
CZJ = Principal(subject="staff-czj", role=Role.STAFF, department_code="czj")
FIRMS = {
    E1: Principal(subject="enterprise-1", role=Role.ENTERPRISE, enterprise_id=E1),
    E2: Principal(subject="enterprise-2", role=Role.ENTERPRISE, enterprise_id=E2),
}


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class History:
    """Tickets changed through the domain's one change path, at given instants."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.context = TicketContext(
            catalog=None,  # type: ignore[arg-type]  # none of these steps asks the catalogue
            calendar_cache=CalendarCache(),
            numbers=TicketNumbers(reserve_ahead=False),
            policy=SlaPolicy(),
        )

    async def calendar(self) -> Any:
        return await calendar_service.load_calendar(self.session, cache=self.context.calendar_cache)

    async def new(self, *, enterprise: str = E1, channel: str = "web") -> str:
        draft = TicketDraft(
            kind="request",
            channel=channel,
            enterprise_id=enterprise,
            title="用电增容审批进度咨询",
            description="",
            received_at=at(9, 30, 10),
            department_code="fgw",
        )
        (ticket,) = await create_tickets(
            await self.session.connection(), context=self.context, principal=DISPATCHER, drafts=[draft]
        )
        return str(ticket.values["id"])

    async def ticket(self, ticket_id: str) -> Ticket:
        return (await self.session.execute(select(Ticket).where(Ticket.id == ticket_id))).scalar_one()

    async def act(self, ticket_id: str, action: str, who: Principal, when: datetime, **data: Any) -> None:
        await apply_action(
            self.session,
            ticket=await self.ticket(ticket_id),
            action=lifecycle.Action(action),
            principal=who,
            data=ActionInput(**data),
            calendar=await self.calendar(),
            now=when,
            policy=self.context.policy,
        )

    async def rate(self, ticket_id: str, rating: str, when: datetime) -> None:
        ticket = await self.ticket(ticket_id)
        await rate_locked(
            self.session,
            context=self.context,
            ticket=ticket,
            principal=FIRMS[str(ticket.enterprise_id)],
            rating=rating,
            comment="",
            channel="web",
            now=when,
        )

    async def flag_accept_overdue(self, ticket_id: str, when: datetime) -> None:
        ticket = await self.ticket(ticket_id)
        change = TicketChange(ticket)
        flag_overdue(ticket, "accept")
        await change.record(
            self.session,
            action="accept_overdue",
            principal=SYSTEM,
            note="",
            now=when,
            calendar=await self.calendar(),
            policy=self.context.policy,
            event_types=(),
        )


async def national_day_history(session: AsyncSession) -> dict[str, str]:
    history = History(session)
    ids = {name: await history.new() for name in "ACDEFG"}
    ids["B"] = await history.new(enterprise=E2, channel="visit")
    a, b, c, d, e, f, g = (ids[name] for name in "ABCDEFG")
    await history.act(a, "accept", FGW, at(10, 8, 9))
    await history.act(a, "resolve", FGW, at(10, 10, 9), result="已办结")
    await history.rate(a, "satisfied", at(10, 12, 9))
    await history.act(a, "close", FIRMS[E1], at(10, 12, 9, 5))
    await history.act(b, "accept", FGW, at(10, 9, 9))
    await history.act(b, "resolve", FGW, at(10, 12, 10), result="已办结")
    await history.rate(b, "basically_satisfied", at(10, 12, 11))
    await history.act(c, "accept", FGW, at(10, 8, 8))
    await history.act(c, "request-joint-review", FGW, at(10, 8, 8, 30), co_department_codes=("czj",))
    await history.act(c, "contribute", CZJ, at(10, 11, 10))
    await history.act(c, "resolve", FGW, at(10, 12, 9), result="已办结")
    await history.act(d, "return", FGW, at(10, 8, 10))
    await history.act(d, "transfer", DISPATCHER, at(10, 8, 11), department_code="kjj")
    await history.act(e, "accept", FGW, at(10, 8, 9))
    await history.act(e, "resolve", FGW, at(10, 9, 10), result="已办结")
    await history.rate(e, "unsatisfied", at(10, 9, 12))
    await history.act(e, "accept", FGW, at(10, 10, 9))
    await history.act(e, "resolve", FGW, at(10, 12, 15), result="重新办结")
    await history.rate(e, "satisfied", at(10, 13, 9))
    await history.flag_accept_overdue(f, at(10, 9, 0, 1))
    await history.act(f, "escalate", SUPERVISOR, at(10, 9, 10))
    await history.act(g, "withdraw", FIRMS[E1], at(10, 8, 9))
    await session.flush()
    return ids


def ratio(count: int, of: int, denominator: str) -> dict[str, Any]:
    return {"count": count, "of": of, "rate": round(count / of, 4), "denominator": denominator}


async def figures(platform: Platform, code: str) -> dict[str, Any]:
    response = await platform.client.get(
        f"{API}/stats/departments/{code}", params=PERIOD, headers=await platform.auth("supervisor")
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["period"] == PERIOD
    return dict(body["figures"])


async def test_each_figure_of_a_department_around_national_day(platform: Platform, session: AsyncSession) -> None:
    await national_day_history(session)
    fgw = await figures(platform, "fgw")
    assert fgw == {
        "department_code": "fgw",
        "received": 6,  # A B C E F G; D left for kjj
        "accepted_on_time": ratio(3, 6, "received"),  # A, C, E (its second acceptance)
        "resolved_on_time": ratio(3, 6, "received"),  # A (on the make-up Saturday), C (czj late), E
        "completion": ratio(4, 5, "due"),  # due: A B C F by 10 Oct, E by 13 Oct (G withdrawn); done: A B C E
        # Ratings: A satisfied, B basically, E unsatisfied then satisfied: 3 of 4 (none ruled out yet).
        "satisfaction": ratio(3, 4, "rated_less_ruled_out"),
        "redo": ratio(1, 5, "resolutions"),  # E's unsatisfied rating; resolutions A B C E E
        "returned": ratio(1, 7, "received_or_returned"),  # D
        "joint_reviews_led": 1,  # C
        "joint_reviews_joined": 0,
        "joint_contributions_late": 0,
        "escalations": 1,  # F
        "overdue_now": 1,  # F
        "resolved_count": 4,  # A B C E (E's last round)
        "handling_days_median": 2.9,  # of 2.1, 2.9, 3.9, 4.0 (nearest rank 2 of 4)
        "handling_days_p90": 4.0,  # nearest rank 4 of 4
    }
    czj = await figures(platform, "czj")
    assert (czj["received"], czj["joint_reviews_joined"], czj["joint_contributions_late"]) == (0, 1, 1)
    kjj = await figures(platform, "kjj")
    assert kjj["received"] == 1  # D, by transfer
    assert kjj["accepted_on_time"] == {"count": 0, "of": 1, "rate": 0.0, "denominator": "received"}


async def test_a_rating_ruled_unreasonable_leaves_the_denominator_but_stays_on_record(
    platform: Platform, session: AsyncSession
) -> None:
    ids = await national_day_history(session)
    history = History(session)
    ruled = await adjudication.rule_out(
        session,
        context=history.context,
        ticket_id=ids["E"],
        resolution_round=1,
        principal=SUPERVISOR,
        reason="诉求超出政策范围",
        now=at(10, 14, 9),
    )
    assert ruled["ruled_out"] and ruled["department_code"] == "fgw"
    fgw = await figures(platform, "fgw")
    assert fgw["satisfaction"] == ratio(3, 3, "rated_less_ruled_out")
    assert fgw["redo"] == ratio(1, 5, "resolutions")  # it did reopen the ticket
    shown = await platform.client.get(f"{API}/tickets/{ids['E']}/feedback", headers=await platform.auth("staff-fgw"))
    assert [(row["rating"], row["ruled_out"]) for row in shown.json()] == [("unsatisfied", True), ("satisfied", False)]
    assert shown.json()[0]["ruled_out_reason"] == "诉求超出政策范围"


async def test_the_history_rebuilds_to_the_same_tables(platform: Platform, session: AsyncSession) -> None:
    await national_day_history(session)
    maintained = await summary_rows(session)
    await stats_summary.rebuild(session, calendar=await History(session).calendar())
    assert await summary_rows(session) == maintained


async def test_fairness_by_size_and_channel_on_the_same_history(platform: Platform, session: AsyncSession) -> None:
    await national_day_history(session)
    response = await platform.client.get(f"{API}/stats/fairness", params=PERIOD, headers=await platform.auth("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    by_size = {item["segment"]: item for item in body["by_size"]}
    # The small firm (E1) filed A C D E F G: D is kjj's now but still a small firm's request.
    assert (by_size["small"]["received"], by_size["large"]["received"]) == (6, 1)
    assert by_size["large"]["resolved_on_time"] == ratio(0, 1, "received")  # B, late
    assert by_size["small"]["resolved_on_time"] == ratio(3, 6, "received")  # A C E
    assert by_size["medium"]["resolved_on_time"]["rate"] is None
    by_channel = {item["segment"]: item for item in body["by_channel"]}
    assert (by_channel["web"]["received"], by_channel["visit"]["received"]) == (6, 1)
    assert body["small_micro_requests"] == ratio(6, 7, "requests")
    gap = {item["indicator"]: item for item in body["gaps"]}["resolved_on_time"]
    assert (gap["best"], gap["worst"], gap["gap_points"], gap["flagged"]) == ("small", "large", 50.0, True)

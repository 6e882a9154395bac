"""The summary tables: every change's deltas appended in its transaction and folded in, equal to a
rebuild from the tickets."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.principals import Principal, Role
from tests.conftest import Platform
from tests.ticket_service.helpers import ACTION_BODY, API, E1, E2, act_ok, dispatch_request, order_one, rate
from tests.ticket_service.stats_helpers import History, counter_totals, summary_rows
from ticket_service import calendar_service, lifecycle, stats, stats_summary
from ticket_service.calendar_service import CalendarCache
from ticket_service.models import Enterprise, StatsDepartmentDelta, StatsHotSpotDelta, Ticket

DEPARTMENTS = ("jxw", "kjj", "czj")
STAFF_JXW = Principal(subject="staff-jxw", role=Role.STAFF, department_code="jxw")
SEED = 20261001
DETOURS = frozenset({"withdraw", "transfer", "escalate", "request-info", "reopen"})


def actors_for(ticket: dict[str, Any]) -> list[str]:
    lead = ticket["department_code"]
    staff = [f"staff-{code}" for code in {lead, *ticket["co_department_codes"]} if code]
    return [*staff, "dispatcher", "supervisor", "enterprise-1", "enterprise-2"]


def body_for(action: str, ticket: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    body = dict(ACTION_BODY[lifecycle.Action(action)])
    others = [code for code in DEPARTMENTS if code != ticket["department_code"]]
    if action == "transfer":
        body["department_code"] = rng.choice(others)
    if action == "request-joint-review":
        body["co_department_codes"] = [rng.choice(others)]
    return body


async def random_step(platform: Platform, ticket_id: str, rng: random.Random) -> None:
    """One action some party may take on the ticket now, or a rating when it waits for one."""
    shown = (await platform.client.get(f"{API}/tickets/{ticket_id}", headers=await platform.auth("supervisor"))).json()
    if shown["status"] in ("resolved", "explained") and rng.random() < 0.7:
        owner = "enterprise-1" if shown["enterprise_id"] == E1 else "enterprise-2"
        rating = rng.choice(["satisfied", "basically_satisfied", "unsatisfied", "unsatisfied"])
        rated = await rate(platform, owner, ticket_id, rating)
        assert rated.status_code in (201, 409), rated.text  # 409: this round is rated already
        return
    choices = []
    for actor in actors_for(shown):
        seen = await platform.client.get(f"{API}/tickets/{ticket_id}", headers=await platform.auth(actor))
        if seen.status_code == 200:
            choices += [(actor, action) for action in seen.json()["allowed_actions"]]
    if not choices:
        return
    # Progress is likelier than a detour, so tickets get far enough to be rated.
    weights = [1 if action in DETOURS else 4 for _, action in sorted(choices)]
    actor, action = rng.choices(sorted(choices), weights=weights)[0]
    response = await platform.client.post(
        f"{API}/tickets/{ticket_id}/{action}", json=body_for(action, shown, rng), headers=await platform.auth(actor)
    )
    assert response.status_code == 200, f"{actor} {action}: {response.text}"


async def every_kind_of_step(platform: Platform) -> None:
    """A joint review rated unsatisfied and accepted again, a return and an escalation."""
    joint = await dispatch_request(platform, department_code="jxw")
    for actor, action, body in (
        ("staff-jxw", "accept", None),
        ("staff-jxw", "request-joint-review", {"co_department_codes": ["czj"], "note": "会办"}),
        ("staff-czj", "contribute", None),
        ("staff-jxw", "resolve", None),
    ):
        await act_ok(platform, actor, joint["id"], action, body)
    assert (await rate(platform, "enterprise-1", joint["id"], "unsatisfied")).status_code == 201
    await act_ok(platform, "staff-jxw", joint["id"], "accept")
    await act_ok(platform, "staff-kjj", (await dispatch_request(platform, department_code="kjj"))["id"], "return")
    await act_ok(platform, "supervisor", (await dispatch_request(platform, department_code="czj"))["id"], "escalate")


async def test_maintained_tables_equal_a_rebuild_after_a_random_history(
    platform: Platform, session: AsyncSession
) -> None:
    rng = random.Random(SEED)
    ids = []
    for n in range(14):
        if n % 3 == 0:
            ids.append((await order_one(platform, username=rng.choice(["enterprise-1", "enterprise-2"])))["id"])
        else:
            ticket = await dispatch_request(
                platform,
                enterprise_id=rng.choice([E1, E2]),
                department_code=rng.choice(DEPARTMENTS),
                channel=rng.choice(["visit", "onsite", "web"]),
            )
            ids.append(ticket["id"])
    for _ in range(120):
        await random_step(platform, rng.choice(ids), rng)
    await every_kind_of_step(platform)
    maintained = await summary_rows(session)
    totals = await counter_totals(session)
    # The history went through every kind of step the tables count.
    exercised = ("accepted_on_time", "resolutions", "rated", "redo", "returned", "escalations", "joint_joined")
    assert [name for name in exercised if not totals[name]] == []
    calendar = await calendar_service.load_calendar(session, cache=CalendarCache())
    read = await stats_summary.rebuild(session, calendar=calendar)
    assert read >= len(ids)
    assert await summary_rows(session) == maintained


async def test_a_change_rolled_back_adds_nothing(platform: Platform, session: AsyncSession) -> None:
    ticket = await dispatch_request(platform, department_code="jxw")
    before = await counter_totals(session)
    # A stale If-Match: the action fails after nothing is written, and the summary stays.
    stale = await platform.client.post(
        f"{API}/tickets/{ticket['id']}/accept",
        json=ACTION_BODY[lifecycle.Action.ACCEPT],
        headers={**await platform.auth("staff-jxw"), "If-Match": '"99"'},
    )
    assert stale.status_code == 412
    # A rating of an unresolved ticket is refused: nothing counted.
    assert (await rate(platform, "enterprise-1", ticket["id"], "satisfied")).status_code == 409
    assert await counter_totals(session) == before
    # A change made and then rolled back: its additions are forgotten with it.
    history = History(session)
    await history.act(ticket["id"], "accept", STAFF_JXW, datetime.now(UTC))
    await session.rollback()
    await session.commit()
    assert await counter_totals(session) == before
    await act_ok(platform, "staff-jxw", ticket["id"], "accept")
    after = await counter_totals(session)
    assert after["accepted_on_time"] == before["accepted_on_time"] + 1


async def _delta_rows(session: AsyncSession) -> int:
    counts = [await session.scalar(select(func.count()).select_from(entity)) for entity in stats_summary.DELTAS]
    return sum(count or 0 for count in counts)


async def test_changes_append_deltas_that_reads_count_before_and_after_the_fold(
    platform: Platform, session: AsyncSession
) -> None:
    await stats_summary.fold(session)
    period = stats.Period(date(2020, 1, 1), date(2030, 12, 31))
    before = await stats.department_totals(session, period=period, departments=["jxw"])
    resolved = await dispatch_request(platform, department_code="jxw")
    for action in ("accept", "resolve"):
        await act_ok(platform, "staff-jxw", resolved["id"], action)
    assert (await rate(platform, "enterprise-1", resolved["id"], "satisfied")).status_code == 201
    await dispatch_request(platform, department_code="jxw")
    # Creation, changes and the rating each appended rows; no summary row was written.
    appended = await _delta_rows(session)
    assert appended >= 5
    unfolded = await stats.department_totals(session, period=period, departments=["jxw"])
    handling = await stats.handling_histograms(session, period=period, departments=["jxw"])
    assert unfolded["jxw"]["received"] == before.get("jxw", {}).get("received", 0) + 2
    assert unfolded["jxw"]["satisfied"] == before.get("jxw", {}).get("satisfied", 0) + 1
    assert await stats_summary.fold(session) == appended
    assert await _delta_rows(session) == 0
    # Folded, the figures read the same from the summary rows alone; a second fold finds nothing.
    assert await stats.department_totals(session, period=period, departments=["jxw"]) == unfolded
    assert await stats.handling_histograms(session, period=period, departments=["jxw"]) == handling
    assert await stats_summary.fold(session) == 0


async def test_a_creation_counts_the_enterprise_as_it_is_when_written(
    platform: Platform, session: AsyncSession
) -> None:
    # The first creation reads the enterprise's facts and the service remembers them.
    first = await dispatch_request(platform, enterprise_id=E1, department_code="jxw")
    size = await session.scalar(select(Enterprise.size).where(Enterprise.id == E1))
    changed = "large" if size != "large" else "micro"
    await session.execute(update(Enterprise).where(Enterprise.id == E1).values(size=changed, park="新区产业园"))
    await stats_summary.fold(session)
    second = await dispatch_request(platform, enterprise_id=E1, department_code="jxw")
    # The remembered facts no longer held: the write read them again and counts the new ones.
    chosen = select(Ticket.id, Ticket.enterprise_size).where(Ticket.id.in_([first["id"], second["id"]]))
    snapshots = {row.id: row.enterprise_size for row in await session.execute(chosen)}
    assert snapshots == {first["id"]: size, second["id"]: changed}
    departments = StatsDepartmentDelta.__table__
    received = select(departments.c.size, func.sum(departments.c.received)).group_by(departments.c.size)
    assert {row[0]: row[1] for row in await session.execute(received) if row[1]} == {changed: 1}
    hot_spots = StatsHotSpotDelta.__table__
    parks = (await session.execute(select(hot_spots.c.key).where(hot_spots.c.dimension == "park"))).scalars().all()
    assert parks == ["新区产业园"]


async def test_the_fold_loop_folds_each_interval_survives_a_failure_and_folds_once_more_at_stop(
    monkeypatch: Any,
) -> None:
    calls: list[int] = []
    folded_twice = asyncio.Event()

    async def fold_committed(database: object) -> int:
        calls.append(len(calls))
        if len(calls) == 1:
            raise ConnectionError("the database is away for a moment")
        if len(calls) == 3:
            folded_twice.set()
        return 1

    monkeypatch.setattr(stats_summary, "fold_committed", fold_committed)
    stop = asyncio.Event()
    loop = asyncio.create_task(stats_summary.fold_until_stopped(object(), interval_seconds=0.01, stop=stop))
    # The first fold failed; the loop went on to fold again, not ended.
    await asyncio.wait_for(folded_twice.wait(), timeout=10)
    assert not loop.done()
    before_stop = len(calls)
    stop.set()
    await asyncio.wait_for(loop, timeout=10)
    # Stopping folds once more (the deltas of the last moments reach the summary rows).
    assert len(calls) == before_stop + 1
    assert loop.exception() is None

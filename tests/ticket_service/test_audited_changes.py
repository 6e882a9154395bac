"""Every change to a ticket goes through one audited-change path: a person's action and each
SLA worker step alike. Its audit link lists every audited field that changed, with the old
and the new value, so replaying the links from the ticket's creation gives the ticket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from services.workdays import WorkCalendar
from tests.conftest import Platform
from tests.ticket_service.helpers import ACTION_BODY, act, act_ok, events, order_one, reload, utc, verify_chain
from ticket_service import audit, lifecycle, sla
from ticket_service.calendar_service import CalendarCache
from ticket_service.catalog_client import CatalogClient
from ticket_service.changes import recompute_deadlines
from ticket_service.models import Ticket
from ticket_service.sla_rules import SlaPolicy

POLICY = SlaPolicy()
# The worker's schedule, the version's bookkeeping and two index mirrors; every other column is a fact of the case.
BOOKKEEPING = {"updated_at", "version", "co_departments_text", "is_overdue", "sla_next_at", "sla_fired"}
AUDITED = [column.key for column in Ticket.__table__.columns if column.key not in BOOKKEEPING]
# A rating is its own row; its link records it, but it is no field of the ticket.
RECORDS = {"feedback": {"rating"}}


@pytest.fixture
async def catalog(platform: Platform) -> AsyncIterator[CatalogClient]:
    transport = httpx.ASGITransport(app=platform.upstreams["catalog"])
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as http:
        yield CatalogClient(http)


async def _sweep(platform: Platform, catalog: CatalogClient, at: datetime) -> sla.SweepReport:
    assert platform.holder.sessionmaker is not None
    return await sla.run_sweep(
        platform.holder.sessionmaker, cache=CalendarCache(), catalog=catalog, now=at, policy=POLICY
    )


async def _audited(session: AsyncSession, ticket_id: str) -> dict[str, Any]:
    session.expire_all()
    ticket = await reload(session, ticket_id)
    return {key: audit.jsonable(getattr(ticket, key)) for key in AUDITED}


def _expected_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [before[key], after[key]] for key in AUDITED if before[key] != after[key]}


def _replay(start: dict[str, Any], links: list[dict[str, Any]]) -> dict[str, Any]:
    """The audited fields after applying each link's changes, each old value checked first."""
    state = dict(start)
    for link in links[1:]:
        for key, (old, new) in link["changes"].items():
            if key in RECORDS.get(link["action"], set()):
                continue
            assert key in state, f"link {link['seq']} ({link['action']}) changes {key}, no audited field"
            assert state[key] == old, f"link {link['seq']} ({link['action']}): {key} was {state[key]!r}, not {old!r}"
            state[key] = new
    return state


async def _step_link(platform: Platform, ticket_id: str, action: str) -> dict[str, Any]:
    links = await events(platform, ticket_id)
    mine = [link for link in links if link["action"] == action]
    assert len(mine) == 1, [link["action"] for link in links]
    return mine[0]


async def test_the_overdue_accept_flag_lists_every_field_it_changed(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    before = await _audited(session, ticket["id"])
    await _sweep(platform, catalog, utc(ticket["accept_due"]) + timedelta(minutes=1))
    link = await _step_link(platform, ticket["id"], "overdue_accept")
    assert link["changes"] == {"overdue": [[], ["accept"]]}
    assert link["changes"] == _expected_changes(before, await _audited(session, ticket["id"]))
    assert (await verify_chain(platform, ticket["id"]))["ok"] is True


async def test_the_joint_review_step_lists_the_flag_and_the_co_departments(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    await act_ok(platform, "staff-jxw", ticket["id"], "accept", {"note": "受理"})
    before = await _audited(session, ticket["id"])
    await _sweep(platform, catalog, utc(ticket["resolve_due"]) + timedelta(minutes=1))
    link = await _step_link(platform, ticket["id"], "joint_review")
    after = await _audited(session, ticket["id"])
    assert link["changes"]["overdue"] == [[], ["resolve"]]
    assert link["changes"]["status"] == ["accepted", "joint_review"]
    assert after["co_department_codes"] != []  # the item's co-handlers (they were the ticket's already)
    assert link["changes"] == _expected_changes(before, after)
    assert (link["from_status"], link["to_status"], link["role"]) == ("accepted", "joint_review", "system")


async def test_the_escalation_step_lists_the_final_flag(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    await _sweep(platform, catalog, utc(ticket["resolve_due"]) + timedelta(minutes=1))
    before = await _audited(session, ticket["id"])
    await _sweep(platform, catalog, utc(ticket["final_due"]) + timedelta(minutes=1))
    link = await _step_link(platform, ticket["id"], "escalate")
    assert link["changes"]["overdue"] == [["accept", "resolve"], ["accept", "resolve", "final"]]
    assert link["changes"]["status"] == ["joint_review", "escalated"]
    assert link["changes"] == _expected_changes(before, await _audited(session, ticket["id"]))


async def test_a_due_soon_warning_changes_no_audited_field(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    before = await _audited(session, ticket["id"])
    await _sweep(platform, catalog, utc(ticket["accept_due"]) - timedelta(hours=1))
    link = await _step_link(platform, ticket["id"], "due_soon")
    assert link["changes"] == {}
    assert "accept deadline" in link["note"]
    assert await _audited(session, ticket["id"]) == before


async def test_the_auto_close_step_lists_the_closing(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    await act_ok(platform, "staff-jxw", ticket["id"], "accept", {"note": "受理"})
    resolved = await act_ok(platform, "staff-jxw", ticket["id"], "resolve", {"result": "办结"})
    before = await _audited(session, ticket["id"])
    await _sweep(platform, catalog, utc(resolved["resolved_at"]) + timedelta(days=7, minutes=1))
    link = await _step_link(platform, ticket["id"], "auto_close")
    after = await _audited(session, ticket["id"])
    assert link["changes"]["status"] == ["resolved", "closed"]
    assert link["changes"]["closed_at"] == [None, after["closed_at"]]
    assert link["changes"] == _expected_changes(before, after)


async def test_the_recompute_step_lists_the_moved_deadlines(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform)
    stored = await reload(session, ticket["id"])
    # Received just before a year whose official notice is not loaded yet: provisional deadlines.
    stored.received_at = stored.clock_started_at = datetime.fromisoformat("2026-12-30T10:00:00+08:00")
    recompute_deadlines(stored, WorkCalendar.build())
    await session.flush()
    before = await _audited(session, ticket["id"])
    notice = {"complete": True, "days": [{"date": "2027-01-05", "is_workday": False, "note": "示例假日"}]}
    response = await platform.client.put("/api/v1/calendar/2027", json=notice, headers=await platform.auth("admin"))
    assert response.status_code == 200, response.text
    assert platform.holder.sessionmaker is not None
    now = datetime.fromisoformat("2026-12-30T12:00:00+08:00")
    await sla.recompute_year(platform.holder.sessionmaker, cache=CalendarCache(), year=2027, policy=POLICY, now=now)
    link = await _step_link(platform, ticket["id"], "recompute")
    after = await _audited(session, ticket["id"])
    assert link["changes"]["provisional"] == [True, False]
    assert link["changes"]["final_due"] == [before["final_due"], after["final_due"]]
    assert link["changes"] == _expected_changes(before, after)


# The property: random histories of people's actions and worker steps.

ACTORS = ("staff-jxw", "staff-czj", "enterprise-1", "dispatcher", "supervisor")
WORKER_STEP = "sweep"


async def _allowed(platform: Platform, ticket_id: str) -> list[tuple[str, str]]:
    """Every (actor, action) the API offers on the ticket now."""
    offers = []
    for actor in ACTORS:
        response = await platform.client.get(f"/api/v1/tickets/{ticket_id}", headers=await platform.auth(actor))
        if response.status_code == 200:
            offers += [(actor, action) for action in response.json()["allowed_actions"]]
    return offers


async def _take(platform: Platform, ticket: dict[str, Any], actor: str, action: str) -> None:
    body = dict(ACTION_BODY[lifecycle.Action(action)])
    if action == "transfer":
        current = await platform.client.get(f"/api/v1/tickets/{ticket['id']}", headers=await platform.auth(actor))
        body["department_code"] = "jxw" if current.json()["department_code"] != "jxw" else "kjj"
    response = await act(platform, actor, ticket["id"], action, body)
    # The state machine offered it; a 422 is the action's own input rule (e.g. no other co-department).
    assert response.status_code in (200, 422), f"{actor} {action}: {response.status_code} {response.text}"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_replaying_the_links_reproduces_the_ticket(
    platform: Platform, session: AsyncSession, catalog: CatalogClient, data: st.DataObject
) -> None:
    ticket = await order_one(platform)
    start = await _audited(session, ticket["id"])
    received = utc(ticket["received_at"])
    for _ in range(data.draw(st.integers(min_value=1, max_value=8), label="steps")):
        offers = await _allowed(platform, ticket["id"])
        choice = data.draw(st.sampled_from([WORKER_STEP, *offers]), label="step")
        if choice == WORKER_STEP:
            hours = data.draw(st.integers(min_value=1, max_value=24 * 12), label="sweep after hours")
            await _sweep(platform, catalog, received + timedelta(hours=hours))
        else:
            await _take(platform, ticket, *choice)
        rating = data.draw(st.sampled_from([None, "satisfied", "unsatisfied"]), label="rating")
        if rating is not None:
            await platform.client.post(
                f"/api/v1/tickets/{ticket['id']}/feedback",
                json={"rating": rating, "comment": "回访"},
                headers=await platform.auth("enterprise-1"),
            )
    links = await events(platform, ticket["id"])
    assert _replay(start, links) == await _audited(session, ticket["id"])
    assert (await verify_chain(platform, ticket["id"]))["ok"] is True

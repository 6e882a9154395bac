"""The SLA sweep in-process: each step once, at the right instant, and dry runs change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.workdays import WorkCalendar
from tests.conftest import Platform
from tests.ticket_service.helpers import act_ok, count, dispatch_request, order_one, utc, verify_chain
from ticket_service import changes, sla
from ticket_service.calendar_service import CalendarCache
from ticket_service.catalog_client import CatalogClient
from ticket_service.models import OutboxEvent, Ticket, TicketEvent
from ticket_service.sla_rules import SlaPolicy

POLICY = SlaPolicy()


@pytest.fixture
async def catalog(platform: Platform) -> AsyncIterator[CatalogClient]:
    transport = httpx.ASGITransport(app=platform.upstreams["catalog"])
    async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as http:
        yield CatalogClient(http)


async def _sweep(
    platform: Platform, catalog: CatalogClient, at: datetime, *, dry_run: bool = False, chunk_size: int = 200
) -> sla.SweepReport:
    assert platform.holder.sessionmaker is not None
    return await sla.run_sweep(
        platform.holder.sessionmaker,
        cache=CalendarCache(),
        catalog=catalog,
        now=at,
        policy=POLICY,
        dry_run=dry_run,
        chunk_size=chunk_size,
    )


async def _actions(session: AsyncSession, ticket_id: str) -> list[str]:
    rows = await session.execute(
        select(TicketEvent.action).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.seq)
    )
    return list(rows.scalars())


async def test_one_late_sweep_takes_every_overdue_step_once(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    late = utc(str(ticket["final_due"])) + timedelta(minutes=1)
    preview = await _sweep(platform, catalog, late, dry_run=True)
    assert [s["step"] for s in preview.steps if s["ticket_id"] == ticket["id"]] == [
        "due_soon",
        "overdue_accept",
        "due_soon",
        "joint_review",
        "due_soon",
        "escalate",
    ]
    assert await _actions(session, str(ticket["id"])) == ["create"]
    report = await _sweep(platform, catalog, late)
    mine = {s["step"]: s["outcome"] for s in report.steps if s["ticket_id"] == ticket["id"]}
    assert mine == {
        "due_soon": "skipped: already overdue",
        "overdue_accept": "flagged",
        "joint_review": "joint_review",
        "escalate": "escalated",
    }
    assert await _actions(session, str(ticket["id"])) == ["create", "overdue_accept", "joint_review", "escalate"]
    session.expire_all()
    stored = await session.get(Ticket, ticket["id"])
    assert stored is not None
    assert stored.status == "escalated"
    assert stored.overdue == ["accept", "resolve", "final"]
    assert set(stored.co_department_codes) == {"fgw", "czj"}
    assert stored.sla_next_at is None
    # One overdue notice (督办) per missed deadline; the joint review and escalation once each.
    for event_type, times in (("ticket.overdue", 3), ("ticket.joint_review_started", 1), ("ticket.escalated", 1)):
        assert (
            await count(
                session,
                OutboxEvent,
                OutboxEvent.aggregate_id == str(ticket["id"]),
                OutboxEvent.event_type == event_type,
            )
            == times
        )
    again = await _sweep(platform, catalog, late + timedelta(days=3))
    assert [s for s in again.steps if s["ticket_id"] == ticket["id"]] == []
    assert await _actions(session, str(ticket["id"])) == ["create", "overdue_accept", "joint_review", "escalate"]
    assert (await verify_chain(platform, ticket["id"]))["ok"] is True


async def test_a_sweep_in_small_chunks_takes_every_due_ticket_once_with_intact_chains(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    tickets = [await order_one(platform) for _ in range(5)]
    late = max(utc(str(ticket["final_due"])) for ticket in tickets) + timedelta(minutes=1)
    report = await _sweep(platform, catalog, late, chunk_size=2)
    mine = {str(ticket["id"]) for ticket in tickets}
    assert {entry["ticket_id"] for entry in report.steps} >= mine
    supervisor = await platform.auth("supervisor")
    for ticket in tickets:
        assert await _actions(session, str(ticket["id"])) == ["create", "overdue_accept", "joint_review", "escalate"]
        assert await verify_chain(platform, ticket["id"]) == {"ok": True, "first_broken_seq": None, "events": 4}
        # One version per audited change: created at 1, then three steps.
        read = await platform.client.get(f"/api/v1/tickets/{ticket['id']}", headers=supervisor)
        assert read.json()["version"] == 4
    again = await _sweep(platform, catalog, late, chunk_size=2)
    assert not {entry["ticket_id"] for entry in again.steps} & mine


async def test_a_due_soon_warning_fires_once_before_the_deadline(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    soon = utc(str(ticket["accept_due"])) - timedelta(hours=1)
    await _sweep(platform, catalog, soon)
    await _sweep(platform, catalog, soon + timedelta(minutes=10))
    assert await _actions(session, str(ticket["id"])) == ["create", "due_soon"]
    assert (
        await count(
            session,
            OutboxEvent,
            OutboxEvent.aggregate_id == str(ticket["id"]),
            OutboxEvent.event_type == "ticket.due_soon",
        )
        == 1
    )
    too_early = await order_one(platform)
    await _sweep(platform, catalog, utc(str(too_early["accept_due"])) - timedelta(hours=13))
    assert await _actions(session, str(too_early["id"])) == ["create"]


async def test_the_national_day_case(platform: Platform, session: AsyncSession, catalog: CatalogClient) -> None:
    ticket_data = await order_one(platform)
    stored = await session.get(Ticket, ticket_data["id"])
    assert stored is not None
    stored.received_at = stored.clock_started_at = datetime.fromisoformat("2026-09-30T10:00:00+08:00")
    calendar = WorkCalendar.build()
    changes.recompute_deadlines(stored, calendar)
    changes.schedule_sla(stored, calendar, POLICY)
    await session.flush()
    await _sweep(platform, catalog, datetime.fromisoformat("2026-10-09T10:00:00+08:00"))
    actions = await _actions(session, stored.id)
    assert "overdue_accept" in actions  # accept was due at the end of 10-08
    assert "joint_review" not in actions  # resolve is due at the end of Saturday 10-10, a working day
    await _sweep(platform, catalog, datetime.fromisoformat("2026-10-10T23:59:00+08:00"))
    assert "joint_review" not in await _actions(session, stored.id)
    await _sweep(platform, catalog, datetime.fromisoformat("2026-10-11T00:01:00+08:00"))
    assert (await _actions(session, stored.id)).count("joint_review") == 1


async def test_a_free_request_takes_its_categorys_co_departments(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await dispatch_request(platform, category_code="green-energy")
    await _sweep(platform, catalog, utc(str(ticket["resolve_due"])) + timedelta(minutes=1))
    session.expire_all()
    stored = await session.get(Ticket, ticket["id"])
    assert stored is not None
    assert stored.status == "joint_review"
    category = await catalog.category_co_departments("green-energy")
    assert set(stored.co_department_codes) == {code for code in category if code != "jxw"}


async def test_a_sweep_asks_the_catalogue_once_per_category(
    platform: Platform, session: AsyncSession, catalog: CatalogClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = [await dispatch_request(platform, category_code="green-energy") for _ in range(3)]
    asked: list[str] = []
    real = catalog.category_co_departments

    async def counting(code: str) -> list[str]:
        asked.append(code)
        return await real(code)

    monkeypatch.setattr(catalog, "category_co_departments", counting)
    await _sweep(platform, catalog, max(utc(str(t["resolve_due"])) for t in tickets) + timedelta(minutes=1))
    assert asked == ["green-energy"]
    session.expire_all()
    for ticket in tickets:
        stored = await session.get(Ticket, ticket["id"])
        assert stored is not None
        assert stored.status == "joint_review"


async def test_without_co_departments_the_dispatcher_is_asked(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await dispatch_request(platform, department_code=None)
    report = await _sweep(platform, catalog, utc(str(ticket["resolve_due"])) + timedelta(minutes=1))
    outcome = {s["step"]: s["outcome"] for s in report.steps if s["ticket_id"] == ticket["id"]}
    assert outcome["joint_review"] == "needs_dispatcher"
    session.expire_all()
    stored = await session.get(Ticket, ticket["id"])
    assert stored is not None
    assert stored.status == "submitted"
    assert stored.overdue == ["accept", "resolve"]


async def test_a_resolved_ticket_closes_itself_after_the_feedback_window(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    await act_ok(platform, "staff-jxw", ticket["id"], "accept", {"note": "受理"})
    resolved = await act_ok(platform, "staff-jxw", ticket["id"], "resolve", {"result": "办结"})
    resolved_at = utc(resolved["resolved_at"])
    await _sweep(platform, catalog, resolved_at + timedelta(days=6, hours=23))
    assert "auto_close" not in await _actions(session, str(ticket["id"]))
    await _sweep(platform, catalog, resolved_at + timedelta(days=7, minutes=1))
    assert (await _actions(session, str(ticket["id"])))[-1] == "auto_close"
    session.expire_all()
    stored = await session.get(Ticket, ticket["id"])
    assert stored is not None and stored.status == "closed"


async def test_a_paused_ticket_is_not_overdue(
    platform: Platform, session: AsyncSession, catalog: CatalogClient
) -> None:
    ticket = await order_one(platform)
    await act_ok(platform, "staff-jxw", ticket["id"], "accept", {"note": "受理"})
    await act_ok(platform, "staff-jxw", ticket["id"], "request-info", {"note": "请补充材料"})
    await _sweep(platform, catalog, utc(str(ticket["final_due"])) + timedelta(days=2))
    assert await _actions(session, str(ticket["id"])) == ["create", "accept", "request-info"]


async def test_a_step_that_fails_rolls_back_its_ticket_only_and_is_taken_once_later(
    platform: Platform, session: AsyncSession, catalog: CatalogClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = await order_one(platform), await order_one(platform, "KJ-001")
    late = max(utc(str(first["final_due"])), utc(str(second["final_due"]))) + timedelta(minutes=1)
    real_take_step = sla.take_step
    failed: list[str] = []

    async def fail_on_second_ticket(session_: AsyncSession, ticket: Ticket, step: object, **kwargs: object) -> str:
        if ticket.id == second["id"] and str(step) == str(sla.Step.JOINT_REVIEW):
            failed.append(ticket.id)
            raise RuntimeError("step failed")
        return await real_take_step(session_, ticket, step, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sla, "take_step", fail_on_second_ticket)
    report = await _sweep(platform, catalog, late)
    monkeypatch.undo()
    # Once in the shared chunk (rolled back whole), once alone when the chunk is taken again.
    assert failed == [second["id"], second["id"]]
    assert {entry["ticket_id"] for entry in report.steps} == {first["id"]}
    assert report.failed == [{"ticket_id": second["id"], "error": "RuntimeError"}]
    assert await _actions(session, str(first["id"])) == ["create", "overdue_accept", "joint_review", "escalate"]
    assert await _actions(session, str(second["id"])) == ["create"]  # its transaction never committed
    await _sweep(platform, catalog, late)
    for ticket in (first, second):
        assert await _actions(session, str(ticket["id"])) == ["create", "overdue_accept", "joint_review", "escalate"]


async def test_a_changed_calendar_recomputes_open_deadlines_once(platform: Platform, session: AsyncSession) -> None:
    ticket_data = await order_one(platform)
    stored = await session.get(Ticket, ticket_data["id"])
    assert stored is not None
    stored.received_at = stored.clock_started_at = datetime.fromisoformat("2026-12-30T10:00:00+08:00")
    calendar = WorkCalendar.build()
    changes.recompute_deadlines(stored, calendar)
    await session.flush()
    assert stored.provisional is True
    old_final = stored.final_due
    notice = {"complete": True, "days": [{"date": "2027-01-05", "is_workday": False, "note": "示例假日"}]}
    response = await platform.client.put("/api/v1/calendar/2027", json=notice, headers=await platform.auth("admin"))
    assert response.status_code == 200
    assert platform.holder.sessionmaker is not None
    now = datetime.fromisoformat("2026-12-30T12:00:00+08:00")
    changed = await sla.recompute_year(
        platform.holder.sessionmaker, cache=CalendarCache(), year=2027, policy=POLICY, now=now
    )
    assert changed >= 1
    session.expire_all()
    stored = await session.get(Ticket, ticket_data["id"])
    assert stored is not None
    assert stored.provisional is False
    assert stored.final_due == old_final + timedelta(days=1)
    assert (await _actions(session, stored.id))[-1] == "recompute"
    again = await sla.recompute_year(
        platform.holder.sessionmaker, cache=CalendarCache(), year=2027, policy=POLICY, now=now
    )
    assert again == 0


async def test_sweep_endpoint_dry_run_and_queueing(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform)
    late = utc(str(ticket["final_due"])) + timedelta(minutes=1)
    supervisor = await platform.auth("supervisor")
    dry = await platform.client.post(
        "/api/v1/sla/sweep", json={"as_of": late.isoformat(), "dry_run": True}, headers=supervisor
    )
    assert dry.status_code == 200
    steps = [s for s in dry.json()["steps"] if s["ticket_id"] == ticket["id"]]
    assert [s["step"] for s in steps][1] == "overdue_accept"
    assert all(s["outcome"] == "would run" for s in steps)
    assert await _actions(session, str(ticket["id"])) == ["create"]
    queued = await platform.client.post("/api/v1/sla/sweep", json={}, headers=await platform.auth("admin"))
    assert queued.status_code == 202
    assert queued.json()["job_id"].startswith("sweep:")
    status = await platform.client.get("/api/v1/sla/status", headers=supervisor)
    assert status.status_code == 200
    assert status.json()["queue"]["reachable"] is True
    assert status.json()["outbox_backlog"] >= 1
    for user, code in (("enterprise-1", 403), ("staff-jxw", 403), ("dispatcher", 403)):
        assert (
            await platform.client.post("/api/v1/sla/sweep", json={}, headers=await platform.auth(user))
        ).status_code == code
        assert (await platform.client.get("/api/v1/sla/status", headers=await platform.auth(user))).status_code == code
    naive = await platform.client.post(
        "/api/v1/sla/sweep", json={"as_of": "2026-12-01T10:00:00", "dry_run": True}, headers=supervisor
    )
    assert naive.status_code == 422

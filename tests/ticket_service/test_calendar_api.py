"""The calendar through the gateway: deadlines, a year's days, the admin overlay."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import utcnow
from tests.conftest import Platform
from tests.ticket_service.helpers import assert_problem, count, deadlines_for, file_request, utc
from ticket_service import creation
from ticket_service.models import CalendarChange, CalendarDay, CalendarYear, OutboxEvent, Ticket

SHANGHAI_MIDNIGHT = "T16:00:00Z"  # the end of a local day (24:00 +08:00), in UTC


@pytest.mark.parametrize(
    ("received_at", "accept_day", "resolve_day", "final_day"),
    [
        # National Day 2026: 10-01..07 off, Saturday 10-10 a make-up working day.
        ("2026-09-30T10:00:00+08:00", "2026-10-08", "2026-10-10", "2026-10-13"),
        ("2026-09-30T23:59:59+08:00", "2026-10-08", "2026-10-10", "2026-10-13"),
        ("2026-09-30T00:00:00+08:00", "2026-10-08", "2026-10-10", "2026-10-13"),
        # Spring Festival 2026: Saturday 02-14 is a make-up working day, 02-15..23 are off.
        ("2026-02-13T09:00:00+08:00", "2026-02-14", "2026-02-25", "2026-02-27"),
        # Received on a Sunday: counting starts on Monday.
        ("2026-11-29T15:00:00+08:00", "2026-11-30", "2026-12-02", "2026-12-04"),
        # The same instant written in UTC: the local date (Asia/Shanghai) decides.
        ("2026-09-29T16:30:00Z", "2026-10-08", "2026-10-10", "2026-10-13"),
    ],
)
async def test_deadline_vectors(
    platform: Platform, received_at: str, accept_day: str, resolve_day: str, final_day: str
) -> None:
    body = await deadlines_for(platform, received_at)
    # The end of local day D (24:00 +08:00) is D 16:00 UTC.
    assert (body["accept_due"], body["resolve_due"], body["final_due"]) == (
        accept_day + SHANGHAI_MIDNIGHT,
        resolve_day + SHANGHAI_MIDNIGHT,
        final_day + SHANGHAI_MIDNIGHT,
    )
    assert body["provisional"] is False
    assert body["profile"] == "1-3-5"


async def test_other_profiles_and_default_now(platform: Platform) -> None:
    body = await deadlines_for(platform, "2026-09-30T10:00:00+08:00", "1-5-10")
    assert body["resolve_due"] == "2026-10-13" + SHANGHAI_MIDNIGHT  # 10-08, 09, 10 (Sat), 12, 13
    assert body["final_due"] == "2026-10-20" + SHANGHAI_MIDNIGHT  # 10-14, 15, 16, 19, 20
    now = await platform.client.get("/api/v1/calendar/deadlines")
    assert now.status_code == 200
    assert utc(now.json()["accept_due"]) > utc(now.json()["received_at"])


async def test_a_deadline_in_2027_is_provisional_until_the_notice_is_loaded(platform: Platform) -> None:
    before = await deadlines_for(platform, "2026-12-30T10:00:00+08:00")
    assert before["provisional"] is True
    assert before["final_due"] == "2027-01-06" + SHANGHAI_MIDNIGHT  # Mon–Fri fallback: 31, 1, 4, 5, 6
    assert (await platform.client.get("/api/v1/calendar/2027")).json()["status"] == "provisional"
    notice = {
        "complete": True,
        "days": [
            {"date": "2027-01-01", "is_workday": False, "note": "元旦"},
            {"date": "2027-01-04", "is_workday": False, "note": "元旦调休（示例）"},
        ],
    }
    response = await platform.client.put("/api/v1/calendar/2027", json=notice, headers=await platform.auth("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "admin_complete"
    after = await deadlines_for(platform, "2026-12-30T10:00:00+08:00")
    assert after["provisional"] is False
    assert after["final_due"] == "2027-01-08" + SHANGHAI_MIDNIGHT  # 12-31, 01-05, 06, 07, 08


async def test_a_change_made_by_another_replica_reaches_the_next_ticket(
    platform: Platform, session: AsyncSession
) -> None:
    """Another process changed the overlay, so this one's cached calendar is stale: the creating
    statement finds the overlay moved, and the ticket is built again on the new calendar."""
    first = await file_request(platform)
    assert first.status_code == 201, first.text
    accept_day = date.fromisoformat(first.json()["accept_due"][:10])  # 24:00 local is 16:00 UTC that day
    year = await session.get(CalendarYear, accept_day.year)
    if year is None:
        session.add(CalendarYear(year=accept_day.year, revision=1, updated_by="another-replica", updated_at=utcnow()))
    else:
        year.revision, year.updated_at = year.revision + 1, utcnow()
    session.add(CalendarDay(day=accept_day, year=accept_day.year, is_workday=False, note="停电停工"))
    await session.flush()

    second = await file_request(platform)
    assert second.status_code == 201, second.text
    assert date.fromisoformat(second.json()["accept_due"][:10]) > accept_day
    expected = await deadlines_for(platform, second.json()["received_at"])
    assert second.json()["accept_due"] == expected["accept_due"]
    assert second.json()["final_due"] == expected["final_due"]


async def test_a_calendar_that_keeps_changing_is_a_409_and_nothing_is_saved(
    platform: Platform, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def overlay_always_moved(*args: object, **kwargs: object) -> bool:
        return False

    tickets_before = await count(session, Ticket)
    monkeypatch.setattr(creation, "insert_together", overlay_always_moved)
    response = await file_request(platform)
    assert_problem(response, 409, "calendar_changing")
    assert await count(session, Ticket) == tickets_before


async def test_an_incomplete_overlay_keeps_the_year_provisional(platform: Platform) -> None:
    body = {"complete": False, "days": [{"date": "2027-01-01", "is_workday": False, "note": "元旦"}]}
    response = await platform.client.put("/api/v1/calendar/2027", json=body, headers=await platform.auth("admin"))
    assert response.json()["status"] == "provisional"
    assert (await deadlines_for(platform, "2026-12-30T10:00:00+08:00"))["provisional"] is True


async def test_overlay_wins_over_the_official_data(platform: Platform) -> None:
    closure = {"complete": False, "days": [{"date": "2026-10-08", "is_workday": False, "note": "台风停工"}]}
    response = await platform.client.put("/api/v1/calendar/2026", json=closure, headers=await platform.auth("admin"))
    assert response.status_code == 200
    assert response.json()["status"] == "official"
    body = await deadlines_for(platform, "2026-09-30T10:00:00+08:00")
    assert body["accept_due"] == "2026-10-09" + SHANGHAI_MIDNIGHT  # 10-08 closed: 1st day is 10-09
    day = next(d for d in response.json()["days"] if d["date"] == "2026-10-08")
    assert day == {"date": "2026-10-08", "weekday": 4, "is_workday": False, "reason": "台风停工", "source": "overlay"}


async def test_put_replaces_the_whole_overlay(platform: Platform) -> None:
    admin = await platform.auth("admin")
    first = {"days": [{"date": "2027-03-01", "is_workday": False, "note": "a"}]}
    second = {"days": [{"date": "2027-03-02", "is_workday": False, "note": "b"}]}
    await platform.client.put("/api/v1/calendar/2027", json=first, headers=admin)
    response = await platform.client.put("/api/v1/calendar/2027", json=second, headers=admin)
    overlay_days = [d["date"] for d in response.json()["days"] if d["source"] == "overlay"]
    assert overlay_days == ["2027-03-02"]
    assert response.json()["overlay"]["revision"] == 2


async def test_year_view_lists_holidays_and_make_up_days_with_sources(platform: Platform) -> None:
    response = await platform.client.get("/api/v1/calendar/2026")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "official"
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-10-01"]["is_workday"] is False
    assert days["2026-10-01"]["source"] == "package"
    assert days["2026-10-10"] == {
        "date": "2026-10-10",
        "weekday": 6,
        "is_workday": True,
        "reason": "make-up working day",
        "source": "package",
    }
    assert "2026-10-12" not in days  # an ordinary Monday is not listed
    assert body["overlay"] is None


async def test_change_is_audited_and_emits_an_event(platform: Platform, session: AsyncSession) -> None:
    body = {"complete": True, "days": [{"date": "2027-02-10", "is_workday": False, "note": "春节"}]}
    response = await platform.client.put("/api/v1/calendar/2027", json=body, headers=await platform.auth("admin"))
    assert response.status_code == 200
    changes = (await session.execute(select(CalendarChange).where(CalendarChange.year == 2027))).scalars().all()
    assert [(c.actor, c.role, c.complete, c.previous_complete) for c in changes] == [("admin", "admin", True, False)]
    assert changes[0].days == [{"date": "2027-02-10", "is_workday": False, "note": "春节"}]
    events = (
        (await session.execute(select(OutboxEvent).where(OutboxEvent.event_type == "calendar.changed"))).scalars().all()
    )
    assert len(events) == 1
    envelope = events[0].envelope
    assert set(envelope) == {"id", "type", "occurred_at", "data"}
    assert envelope["data"]["year"] == 2027
    assert envelope["data"]["complete"] is True
    audit = await platform.client.get("/api/v1/calendar/2027/changes", headers=await platform.auth("supervisor"))
    assert audit.status_code == 200
    assert audit.json()[0]["actor"] == "admin"


@pytest.mark.parametrize("username", ["enterprise-1", "staff-jxw", "dispatcher", "supervisor"])
async def test_only_admin_changes_the_calendar(platform: Platform, session: AsyncSession, username: str) -> None:
    body = {"days": [{"date": "2027-01-01", "is_workday": False, "note": "x"}]}
    response = await platform.client.put("/api/v1/calendar/2027", json=body, headers=await platform.auth(username))
    assert response.status_code == 403
    assert response.json()["code"] == "role_not_allowed"
    assert (await session.execute(select(CalendarDay))).first() is None


async def test_anonymous_cannot_change_or_read_the_audit(platform: Platform) -> None:
    response = await platform.client.put("/api/v1/calendar/2027", json={"days": []})
    assert response.status_code == 401
    audit = await platform.client.get("/api/v1/calendar/2027/changes")
    assert audit.status_code == 401
    as_staff = await platform.client.get("/api/v1/calendar/2027/changes", headers=await platform.auth("staff-jxw"))
    assert as_staff.status_code == 403


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"profile": "9-9"}, "invalid_profile", "profile"),
        ({"profile": "3-1-5"}, "invalid_profile", "profile"),
        ({"profile": "a-b-c"}, "invalid_profile", "profile"),
        ({"profile": "0-3-5"}, "invalid_profile", "profile"),
        ({"received_at": "yesterday"}, "validation_error", "received_at"),
        ({"received_at": "2026-13-45T10:00:00+08:00"}, "validation_error", "received_at"),
        ({"received_at": "2026-09-30T10:00:00"}, "invalid_instant", "received_at"),
        ({"received_at": "1900-01-01T10:00:00+08:00"}, "invalid_instant", "received_at"),
        ({"received_at": "2250-01-01T10:00:00+08:00"}, "invalid_instant", "received_at"),
    ],
)
async def test_bad_deadline_queries_are_422_problems(
    platform: Platform, params: dict[str, str], code: str, field: str
) -> None:
    response = await platform.client.get("/api/v1/calendar/deadlines", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert field in body["errors"][0]["loc"]


@pytest.mark.parametrize("year", ["1900", "2300", "nineteen"])
async def test_unsupported_years_are_422(platform: Platform, year: str) -> None:
    response = await platform.client.get(f"/api/v1/calendar/{year}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "year"]


@pytest.mark.parametrize(
    ("days", "code"),
    [
        ([{"date": "2026-12-31", "is_workday": False}], "date_outside_year"),
        ([{"date": "2027-01-01", "is_workday": False}, {"date": "2027-01-01", "is_workday": True}], "duplicate_date"),
        ([{"date": "2027-02-30", "is_workday": False}], "validation_error"),
        ([{"date": "2027-01-05", "is_workday": "sometimes"}], "validation_error"),
        ([{"date": "2027-01-05", "is_workday": False, "note": "x" * 201}], "validation_error"),
        ([{"date": "2027-01-05", "is_workday": False, "colour": "red"}], "validation_error"),
    ],
)
async def test_bad_overlays_are_rejected_and_write_nothing(
    platform: Platform, session: AsyncSession, days: list[dict[str, object]], code: str
) -> None:
    response = await platform.client.put(
        "/api/v1/calendar/2027", json={"days": days}, headers=await platform.auth("admin")
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    assert (await session.execute(select(CalendarDay))).first() is None
    assert (await session.execute(select(CalendarChange))).first() is None
    assert (await session.execute(select(OutboxEvent))).first() is None


async def test_malformed_overlay_json_is_400(platform: Platform) -> None:
    response = await platform.client.put(
        "/api/v1/calendar/2027",
        content=b'{"days": [',
        headers={**await platform.auth("admin"), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"

"""Plain helpers for the ticket HTTP tests: orders, requests, actions, arranging a state, reading rows.

Problem checks and page walks are the catalogue suite's (`tests.catalog_service.helpers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.catalog_service.helpers import API, assert_locs, assert_problem, assert_validation, walk
from tests.conftest import Platform
from tests.support import DEMO_PASSWORD
from ticket_service import lifecycle
from ticket_service.models import OutboxEvent, Ticket, TicketEvent
from ticket_service.seed import demo_enterprise_ids

__all__ = [
    "ACTION_BODY",
    "API",
    "E1",
    "E2",
    "GENESIS",
    "NUMBER_PATTERN",
    "act",
    "act_ok",
    "arrange",
    "assert_locs",
    "assert_problem",
    "assert_validation",
    "client_token",
    "count",
    "deadlines_for",
    "dispatch_request",
    "events",
    "file_request",
    "get_ticket",
    "iso",
    "last_event",
    "list_ids",
    "order",
    "order_one",
    "outbox_rows",
    "rate",
    "reload",
    "resolve_ticket",
    "utc",
    "walk",
]

ENTERPRISE_IDS = demo_enterprise_ids()
E1 = ENTERPRISE_IDS["enterprise-1"]  # small, Taiwan-funded
E2 = ENTERPRISE_IDS["enterprise-2"]  # large
GENESIS = "0" * 64
NUMBER_PATTERN = r"^T\d{8}\d{6}$"

# A valid body for every action (DESIGN §5, ticket_routes.ACTION_BODIES).
ACTION_BODY: dict[lifecycle.Action, dict[str, Any]] = {
    lifecycle.Action.ACCEPT: {"note": "已受理，三个工作日内答复。"},
    lifecycle.Action.START: {},
    lifecycle.Action.REQUEST_INFO: {"note": "请补充近三年用电数据。"},
    lifecycle.Action.RESUME: {},
    lifecycle.Action.RESOLVE: {"result": "已办结：补贴已拨付。"},
    lifecycle.Action.EXPLAIN: {"explanation": "不符合申报条件，已书面说明。"},
    lifecycle.Action.REQUEST_JOINT_REVIEW: {"co_department_codes": ["czj"], "note": "需财政局会办。"},
    lifecycle.Action.CONTRIBUTE: {"note": "财政局意见：同意拨付。"},
    lifecycle.Action.ESCALATE: {"note": "逾期未办，提请领导督办。"},
    lifecycle.Action.RETURN: {"reason": "不属本部门职责。"},
    lifecycle.Action.TRANSFER: {"department_code": "kjj", "reason": "转科技局办理。"},
    lifecycle.Action.WITHDRAW: {"reason": "问题已自行解决。"},
    lifecycle.Action.CLOSE: {},
    lifecycle.Action.REOPEN: {"reason": "结果不满意，重新办理。"},
}


def utc(text: str) -> datetime:
    """An RFC 3339 instant from the API as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def order(platform: Platform, username: str, *codes: str, notes: Sequence[str] | None = None) -> httpx.Response:
    lines = [{"item_code": code, "note": (notes[i] if notes else f"note {code}")} for i, code in enumerate(codes)]
    return await platform.client.post(f"{API}/orders", json={"items": lines}, headers=await platform.auth(username))


async def order_one(platform: Platform, code: str = "LS-001", username: str = "enterprise-1") -> dict[str, Any]:
    """Order one item; the ticket it became."""
    response = await order(platform, username, code)
    assert response.status_code == 201, response.text
    tickets = response.json()["tickets"]
    assert len(tickets) == 1
    return dict(tickets[0])


async def file_request(platform: Platform, username: str = "enterprise-1", **overrides: Any) -> httpx.Response:
    payload: dict[str, Any] = {"title": "用电增容审批进度咨询", "description": "我司申请的用电增容审批进度如何？"}
    payload.update(overrides)
    return await platform.client.post(f"{API}/tickets", json=payload, headers=await platform.auth(username))


async def dispatch_request(
    platform: Platform, *, enterprise_id: str = E1, department_code: str | None = "jxw", **overrides: Any
) -> dict[str, Any]:
    """A request a dispatcher files for an enterprise, routed at once to `department_code`."""
    fields: dict[str, Any] = {"enterprise_id": enterprise_id, "channel": "visit", **overrides}
    if department_code is not None:
        fields["department_code"] = department_code
    response = await file_request(platform, "dispatcher", **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def act(
    platform: Platform,
    username: str,
    ticket_id: str,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    if_match: str | None = None,
) -> httpx.Response:
    headers = await platform.auth(username)
    if if_match is not None:
        headers = {**headers, "If-Match": if_match}
    if body is None:
        body = ACTION_BODY[lifecycle.Action(action)]
    return await platform.client.post(f"{API}/tickets/{ticket_id}/{action}", json=body, headers=headers)


async def act_ok(
    platform: Platform,
    username: str,
    ticket_id: str,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    if_match: str | None = None,
) -> dict[str, Any]:
    response = await act(platform, username, ticket_id, action, body, if_match=if_match)
    assert response.status_code == 200, f"{username} {action}: {response.status_code} {response.text}"
    data: dict[str, Any] = response.json()
    assert response.headers["etag"] == f'"{data["version"]}"'
    return data


async def resolve_ticket(platform: Platform, ticket: dict[str, Any]) -> dict[str, Any]:
    """Accept, start and resolve as staff of the ticket's department."""
    staff = f"staff-{ticket['department_code']}"
    for step in ("accept", "start", "resolve"):
        data = await act_ok(platform, staff, ticket["id"], step)
    return data


async def rate(platform: Platform, username: str, ticket_id: str, rating: str, comment: str = "") -> httpx.Response:
    return await platform.client.post(
        f"{API}/tickets/{ticket_id}/feedback",
        json={"rating": rating, "comment": comment},
        headers=await platform.auth(username),
    )


async def get_ticket(platform: Platform, username: str, ticket_id: str) -> httpx.Response:
    return await platform.client.get(f"{API}/tickets/{ticket_id}", headers=await platform.auth(username))


async def events(platform: Platform, ticket_id: str, username: str = "supervisor") -> list[dict[str, Any]]:
    response = await platform.client.get(f"{API}/tickets/{ticket_id}/events", headers=await platform.auth(username))
    assert response.status_code == 200, response.text
    return list(response.json())


async def verify_chain(platform: Platform, ticket_id: str, username: str = "supervisor") -> dict[str, Any]:
    """What `GET /tickets/{id}/events/verify` reports for the ticket's audit chain."""
    response = await platform.client.get(
        f"{API}/tickets/{ticket_id}/events/verify", headers=await platform.auth(username)
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def list_ids(platform: Platform, username: str, **params: Any) -> list[str]:
    """Ids of every ticket the caller's list shows (all pages)."""
    rows, _ = await walk(platform.client, "/tickets", headers=await platform.auth(username), **params)
    return [row["id"] for row in rows]


async def deadlines_for(platform: Platform, received_at: str, profile: str = "1-3-5") -> dict[str, Any]:
    response = await platform.client.get(
        f"{API}/calendar/deadlines", params={"received_at": received_at, "profile": profile}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def client_token(platform: Platform, client_id: str) -> dict[str, str]:
    """Authorization header of an integration client (client credentials grant)."""
    response = await platform.client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": DEMO_PASSWORD},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def arrange(
    session: AsyncSession,
    ticket_id: str,
    *,
    status: str,
    department_code: str | None = "jxw",
    co_department_codes: Iterable[str] = ("fgw",),
    paused_from: str | None = None,
    enterprise_id: str | None = None,
    **fields: Any,
) -> Ticket:
    """Put a ticket straight into a state through the test's session (the row's version moves on)."""
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    co = list(co_department_codes)
    ticket.status = status
    ticket.department_code = department_code
    ticket.co_department_codes = co
    ticket.co_departments_text = "," + ",".join(co) + ("," if co else "")
    if status == lifecycle.Status.PAUSED:
        ticket.paused_from = paused_from or lifecycle.Status.IN_PROGRESS.value
        ticket.paused_at = ticket.paused_at or datetime.now(UTC) - timedelta(hours=1)
    else:
        ticket.paused_from = None
        ticket.paused_at = None
    if enterprise_id is not None:
        ticket.enterprise_id = enterprise_id
    for key, value in fields.items():
        setattr(ticket, key, value)
    await session.flush()
    return ticket


async def reload(session: AsyncSession, ticket_id: str) -> Ticket:
    """The ticket row as the database has it now."""
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    return ticket


async def last_event(session: AsyncSession, ticket_id: str) -> TicketEvent:
    row = (
        await session.execute(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(TicketEvent.seq.desc())
            .limit(1)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return row


async def outbox_rows(session: AsyncSession, ticket_id: str) -> list[OutboxEvent]:
    rows = await session.execute(
        select(OutboxEvent)
        .where(OutboxEvent.aggregate_id == ticket_id)
        .order_by(OutboxEvent.seq)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars().all())


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())

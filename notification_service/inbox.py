"""The inbox: who hears of which event, and each person's read state.

An entry is addressed to an audience (`enterprise:<id>`, `department:<code>`, `role:<role>`),
so a caller's inbox follows from the token alone; read state is per person. Each audience
gets one entry per source event, and a person belongs to one audience only, so nobody hears of
one event twice."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from notification_service.errors import InboxEntryNotFound
from notification_service.models import InboxEntry, InboxRead, InboxReadMark
from services.auth import Principal, Role
from services.db import utcnow
from services.pagination import PageParams, decode_cursor, encode_cursor

SUPERVISORS = "role:supervisor"
ADMINS = "role:admin"


@dataclass(frozen=True, slots=True)
class Notice:
    audience: str
    kind: str
    title: str


def _enterprise(data: dict[str, Any]) -> list[str]:
    return [f"enterprise:{data['enterprise_id']}"] if data.get("enterprise_id") else []


def _department(data: dict[str, Any]) -> list[str]:
    return [f"department:{data['department_code']}"] if data.get("department_code") else []


def _co_departments(data: dict[str, Any]) -> list[str]:
    lead = data.get("department_code")
    return [f"department:{code}" for code in data.get("co_department_codes") or [] if code != lead]


def _enterprise_notice(kind: str, text: str) -> Any:
    return lambda data, label: [Notice(a, kind, f"工单 {label} {text}") for a in _enterprise(data)]


SIZES = ("large", "medium", "small", "micro")


def _sizes_of_menu(data: dict[str, Any]) -> list[str]:
    fits = {size for item in data.get("items") or [] for size in item.get("eligible_sizes") or []}
    return [f"size:{size}" for size in SIZES if size in fits]


def _publication(kind: str, text: str, audiences: Any) -> Any:
    """An announcement (网上推送) to the enterprises of the sizes it concerns."""
    return lambda data, label: [
        Notice(a, kind, f"{text}：{data.get('title') or data.get('code')}") for a in audiences(data)
    ]


_RULES: dict[str, Any] = {
    "ticket.reopened": lambda data, label: [
        *(Notice(a, "ticket.reopened", f"工单 {label} 已重新办理 (reopened)") for a in _enterprise(data)),
        *(Notice(a, "ticket.reopened", f"工单 {label} 重新交办 (reopened)") for a in _department(data)),
    ],
    "ticket.transferred": lambda data, label: [
        Notice(a, "ticket.transferred_in", f"工单 {label} 转办至本部门 (transferred in)") for a in _department(data)
    ],
    "menu.published": _publication("menu.published", "新服务菜单发布", _sizes_of_menu),
    "policy.published": _publication("policy.published", "新涉企政策发布", lambda data: [f"size:{s}" for s in SIZES]),
    "ticket.accepted": _enterprise_notice("ticket.accepted", "已受理 (accepted)"),
    "ticket.resolved": _enterprise_notice("ticket.resolved", "已办结 (resolved)"),
    "ticket.explained": _enterprise_notice("ticket.explained", "已解释说明 (explained)"),
    "ticket.feedback_requested": _enterprise_notice("ticket.feedback_requested", "请评价办理结果 (please rate)"),
    "ticket.created": lambda data, label: [
        Notice(a, "ticket.created", f"新工单 {label} (new ticket)") for a in _department(data)
    ],
    "ticket.joint_review_started": lambda data, label: [
        Notice(a, "ticket.joint_review_invitation", f"工单 {label} 邀请会办 (joint review)")
        for a in _co_departments(data)
    ],
    "ticket.due_soon": lambda data, label: [
        Notice(a, "ticket.due_soon", f"工单 {label} 即将到期 (due soon)") for a in _department(data)
    ],
    "ticket.overdue": lambda data, label: [
        Notice(a, "ticket.overdue", f"督办: 工单 {label} 已超期 (overdue)") for a in [*_department(data), SUPERVISORS]
    ],
    "ticket.escalated": lambda data, label: [
        Notice(SUPERVISORS, "ticket.escalated", f"工单 {label} 已提请高位批办 (escalated)")
    ],
}


def notices_for(event_type: str, data: dict[str, Any]) -> list[Notice]:
    """The inbox entries one event makes, at most one per audience."""
    label = str(data.get("number") or data.get("id") or "")
    rule = _RULES.get(event_type)
    found = rule(data, label) if rule is not None else []
    unique: dict[str, Notice] = {}
    for notice in found:
        unique.setdefault(notice.audience, notice)
    return list(unique.values())


def add_entries(
    session: AsyncSession, *, source_id: str, notices: Iterable[Notice], data: dict[str, Any] | None = None
) -> None:
    data = data or {}
    ticket_id = data.get("id") if isinstance(data.get("id"), str) else None
    number = data.get("number") if isinstance(data.get("number"), str) else None
    session.add_all(
        InboxEntry(
            source_id=source_id,
            audience=notice.audience,
            kind=notice.kind,
            title=notice.title[:300],
            ticket_id=ticket_id,
            ticket_number=number,
        )
        for notice in notices
    )


def audiences(principal: Principal, *, enterprise_size: str | None = None) -> list[str]:
    """The audiences the caller belongs to: an enterprise its own and its size's (announcements)."""
    if principal.role == Role.ENTERPRISE:
        own = [f"enterprise:{principal.enterprise_id}"] if principal.enterprise_id else []
        return own + ([f"size:{enterprise_size}"] if enterprise_size else [])
    if principal.role == Role.STAFF:
        return [f"department:{principal.department_code}"] if principal.department_code else []
    return [f"role:{principal.role.value}"]


async def _read_mark(session: AsyncSession, subject: str) -> int:
    mark = await session.scalar(select(InboxReadMark.read_up_to).where(InboxReadMark.subject == subject))
    return int(mark or 0)


def _is_read(subject: str, mark: int) -> Any:
    read_row = exists().where(InboxRead.entry_id == InboxEntry.id, InboxRead.subject == subject)
    return or_(InboxEntry.id <= mark, read_row)


async def list_inbox(
    session: AsyncSession, *, principal: Principal, reached: list[str], page: PageParams, unread_only: bool
) -> tuple[list[dict[str, Any]], str | None, int]:
    """The caller's entries, newest first, and how many of all of them are unread."""
    mark = await _read_mark(session, principal.subject)
    is_read = _is_read(principal.subject, mark)
    mine = InboxEntry.audience.in_(reached)
    statement = select(InboxEntry, is_read.label("read")).where(mine).order_by(InboxEntry.id.desc())
    if unread_only:
        statement = statement.where(~is_read)
    if page.cursor is not None:
        (before,) = decode_cursor(page.cursor, arity=1)
        statement = statement.where(InboxEntry.id < int(before))
    rows = list((await session.execute(statement.limit(page.limit + 1))).all())
    unread = int(await session.scalar(select(func.count()).select_from(InboxEntry).where(mine, ~is_read)) or 0)
    next_cursor = encode_cursor([rows[page.limit - 1][0].id]) if len(rows) > page.limit else None
    items = [_entry_read(entry, bool(read)) for entry, read in rows[: page.limit]]
    return items, next_cursor, unread


def _entry_read(entry: InboxEntry, read: bool) -> dict[str, Any]:
    return {
        "id": str(entry.id),
        "kind": entry.kind,
        "title": entry.title,
        "ticket_id": entry.ticket_id,
        "ticket_number": entry.ticket_number,
        "created_at": entry.created_at,
        "read": read,
    }


async def mark_read(
    session: AsyncSession, *, principal: Principal, reached: list[str], entry_id: str
) -> dict[str, Any]:
    """Mark one of the caller's entries read; another's is 404, as if it did not exist."""
    entry = None
    if entry_id.isascii() and entry_id.isdigit() and len(entry_id) < 19:
        entry = await session.scalar(
            select(InboxEntry).where(InboxEntry.id == int(entry_id), InboxEntry.audience.in_(reached))
        )
    if entry is None:
        raise InboxEntryNotFound(entry_id)
    already = await session.scalar(
        select(InboxRead.entry_id).where(and_(InboxRead.entry_id == entry.id, InboxRead.subject == principal.subject))
    )
    if already is None and entry.id > await _read_mark(session, principal.subject):
        session.add(InboxRead(entry_id=entry.id, subject=principal.subject))
        await session.flush()
    return _entry_read(entry, True)


async def mark_all_read(session: AsyncSession, *, principal: Principal, reached: list[str]) -> None:
    """Everything in the caller's inbox now counts as read for the caller only."""
    newest = await session.scalar(select(func.max(InboxEntry.id)).where(InboxEntry.audience.in_(reached)))
    if newest is None:
        return
    mark = await session.get(InboxReadMark, principal.subject, with_for_update=True)
    if mark is None:
        session.add(InboxReadMark(subject=principal.subject, read_up_to=newest))
    elif newest > mark.read_up_to:
        mark.read_up_to = newest
        mark.updated_at = utcnow()
    await session.flush()

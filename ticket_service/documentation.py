"""The ticket service's tag descriptions in the OpenAPI document: the life cycle (written from
the state machine's own `RULES`, so it cannot drift), the rating rule, the `Idempotency-Key`
rules and the audit chain's hash rule, so a client can act on them and verify the chain."""

from __future__ import annotations

from typing import Any

from ticket_service.audit import EVENT_CONTENT, GENESIS_HASH
from ticket_service.idempotency import IN_FLIGHT_LEASE, KEY_LIFETIME
from ticket_service.lifecycle import FINAL_STATUSES, RULES, Clock, Party, Rule

_PARTIES = {
    Party.ASSIGNED_STAFF: "staff of the ticket's department",
    Party.CO_DEPARTMENT_STAFF: "staff of a co-department",
    Party.OWNER: "the enterprise that owns it",
    Party.DISPATCHER: "dispatcher",
    Party.SUPERVISOR: "supervisor",
    Party.SYSTEM: "the SLA worker",
    Party.HOTLINE: "the hotline (an unsatisfied follow-up rating)",
}
_CLOCK = {
    Clock.KEEP: "",
    Clock.PAUSE: "stops the SLA clock",
    Clock.RESUME: "restarts the clock; deadlines move by the pause",
    Clock.RESTART: "fresh deadlines from now",
}


def _row(rule: Rule) -> str:
    parties = ", ".join(_PARTIES[party] for party in sorted(rule.parties))
    sources = ", ".join(f"`{status}`" for status in sorted(rule.sources))
    target = f"`{rule.target}`" if rule.target else "the status it was paused from"
    return f"| `{rule.action}` | {sources} | {target} | {parties} | {_CLOCK[rule.clock]} |"


def life_cycle() -> str:
    rows = "\n".join(_row(rule) for rule in RULES)
    final = ", ".join(f"`{status}`" for status in sorted(FINAL_STATUSES))
    return (
        "Life-cycle actions: `POST /api/v1/tickets/{ticket_id}/<action>`. Each answer is the ticket as it "
        "is now, with `allowed_actions`: what the caller may do next. A caller whose role or relation "
        "to the ticket may never take an action gets 403 `action_forbidden`; one who may, but not in "
        "the ticket's status, 409 `invalid_transition` (both name `state` and `action`).\n\n"
        "Send `If-Match` with the version the caller last saw (the `ETag` of the ticket's answers, "
        '`"3"`): a ticket changed since is 412 `version_mismatch` with its `current_version`, and '
        "nothing happens.\n\n"
        "| action | from | to | who | SLA clock |\n| --- | --- | --- | --- | --- |\n"
        f"{rows}\n\n"
        f"Nothing more happens in {final} but a `reopen` from `closed`."
    )


def tickets() -> str:
    fields = ", ".join(f"`{name}`" for name in EVENT_CONTENT)
    return (
        "Cases (诉求/工单) under the 1-3-5 rule, their audit trail and ratings.\n\n"
        "**Rating (满意度回访).** The enterprise rates each resolution once (`POST "
        "/tickets/{ticket_id}/feedback`, when the ticket is `resolved`, `explained` or `closed`); a second "
        "rating of the same resolution is 409 `already_rated`. `unsatisfied` reopens the ticket at once "
        "(发回重办: status `submitted`, fresh deadlines, same department). `satisfied` and "
        "`basically_satisfied` are recorded and close nothing: the ticket stays `resolved` (or "
        "`explained`) until the enterprise or a dispatcher closes it, or the SLA worker does when the "
        "feedback window has passed.\n\n"
        "**Audit chain (全程监管).** `GET /tickets/{ticket_id}/events` lists the ticket's links oldest "
        "first, `seq` 1, 2, 3…; each link's `prev_hash` is the previous link's `hash` (the first's is "
        f"64 zeros, `{GENESIS_HASH[:8]}…`). A link's `hash` is the lowercase hex SHA-256 of the UTF-8 "
        "bytes of `prev_hash` followed by the canonical JSON of the link's content: the object of "
        f"{fields} (`ticket_id` is the path's id; `changes` maps each changed field to `[old, new]`), "
        "with keys sorted, no spaces (`,` and `:` separators), non-ASCII characters as themselves, and "
        "`at` written in UTC as `YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00` (microseconds only when not zero). "
        "`GET /tickets/{ticket_id}/events/verify` recomputes the chain on the server and names the "
        "first broken link."
    )


def orders() -> str:
    hours = int(KEY_LIFETIME.total_seconds() // 3600)
    lease = int(IN_FLIGHT_LEASE.total_seconds())
    return (
        "Ordering from the menu (点菜单): one ticket per item, for the item's lead department.\n\n"
        "**Idempotency-Key.** Creating POSTs (`/orders`, `/tickets`) take an optional `Idempotency-Key` "
        "(1-200 characters; a UUID is best). Keys belong to the caller and live "
        f"{hours} h. The same key with the same method, path and body answers the first request's stored "
        "201 again with `Idempotent-Replayed: true` and creates nothing; with another body it is 422 "
        "`idempotency_key_reused`; while the first request is still running it is 409 `request_in_flight` "
        f"(retry after a moment; a request that died frees its key after {lease} s). A request that failed "
        "stored nothing: its key may be used again."
    )


def tags() -> list[dict[str, Any]]:
    return [
        {"name": "tickets", "description": tickets()},
        {"name": "ticket actions", "description": life_cycle()},
        {"name": "orders", "description": orders()},
        {"name": "enterprises", "description": "Enterprises and their unified social credit codes."},
        {"name": "calendar", "description": "Working days (工作日), official holidays and make-up days; deadlines."},
        {"name": "sla", "description": "The 1-3-5 clock: sweeps by the SLA worker, and their status (督办)."},
        {"name": "statistics", "description": "Department figures, the assessment's scorecards, fairness, trends."},
    ]

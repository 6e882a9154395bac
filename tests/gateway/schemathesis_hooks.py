"""Schemathesis hooks for fuzzing the live platform (loaded through `SCHEMATHESIS_HOOKS`).

The public document states every rule a request's shape must follow. What it cannot state is
which records exist: a department code is well formed whether or not that department does,
and a cursor is only good if this API issued it. So generated requests keep their shape and
get real values where the platform's data decides (`PLATFORM_LIVE_DATA`, read from the running platform
by the test), and the two formats the document names but no pattern can check are generated
by their rules.

Acting as the parties (`PLATFORM_FUZZ_AS_PARTIES`, the stateful phase), the run's role is the
enterprise that owns the tickets it creates, and each step on a ticket is sent with the token of
whoever takes it (`_party`): a ticket's life needs the enterprise, its department's staff, the
dispatcher and the supervisor, and one token per run would stop it at the first action.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import MutableMapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import schemathesis
from hypothesis import strategies as st

from services.credit_code import CREDIT_CODE_ALPHABET, make_credit_code
from ticket_service.lifecycle import RATABLE_STATUSES, RULES, Party

LIVE_DATA_ENV = "PLATFORM_LIVE_DATA"
ROLE_ENV = "PLATFORM_FUZZ_ROLE"
AUTHORIZATION_ENV = "PLATFORM_FUZZ_AUTHORIZATION"
PARTIES_ENV = "PLATFORM_FUZZ_AS_PARTIES"

# A unified social credit code's last character is a check character over the first 17.
schemathesis.openapi.format(
    "gb32100-credit-code",
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17).map(make_credit_code),
)
# An SLA profile's three counts do not decrease.
schemathesis.openapi.format(
    "sla-profile",
    st.lists(st.integers(1, 60), min_size=3, max_size=3).map(lambda days: "-".join(map(str, sorted(days)))),
)


def _live() -> dict[str, Any]:
    return dict(json.loads(os.environ.get(LIVE_DATA_ENV, "{}")))


LIVE = _live()
ROLE = os.environ.get(ROLE_ENV, "")
AUTHORIZATION = os.environ.get(AUTHORIZATION_ENV, "")
# Acting as each step's party (the stateful phase): the run's role owns the tickets it creates,
# and each action is sent with the token of whoever takes it (see `_party`).
AS_PARTIES = os.environ.get(PARTIES_ENV) == "1"
_BEARERS: dict[str, str] = {}
# The run's tickets as their latest answers showed them (acting as the parties).
_TICKETS: dict[str, dict[str, Any]] = {}
# Fields of a free request that only a dispatcher sets (TicketCreate says so; a schema cannot vary by role).
DISPATCHER_FIELDS = ("enterprise_id", "department_code", "received_at")

# Body fields whose value must name an existing record, and the records they name.
SINGLE_REFERENCES = {
    "category_code": "categories",
    "lead_department_code": "departments",
    "department_code": "departments",
    "item_code": "orderable_items",
    "enterprise_id": "enterprises",
}
LIST_REFERENCES = {
    "co_department_codes": "departments",
    "default_co_department_codes": "departments",
    "policy_codes": "policies",
    "item_codes": "items",
}


def _pick(choices: list[str], seed: object) -> str:
    return choices[zlib.crc32(repr(seed).encode()) % len(choices)]


def _picks(choices: list[str], count: int, seed: object, *, avoid: set[str]) -> list[str]:
    """`count` distinct choices (as many as there are), none in `avoid`."""
    pool = [choice for choice in choices if choice not in avoid]
    start = zlib.crc32(repr(seed).encode())
    return [pool[(start + offset) % len(pool)] for offset in range(min(count, len(pool)))]


def _realise(body: dict[str, Any]) -> None:
    for field, kind in SINGLE_REFERENCES.items():
        if isinstance(body.get(field), str) and LIVE.get(kind):
            body[field] = _pick(LIVE[kind], body[field])
    taken = {body[field] for field in ("lead_department_code", "department_code") if isinstance(body.get(field), str)}
    for field, kind in LIST_REFERENCES.items():
        values = body.get(field)
        if isinstance(values, list) and values and LIVE.get(kind):
            body[field] = _picks(LIVE[kind], len(values), values, avoid=taken) or values[:0]
    if isinstance(body.get("received_at"), str):
        # A visit is filed at most 30 days after it happened, and never ahead of time.
        # (On the hour, so that a repeated case repeats its body, and its Idempotency-Key stays its own.)
        an_hour_ago = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        body["received_at"] = an_hour_ago.isoformat()
    for value in body.values():
        if isinstance(value, dict):
            _realise(value)
        elif isinstance(value, list):
            for element in value:
                if isinstance(element, dict):
                    _realise(element)
            _distinct_items(value)


def _distinct_items(entries: list[Any]) -> None:
    """An order names each item once (422 duplicate_item otherwise): a rule across list entries."""
    named = [entry for entry in entries if isinstance(entry, dict) and isinstance(entry.get("item_code"), str)]
    codes = _picks(LIVE.get("orderable_items", []), len(named), [entry["item_code"] for entry in named], avoid=set())
    if not codes:
        return
    for entry, code in zip(named, codes, strict=False):
        entry["item_code"] = code
    # More lines than the menu has items: the order names each of them once.
    for entry in named[len(codes) :]:
        entries.remove(entry)


def _days_in_year(body: dict[str, Any], year: int) -> None:
    """An overlay's days lie in its year, one row per date."""
    days = body.get("days")
    if not isinstance(days, list):
        return
    seen: set[str] = set()
    kept = []
    for row in days:
        if isinstance(row, dict) and isinstance(row.get("date"), str) and len(row["date"]) == 10:
            row["date"] = f"{year:04d}{row['date'][4:]}"
            if row["date"].endswith("-02-29") or row["date"] in seen:
                continue
            seen.add(row["date"])
        kept.append(row)
    body["days"] = kept


def _request_as_filed(body: dict[str, Any]) -> None:
    """A free request as the caller's role files it: an enterprise for itself, a dispatcher for one."""
    if ROLE == "dispatcher":
        if not isinstance(body.get("enterprise_id"), str) and LIVE.get("enterprises"):
            body["enterprise_id"] = _pick(LIVE["enterprises"], body)
    else:
        for field in DISPATCHER_FIELDS:
            body.pop(field, None)


def _read_ticket(ticket_id: str, authorization: str) -> dict[str, Any] | None:
    """The ticket as `authorization` reads it; None if it cannot."""
    try:
        response = httpx.get(
            f"{LIVE['gateway_url']}/api/v1/tickets/{ticket_id}", headers={"Authorization": authorization}, timeout=5
        )
    except httpx.HTTPError:
        return None
    return dict(response.json()) if response.status_code == 200 else None


def _ticket_of_the_run(case: schemathesis.Case, ticket_id: str) -> dict[str, Any] | None:
    """The ticket a step acts on, as the run last saw it. A step naming a ticket the run does not
    know (a scenario's first step, its id random) acts on one of the run's tickets whose status
    allows it instead, so that every action meets tickets in the states their lives bring them to."""
    if ticket_id in _TICKETS:
        return _TICKETS[ticket_id]
    segment = case.path.rsplit("/", 1)[-1]
    sources = {source for rule in RULES if rule.action == segment for source in rule.sources}
    if segment == "feedback" and case.method.upper() == "POST":
        sources = set(RATABLE_STATUSES)
    fitting = sorted(known for known, ticket in _TICKETS.items() if not sources or ticket["status"] in sources)
    if not fitting:
        return None
    chosen = case.path_parameters["ticket_id"] = _pick(fitting, ticket_id)
    return _TICKETS[chosen]


def _bearer(username: str) -> str:
    """`Authorization` for a demo account, logged in once per run; the run's own for an account
    that cannot log in (a department the fuzzing created has no staff: its steps are then 403)."""
    if username not in _BEARERS:
        response = httpx.post(
            f"{LIVE['gateway_url']}/api/v1/auth/token",
            data={"username": username, "password": LIVE["login"]["password"]},
            timeout=10,
        )
        _BEARERS[username] = f"Bearer {response.json()['access_token']}" if response.status_code == 200 else ""
    return _BEARERS[username] or AUTHORIZATION


def _party(path: str, method: str, ticket: dict[str, Any] | None) -> str:
    """Who takes this step of a ticket's life: the enterprise that owns it (it creates, reads, rates,
    closes, reopens, withdraws), else the first of an action's parties the lifecycle names: the
    staff of the ticket's department, the dispatcher, the supervisor (who also audits the chain and
    rules on ratings)."""
    segment = path.rsplit("/", 1)[-1]
    if segment in {"verify", "adjudication"}:
        return "supervisor"
    parties = {party for rule in RULES if rule.action == segment for party in rule.parties}
    department = ticket.get("department_code") if ticket is not None else None
    candidates = (
        (Party.OWNER, ROLE),
        (Party.ASSIGNED_STAFF, f"staff-{department}" if department else None),
        (Party.DISPATCHER, "dispatcher"),
        (Party.SUPERVISOR, "supervisor"),
    )
    if method.upper() == "POST" and parties:
        return next((name for party, name in candidates if party in parties and name), ROLE)
    return ROLE


def _other_departments(body: dict[str, Any], ticket: dict[str, Any] | None) -> None:
    """A transfer or a joint review names departments besides the ticket's own (422 otherwise, by design)."""
    own = ticket.get("department_code") if ticket is not None else None
    others = [code for code in LIVE.get("departments", []) if code != own]
    if isinstance(body.get("department_code"), str) and body["department_code"] == own and others:
        body["department_code"] = _pick(others, body)
    codes = body.get("co_department_codes")
    if isinstance(codes, list) and codes and others:
        kept = [code for code in codes if code != own]
        body["co_department_codes"] = kept or [_pick(others, codes)]


def _consistent_scheme(body: dict[str, Any]) -> None:
    """A scoring scheme scores each indicator once, floors it at most at its points and puts a
    department in one group at most (422 invalid_scheme otherwise): rules across fields and
    list entries, which a schema does not state."""
    seen: set[object] = set()
    indicators = []
    for rule in body.get("indicators") or []:
        if isinstance(rule, dict) and rule.get("indicator") not in seen:
            seen.add(rule.get("indicator"))
            if isinstance(rule.get("floor"), int | float) and isinstance(rule.get("points"), int | float):
                rule["floor"] = min(rule["floor"], rule["points"])
            indicators.append(rule)
    if indicators:
        body["indicators"] = indicators
    grouped: set[object] = set()
    for group in body.get("groups") or []:
        if isinstance(group, dict) and isinstance(group.get("department_codes"), list):
            group["department_codes"] = [code for code in group["department_codes"] if code not in grouped]
            grouped |= set(group["department_codes"])


def _realise_query(path: str, query: MutableMapping[str, Any]) -> None:
    # A cursor is a token this API issued; any other one is refused (400 invalid_cursor) by design.
    query.pop("cursor", None)
    if path.startswith("/api/v1/stats/"):
        _coherent_period(query)
    if "received_at" in query:
        # The calendar counts deadlines from 2000 to 2199; a date-time cannot say so.
        query["received_at"] = datetime.now(UTC).isoformat()


def _coherent_period(query: MutableMapping[str, Any]) -> None:
    """A period ends on or after its start and within three years of it (a 422 by design
    otherwise); the schema states each date's range, not how the two relate."""
    try:
        start, end = date.fromisoformat(str(query["start"])), date.fromisoformat(str(query["end"]))
    except (KeyError, ValueError):
        return
    if end < start or (end - start).days >= 3 * 366:
        query.pop("end")


def _act_on_a_real_ticket(case: schemathesis.Case) -> None:
    """A step on a ticket: sent by whoever takes it (acting as the parties), with the version the
    ticket is at and, for a transfer or a joint review, other departments than its own."""
    ticket_id = (case.path_parameters or {}).get("ticket_id")
    acting = isinstance(ticket_id, str) and case.path.endswith(("/transfer", "/request-joint-review"))
    with_if_match = isinstance(case.headers, MutableMapping) and "If-Match" in case.headers
    ticket = None
    if isinstance(ticket_id, str) and AS_PARTIES:
        ticket = _ticket_of_the_run(case, ticket_id)
    elif isinstance(ticket_id, str) and (acting or with_if_match):
        ticket = _read_ticket(ticket_id, AUTHORIZATION)
    if AS_PARTIES:
        case.headers = {**(case.headers or {}), "Authorization": _bearer(_party(case.path, case.method, ticket))}
    if acting and isinstance(case.body, dict):
        _other_departments(case.body, ticket)
    if with_if_match and isinstance(case.headers, MutableMapping):
        # A version the ticket has left is a 412 by design; a client sends the one it read, or none.
        if ticket is None:
            case.headers.pop("If-Match")
        else:
            case.headers["If-Match"] = f'"{ticket["version"]}"'


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    """The request about to be sent, its references made real.

    (Here rather than in `map_case`: Schemathesis puts the ids it saw in earlier answers into
    the path after mapping, and the If-Match must be the version of the ticket actually named.)"""
    if isinstance(case.query, MutableMapping):
        _realise_query(case.path, case.query)
    if isinstance(case.body, dict):
        if case.path.endswith("/auth/token") and LIVE.get("login"):
            case.body.update(grant_type="password", **LIVE["login"])
            for field in ("client_id", "client_secret"):
                case.body.pop(field, None)
        else:
            _realise(case.body)
        if case.path == "/api/v1/stats/scheme":
            _consistent_scheme(case.body)
        if case.path == "/api/v1/tickets" and case.method.upper() == "POST":
            _request_as_filed(case.body)
        year = str((case.path_parameters or {}).get("year", ""))
        if case.path.startswith("/api/v1/calendar/") and year.isdigit():
            _days_in_year(case.body, int(year))
    _act_on_a_real_ticket(case)
    if isinstance(case.headers, MutableMapping) and "Idempotency-Key" in case.headers:
        # A key names one request: the same key with another body is refused (422) by design.
        case.headers["Idempotency-Key"] = f"fuzz-{zlib.crc32(repr((case.path, case.body)).encode())}"


@schemathesis.hook
def after_call(context: schemathesis.HookContext, case: schemathesis.Case, response: Any) -> None:
    """Keeps the ledger of the run's tickets (acting as the parties): every ticket an answer holds."""
    if not AS_PARTIES or not 200 <= response.status_code < 300 or case.method.upper() != "POST":
        return
    body = response.json()
    for ticket in body.get("tickets", [body]) if isinstance(body, dict) else []:
        if isinstance(ticket, dict) and {"id", "status", "version"} <= ticket.keys():
            _TICKETS[ticket["id"]] = ticket

"""Every action × every status × every kind of actor, over HTTP, against the state machine.

The expectation comes from `lifecycle.decide` (the pure rules, tested by hand in
test_lifecycle.py); this suite checks that the HTTP layer applies exactly those rules: 200 with
the predicted status, 403 `action_forbidden`, 409 `invalid_transition`, and 404 for callers
who cannot see the ticket at all. One ticket per (action, status); its state is re-arranged
through the database before each actor's attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Platform
from tests.ticket_service.helpers import (
    ACTION_BODY,
    E1,
    E2,
    act,
    arrange,
    assert_problem,
    client_token,
    dispatch_request,
    get_ticket,
    last_event,
    reload,
)
from ticket_service import lifecycle
from ticket_service.lifecycle import Action, Actor, Status, TicketFacts

LEAD = "jxw"
CO = ("fgw",)
PAUSED_FROM = Status.IN_PROGRESS


@dataclass(frozen=True)
class Kind:
    name: str
    username: str
    actor: Actor
    sees_ticket: bool = True


KINDS = (
    Kind("assigned staff", "staff-jxw", Actor("staff-jxw", "staff", department_code=LEAD)),
    Kind("co-department staff", "staff-fgw", Actor("staff-fgw", "staff", department_code="fgw")),
    Kind("other-department staff", "staff-sthjj", Actor("staff-sthjj", "staff", department_code="sthjj"), False),
    Kind("owner enterprise", "enterprise-1", Actor("enterprise-1", "enterprise", enterprise_id=E1)),
    Kind("other enterprise", "enterprise-2", Actor("enterprise-2", "enterprise", enterprise_id=E2), False),
    Kind("dispatcher", "dispatcher", Actor("dispatcher", "dispatcher")),
    Kind("supervisor", "supervisor", Actor("supervisor", "supervisor")),
    Kind("admin", "admin", Actor("admin", "admin")),
)


def _facts(status: Status) -> TicketFacts:
    return TicketFacts(
        status=status,
        department_code=LEAD,
        co_department_codes=CO,
        enterprise_id=E1,
        paused_from=PAUSED_FROM if status is Status.PAUSED else None,
    )


def _expected(status: Status, action: Action, kind: Kind) -> tuple[int, str | None, Status | None]:
    """(HTTP status, problem code, target status) that the rules predict."""
    if not kind.sees_ticket:
        return 404, "ticket_not_found", None
    try:
        transition = lifecycle.decide(_facts(status), action, kind.actor)
    except lifecycle.ActionForbidden:
        return 403, "action_forbidden", None
    except lifecycle.ActionNotAllowed:
        return 409, "invalid_transition", None
    return 200, None, transition.to_status


async def _arrange(session: AsyncSession, ticket_id: str, status: Status) -> int:
    ticket = await arrange(
        session,
        ticket_id,
        status=status.value,
        department_code=LEAD,
        co_department_codes=CO,
        paused_from=PAUSED_FROM.value if status is Status.PAUSED else None,
        resolution_round=1 if status in {Status.RESOLVED, Status.EXPLAINED, Status.CLOSED} else 0,
    )
    return ticket.version


def test_the_matrix_covers_every_outcome() -> None:
    """The table below is not vacuous: every outcome occurs, every action succeeds for someone."""
    outcomes = {_expected(s, a, k)[0] for s in Status for a in Action for k in KINDS}
    assert outcomes == {200, 403, 404, 409}
    for action in Action:
        assert any(_expected(s, action, k)[0] == 200 for s in Status for k in KINDS), action
    kinds = {kind.name: kind for kind in KINDS}
    # A few hand-written anchors, so that the oracle itself is not taken on trust.
    anchors = [
        (Status.SUBMITTED, Action.ACCEPT, "assigned staff", (200, None, Status.ACCEPTED)),
        (Status.SUBMITTED, Action.ACCEPT, "owner enterprise", (403, "action_forbidden", None)),
        (Status.SUBMITTED, Action.ACCEPT, "co-department staff", (403, "action_forbidden", None)),
        (Status.RESOLVED, Action.ACCEPT, "assigned staff", (409, "invalid_transition", None)),
        (Status.PAUSED, Action.RESUME, "owner enterprise", (200, None, Status.IN_PROGRESS)),
        (Status.JOINT_REVIEW, Action.CONTRIBUTE, "co-department staff", (200, None, Status.JOINT_REVIEW)),
        (Status.RETURNED, Action.TRANSFER, "dispatcher", (200, None, Status.SUBMITTED)),
        (Status.IN_PROGRESS, Action.ESCALATE, "supervisor", (200, None, Status.ESCALATED)),
        (Status.CLOSED, Action.REOPEN, "owner enterprise", (200, None, Status.SUBMITTED)),
        (Status.SUBMITTED, Action.WITHDRAW, "admin", (403, "action_forbidden", None)),
        (Status.SUBMITTED, Action.ACCEPT, "other enterprise", (404, "ticket_not_found", None)),
    ]
    for status, action, name, outcome in anchors:
        assert _expected(status, action, kinds[name]) == outcome, (status, action, name)


@pytest.mark.parametrize("status", list(Status), ids=str)
@pytest.mark.parametrize("action", list(Action), ids=str)
async def test_action_in_status_for_every_actor(
    platform: Platform, session: AsyncSession, action: Action, status: Status
) -> None:
    ticket_id = (await dispatch_request(platform, department_code=LEAD))["id"]
    for kind in KINDS:
        version = await _arrange(session, ticket_id, status)
        seq_before = (await last_event(session, ticket_id)).seq
        code, problem_code, target = _expected(status, action, kind)
        response = await act(platform, kind.username, ticket_id, action.value, ACTION_BODY[action])
        where = f"{kind.name} {action} in {status}"
        if code == 200:
            assert response.status_code == 200, f"{where}: {response.status_code} {response.text}"
            body = response.json()
            assert body["status"] == target, where
            assert body["version"] == version + 1, where
            assert response.headers["etag"] == f'"{version + 1}"', where
            event = await last_event(session, ticket_id)
            assert (event.seq, event.action, event.actor, event.from_status, event.to_status) == (
                seq_before + 1,
                action.value,
                kind.username,
                status.value,
                target,
            ), where
            continue
        body = assert_problem(response, code, problem_code)
        if code in (403, 409):
            assert (body["state"], body["action"]) == (status.value, action.value), where
        # A refused action changes nothing: same status, same version, no audit event.
        ticket = await reload(session, ticket_id)
        assert (ticket.status, ticket.version) == (status.value, version), where
        assert (await last_event(session, ticket_id)).seq == seq_before, where


@pytest.mark.parametrize("status", list(Status), ids=str)
async def test_allowed_actions_shown_to_each_actor(platform: Platform, session: AsyncSession, status: Status) -> None:
    ticket_id = (await dispatch_request(platform, department_code=LEAD))["id"]
    await _arrange(session, ticket_id, status)
    for kind in KINDS:
        response = await get_ticket(platform, kind.username, ticket_id)
        if not kind.sees_ticket:
            assert_problem(response, 404, "ticket_not_found")
            continue
        assert response.status_code == 200, response.text
        expected = [a.value for a in lifecycle.allowed_actions(_facts(status), kind.actor)]
        assert response.json()["allowed_actions"] == expected, (kind.name, status)


@pytest.mark.parametrize("client_id", ["hotline-965808", "frontend-demo"])
async def test_integration_clients_take_no_action(platform: Platform, session: AsyncSession, client_id: str) -> None:
    ticket_id = (await dispatch_request(platform, department_code=LEAD))["id"]
    headers = await client_token(platform, client_id)
    for action in Action:
        response = await platform.client.post(
            f"/api/v1/tickets/{ticket_id}/{action.value}", json=ACTION_BODY[action], headers=headers
        )
        assert_problem(response, 403)
    ticket = await reload(session, ticket_id)
    assert (ticket.status, ticket.version) == ("submitted", 1)

"""The effects table beside the state machine's rules: one entry per action, and every change
announces the status it enters, whichever action took it there."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import Platform
from tests.ticket_service.helpers import act_ok, order_one, outbox_rows
from ticket_service import actions, lifecycle
from ticket_service.lifecycle import Status

# The event a move into each status announces (DESIGN §4).
ENTERED = {
    "accepted": "ticket.accepted",
    "resolved": "ticket.resolved",
    "explained": "ticket.explained",
    "closed": "ticket.closed",
    "escalated": "ticket.escalated",
    "joint_review": "ticket.joint_review_started",
}


def _transitions() -> Iterator[lifecycle.Transition]:
    """Every move the rules allow; `resume` returns to any status a ticket can pause from."""
    paused_from = {source for rule in lifecycle.RULES if rule.target is Status.PAUSED for source in rule.sources}
    for rule in lifecycle.RULES:
        for source in rule.sources:
            for target in [rule.target] if rule.target is not None else sorted(paused_from):
                yield lifecycle.Transition(rule.action, source, target, rule.clock)


def test_every_action_and_every_clock_effect_has_its_entry() -> None:
    assert set(actions.EFFECTS) == set(lifecycle.Action)
    assert set(actions.CLOCK_EFFECTS) == set(lifecycle.Clock)


def test_every_change_announces_the_status_it_enters_and_nothing_it_does_not() -> None:
    for transition in _transitions():
        events = actions.announced(transition, actions.EFFECTS[transition.action])
        assert events[0] == "ticket.status_changed", transition
        entered = ENTERED.get(transition.to_status.value) if transition.to_status != transition.from_status else None
        assert [event for event in events if event in ENTERED.values()] == ([entered] if entered else []), transition
        rated = transition.to_status in (Status.RESOLVED, Status.EXPLAINED)
        assert ("ticket.feedback_requested" in events) == rated, transition


async def test_resuming_into_accepted_announces_accepted_again(platform: Platform, session: AsyncSession) -> None:
    ticket = await order_one(platform)
    await act_ok(platform, "staff-jxw", ticket["id"], "accept", {"note": "受理"})
    await act_ok(platform, "staff-jxw", ticket["id"], "request-info", {"note": "请补充材料"})
    resumed = await act_ok(platform, "staff-jxw", ticket["id"], "resume", {})
    assert resumed["status"] == "accepted"
    types = [row.event_type for row in await outbox_rows(session, ticket["id"])]
    assert types[-2:] == ["ticket.status_changed", "ticket.accepted"]

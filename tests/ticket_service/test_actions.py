"""The effects table beside the state machine's rules: one entry per action, and the events
each action announces agree with the statuses its rules lead to."""

from __future__ import annotations

from ticket_service import actions, lifecycle

# The event a move into each status announces (DESIGN §4).
ENTERED = {
    "accepted": "ticket.accepted",
    "resolved": "ticket.resolved",
    "explained": "ticket.explained",
    "closed": "ticket.closed",
    "escalated": "ticket.escalated",
    "joint_review": "ticket.joint_review_started",
}


def test_every_action_and_every_clock_effect_has_its_entry() -> None:
    assert set(actions.EFFECTS) == set(lifecycle.Action)
    assert set(actions.CLOCK_EFFECTS) == set(lifecycle.Clock)


def test_each_action_announces_the_statuses_its_rules_enter() -> None:
    for rule in lifecycle.RULES:
        announced = set(actions.EFFECTS[rule.action].events)
        targets = {rule.target.value} if rule.target is not None else set()
        entered = {ENTERED[target] for target in targets if target in ENTERED and target not in rule.sources}
        assert entered <= announced, rule
        if targets & {"resolved", "explained"}:
            assert "ticket.feedback_requested" in announced, rule
        assert announced <= set(ENTERED.values()) | {"ticket.feedback_requested"}, rule


def test_an_action_that_stays_in_its_status_announces_no_entry() -> None:
    staying = {rule.action for rule in lifecycle.RULES if rule.target is not None and rule.target in rule.sources}
    assert lifecycle.Action.CONTRIBUTE in staying
    for action in staying - {lifecycle.Action.TRANSFER}:
        assert actions.EFFECTS[action].events == (), action

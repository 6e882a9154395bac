"""Tests for ticket_service.lifecycle: the pure ticket state machine.

The expectations below are written by hand in a different shape from the module's `RULES`
(one line per edge, grouped by the status it leaves, with one letter per kind of actor), so a
mistake in `RULES` shows up as a disagreement rather than being copied into the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.auth import Principal, Role
from ticket_service.lifecycle import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    RULES,
    SYSTEM_ROLE,
    Action,
    ActionForbidden,
    ActionNotAllowed,
    Actor,
    Clock,
    LifecycleError,
    Status,
    TicketFacts,
    Transition,
    allowed_actions,
    decide,
    parties_of,
    rules_for,
)

LEAD = "D-LEAD"
CO_DEPTS = ("D-CO1", "D-CO2")
OWNER_ID = "E-OWNER"

# Kinds of actor, relative to a ticket of department LEAD, co-departments CO_DEPTS, enterprise OWNER_ID.
# The letter is what the expectation table uses; kinds without a letter may never act.
ACTORS: dict[str, tuple[str | None, Actor]] = {
    "assigned staff": ("A", Actor("u-staff", "staff", department_code=LEAD)),
    "co-department staff": ("C", Actor("u-co", "staff", department_code="D-CO2")),
    "other-department staff": (None, Actor("u-other", "staff", department_code="D-ELSEWHERE")),
    "staff without department": (None, Actor("u-nodept", "staff")),
    "owner enterprise": ("O", Actor("u-ent", "enterprise", enterprise_id=OWNER_ID)),
    "other enterprise": (None, Actor("u-ent2", "enterprise", enterprise_id="E-OTHER")),
    "enterprise without id": (None, Actor("u-ent3", "enterprise")),
    "dispatcher": ("D", Actor("u-disp", "dispatcher")),
    "supervisor": ("V", Actor("u-sup", "supervisor")),
    "admin": (None, Actor("u-admin", "admin")),
    "hotline": ("H", Actor("c-hotline", "hotline")),
    "integration": (None, Actor("c-integration", "integration")),
    "system": ("Y", Actor("sla-worker", "system")),
    "unknown role": (None, Actor("u-x", "superuser", department_code=LEAD, enterprise_id=OWNER_ID)),
}
KINDS = list(ACTORS)

# Who may ever take each action (on a ticket where they have the relation the letter names).
# A=assigned staff, C=co-department staff, O=owner enterprise, D=dispatcher, V=supervisor, Y=system,
# H=the hotline (its follow-up call's unsatisfied rating reopens).
WHO_MAY = {
    "accept": "A",
    "start": "A",
    "request-info": "A",
    "resume": "AO",
    "resolve": "A",
    "explain": "A",
    "request-joint-review": "AY",
    "contribute": "AC",
    "escalate": "VY",
    "return": "A",
    "transfer": "D",
    "withdraw": "OD",
    "close": "ODY",
    "reopen": "OVDH",
}

# Every legal move. "<prior>" is the status the ticket was paused from (accepted if unknown).
EDGES = """
submitted     accept                accepted      keep     A
submitted     request-joint-review  joint_review  keep     Y
submitted     escalate              escalated     keep     VY
submitted     return                returned      keep     A
submitted     transfer              submitted     keep     D
submitted     withdraw              withdrawn     keep     OD

accepted      start                 in_progress   keep     A
accepted      request-info          paused        pause    A
accepted      resolve               resolved      keep     A
accepted      explain               explained     keep     A
accepted      request-joint-review  joint_review  keep     AY
accepted      escalate              escalated     keep     VY
accepted      return                returned      keep     A
accepted      withdraw              withdrawn     keep     OD

in_progress   request-info          paused        pause    A
in_progress   resolve               resolved      keep     A
in_progress   explain               explained     keep     A
in_progress   request-joint-review  joint_review  keep     AY
in_progress   escalate              escalated     keep     VY
in_progress   withdraw              withdrawn     keep     OD

paused        resume                <prior>       resume   AO
paused        explain               explained     resume   A
paused        escalate              escalated     resume   VY
paused        withdraw              withdrawn     resume   OD

joint_review  request-info          paused        pause    A
joint_review  resolve               resolved      keep     A
joint_review  explain               explained     keep     A
joint_review  contribute            joint_review  keep     AC
joint_review  escalate              escalated     keep     VY
joint_review  withdraw              withdrawn     keep     OD

escalated     explain               explained     keep     A
escalated     withdraw              withdrawn     keep     OD

resolved      close                 closed        keep     ODY
resolved      reopen                submitted     restart  OVDH

explained     resolve               resolved      keep     A
explained     close                 closed        keep     ODY
explained     reopen                submitted     restart  OVDH

returned      escalate              escalated     keep     VY
returned      transfer              submitted     keep     D
returned      withdraw              withdrawn     keep     OD

closed        reopen                submitted     restart  OVDH
"""


@dataclass(frozen=True)
class Edge:
    to: str
    clock: str
    who: str


def _parse_edges() -> dict[tuple[str, str], Edge]:
    edges: dict[tuple[str, str], Edge] = {}
    for line in EDGES.strip().splitlines():
        if not line.strip():
            continue
        source, action, to, clock, who = line.split()
        assert (source, action) not in edges, line
        edges[(source, action)] = Edge(to, clock, who)
    return edges


EXPECTED_EDGES = _parse_edges()
PAUSED_FROM_CHOICES: list[Status | None] = [None, Status.ACCEPTED, Status.IN_PROGRESS, Status.JOINT_REVIEW]


def facts(status: Status, paused_from: Status | None = None) -> TicketFacts:
    return TicketFacts(
        status=status,
        department_code=LEAD,
        co_department_codes=CO_DEPTS,
        enterprise_id=OWNER_ID,
        paused_from=paused_from,
    )


def expected(
    status: Status, action: Action, kind: str, paused_from: Status | None
) -> Transition | type[LifecycleError]:
    letter, _ = ACTORS[kind]
    if letter is None or letter not in WHO_MAY[action.value]:
        return ActionForbidden
    edge = EXPECTED_EDGES.get((status.value, action.value))
    if edge is None or letter not in edge.who:
        return ActionNotAllowed
    to = (paused_from or "accepted") if edge.to == "<prior>" else edge.to
    return Transition(action, status, Status(to), Clock(edge.clock))


def all_combinations() -> Iterator[tuple[Status, Action, str, Status | None]]:
    for status in Status:
        for paused_from in PAUSED_FROM_CHOICES if status is Status.PAUSED else [None]:
            for action in Action:
                for kind in KINDS:
                    yield status, action, kind, paused_from


# --- the hand-written tables are consistent with themselves and the spec ---------------------------------


def test_expectation_tables_are_consistent() -> None:
    assert set(WHO_MAY) == {a.value for a in Action}
    for (source, action), edge in EXPECTED_EDGES.items():
        Status(source)
        Action(action)
        assert set(edge.who) <= set(WHO_MAY[action]), (source, action)
    for action, who in WHO_MAY.items():
        used = {letter for (_, a), e in EXPECTED_EDGES.items() if a == action for letter in e.who}
        assert used == set(who), action


def test_status_sets() -> None:
    assert frozenset({Status.CLOSED, Status.WITHDRAWN}) == FINAL_STATUSES
    closed_ones = {Status.RESOLVED, Status.EXPLAINED, Status.CLOSED, Status.WITHDRAWN}
    assert frozenset(Status) - closed_ones == OPEN_STATUSES
    assert not (OPEN_STATUSES & FINAL_STATUSES)
    assert SYSTEM_ROLE == "system"
    assert Role.SYSTEM.value == SYSTEM_ROLE  # the worker's role; no token may carry it (tests/gateway/test_auth.py)


# --- the table itself -------------------------------------------------------------------------------------


def test_rules_cover_every_action_and_never_overlap() -> None:
    assert {rule.action for rule in RULES} == set(Action)
    for action in Action:
        assert rules_for(action) == tuple(r for r in RULES if r.action is action)
        seen: set[tuple[object, Status]] = set()
        for rule in rules_for(action):
            assert rule.parties and rule.sources
            for party in rule.parties:
                for source in rule.sources:
                    assert (party, source) not in seen, (action, party, source)
                    seen.add((party, source))


def test_rules_never_leave_withdrawn_and_leave_closed_only_by_reopen() -> None:
    for rule in RULES:
        assert Status.WITHDRAWN not in rule.sources
        if Status.CLOSED in rule.sources:
            assert rule.action is Action.REOPEN


def test_rules_clock_effects() -> None:
    for rule in RULES:
        # the clock is paused exactly while the ticket is paused
        assert (rule.clock is Clock.PAUSE) == (rule.target is Status.PAUSED)
        if Status.PAUSED in rule.sources:
            assert rule.sources == {Status.PAUSED} and rule.clock is Clock.RESUME
        elif rule.clock is not Clock.PAUSE:
            assert rule.clock is (Clock.RESTART if rule.action is Action.REOPEN else Clock.KEEP)


def reachable_by_rules() -> set[Status]:
    resume_targets = {Status.ACCEPTED} | set(next(iter(rules_for(Action.REQUEST_INFO))).sources)
    seen = {Status.SUBMITTED}
    frontier = [Status.SUBMITTED]
    while frontier:
        status = frontier.pop()
        for rule in RULES:
            if status in rule.sources:
                for to in resume_targets if rule.target is None else {rule.target}:
                    if to not in seen:
                        seen.add(to)
                        frontier.append(to)
    return seen


def test_every_status_is_reachable() -> None:
    assert reachable_by_rules() == set(Status)


# --- exhaustive: decide() and allowed_actions() against the hand-written table ----------------------------


@pytest.mark.parametrize("status", list(Status))
def test_decide_matches_expectation_table(status: Status) -> None:
    checked = 0
    for s, action, kind, paused_from in all_combinations():
        if s is not status:
            continue
        want = expected(status, action, kind, paused_from)
        ticket = facts(status, paused_from)
        actor = ACTORS[kind][1]
        where = (status, action, kind, paused_from)
        if isinstance(want, Transition):
            assert decide(ticket, action, actor) == want, where
        else:
            with pytest.raises(LifecycleError) as info:
                decide(ticket, action, actor)
            assert type(info.value) is want, where
            assert info.value.action is action and info.value.status is status, where
            message = str(info.value)
            assert status.value in message and action.value in message, (where, message)
            if want is ActionNotAllowed:
                assert message == f"cannot {action.value} a ticket that is {status.value}"
        checked += 1
    assert checked >= len(Action) * len(KINDS)


def test_allowed_actions_agree_with_decide() -> None:
    for status in Status:
        for paused_from in PAUSED_FROM_CHOICES:
            ticket = facts(status, paused_from)
            for kind in KINDS:
                actor = ACTORS[kind][1]
                want = [a for a in Action if isinstance(expected(status, a, kind, paused_from), Transition)]
                assert allowed_actions(ticket, actor) == want, (status, kind)
                for action in Action:
                    try:
                        decide(ticket, action, actor)
                    except LifecycleError:
                        assert action not in want
                    else:
                        assert action in want


def test_final_statuses_accept_nothing_but_reopen_from_closed() -> None:
    for kind in KINDS:
        letter, actor = ACTORS[kind]
        assert allowed_actions(facts(Status.WITHDRAWN), actor) == []
        reopeners = letter is not None and letter in "OVDH"
        assert allowed_actions(facts(Status.CLOSED), actor) == ([Action.REOPEN] if reopeners else [])


def test_non_actors_are_forbidden_even_in_the_wrong_state() -> None:
    for kind in ["admin", "integration", "other enterprise", "other-department staff", "unknown role"]:
        actor = ACTORS[kind][1]
        for status in Status:
            for action in Action:
                with pytest.raises(ActionForbidden):
                    decide(facts(status), action, actor)


def test_missing_department_or_enterprise_never_matches() -> None:
    orphan = TicketFacts(Status.SUBMITTED, department_code=None, co_department_codes=(), enterprise_id=None)
    with pytest.raises(ActionForbidden):
        decide(orphan, Action.ACCEPT, Actor("u", "staff"))
    with pytest.raises(ActionForbidden):
        decide(orphan, Action.WITHDRAW, Actor("u", "enterprise"))
    assert parties_of(orphan, Actor("u", "staff")) == frozenset()
    assert decide(orphan, Action.WITHDRAW, ACTORS["dispatcher"][1]).to_status is Status.WITHDRAWN


def test_staff_both_lead_and_co_department() -> None:
    ticket = TicketFacts(Status.JOINT_REVIEW, LEAD, (LEAD, "D-CO1"), OWNER_ID)
    actor = ACTORS["assigned staff"][1]
    assert Action.CONTRIBUTE in allowed_actions(ticket, actor)
    assert Action.RESOLVE in allowed_actions(ticket, actor)


def test_error_classes_carry_http_hints() -> None:
    assert issubclass(ActionForbidden, LifecycleError) and issubclass(ActionNotAllowed, LifecycleError)
    assert ActionForbidden.http_status == 403 and ActionNotAllowed.http_status == 409
    assert ActionForbidden.code != ActionNotAllowed.code


# --- inputs from the outside world ------------------------------------------------------------------------


def test_actor_from_principal_and_system() -> None:
    principal = Principal(subject="u-1", role=Role.STAFF, department_code=LEAD)
    actor = Actor.from_principal(principal)
    assert actor == Actor("u-1", "staff", department_code=LEAD)
    assert decide(facts(Status.SUBMITTED), Action.ACCEPT, actor).to_status is Status.ACCEPTED
    assert Actor.system().role == SYSTEM_ROLE
    # a Role member works as well as its string value
    assert allowed_actions(facts(Status.RESOLVED), Actor("u-2", Role.DISPATCHER)) == [Action.CLOSE, Action.REOPEN]


def test_ticket_facts_normalise_plain_values() -> None:
    ticket = TicketFacts("paused", LEAD, ["D-CO1"], OWNER_ID, paused_from="joint_review")  # type: ignore[arg-type]
    assert ticket.status is Status.PAUSED and ticket.paused_from is Status.JOINT_REVIEW
    assert ticket.co_department_codes == ("D-CO1",)
    with pytest.raises(ValueError):
        TicketFacts("lost", LEAD, (), OWNER_ID)  # type: ignore[arg-type]


def test_action_given_as_string() -> None:
    transition = decide(facts(Status.SUBMITTED), "accept", ACTORS["assigned staff"][1])  # type: ignore[arg-type]
    assert transition.action is Action.ACCEPT


# --- stories ----------------------------------------------------------------------------------------------


def apply(ticket: TicketFacts, transition: Transition, **changes: object) -> TicketFacts:
    values: dict[str, object] = {
        "status": transition.to_status,
        "department_code": ticket.department_code,
        "co_department_codes": ticket.co_department_codes,
        "enterprise_id": ticket.enterprise_id,
        "paused_from": transition.paused_from,
    }
    values.update(changes)
    return TicketFacts(**values)  # type: ignore[arg-type]


def run(ticket: TicketFacts, *steps: tuple[Action, str]) -> tuple[TicketFacts, list[Transition]]:
    done: list[Transition] = []
    for action, kind in steps:
        transition = decide(ticket, action, ACTORS[kind][1])
        done.append(transition)
        ticket = apply(ticket, transition)
    return ticket, done


def test_happy_path() -> None:
    ticket, done = run(
        facts(Status.SUBMITTED),
        (Action.ACCEPT, "assigned staff"),
        (Action.START, "assigned staff"),
        (Action.RESOLVE, "assigned staff"),
        (Action.CLOSE, "owner enterprise"),
    )
    assert [t.to_status for t in done] == [Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED]
    assert {t.clock for t in done} == {Clock.KEEP}
    assert ticket.status is Status.CLOSED


@pytest.mark.parametrize("prior", [Status.ACCEPTED, Status.IN_PROGRESS, Status.JOINT_REVIEW])
@pytest.mark.parametrize("resumer", ["assigned staff", "owner enterprise"])
def test_pause_and_resume_return_to_prior_status(prior: Status, resumer: str) -> None:
    ticket = facts(prior)
    paused = decide(ticket, Action.REQUEST_INFO, ACTORS["assigned staff"][1])
    assert (paused.to_status, paused.clock, paused.paused_from) == (Status.PAUSED, Clock.PAUSE, prior)
    ticket = apply(ticket, paused)
    assert ticket.paused_from is prior
    resumed = decide(ticket, Action.RESUME, ACTORS[resumer][1])
    assert (resumed.to_status, resumed.clock, resumed.paused_from) == (prior, Clock.RESUME, None)


def test_resume_without_known_prior_goes_to_accepted() -> None:
    transition = decide(facts(Status.PAUSED), Action.RESUME, ACTORS["owner enterprise"][1])
    assert transition.to_status is Status.ACCEPTED


def test_escalated_is_left_only_by_explain_or_withdraw() -> None:
    ticket = facts(Status.ESCALATED)
    exits = {
        (action, decide(ticket, action, actor).to_status)
        for action in Action
        for _, actor in ACTORS.values()
        if action in allowed_actions(ticket, actor)
    }
    assert exits == {(Action.EXPLAIN, Status.EXPLAINED), (Action.WITHDRAW, Status.WITHDRAWN)}
    # the worker's escalation at final_due, then the required explanation
    ticket, _ = run(
        facts(Status.JOINT_REVIEW),
        (Action.ESCALATE, "system"),
        (Action.EXPLAIN, "assigned staff"),
        (Action.RESOLVE, "assigned staff"),
    )
    assert ticket.status is Status.RESOLVED


def test_transfer_keeps_the_clock_and_changes_who_acts() -> None:
    ticket, done = run(facts(Status.SUBMITTED), (Action.RETURN, "assigned staff"))
    assert done[0].clock is Clock.KEEP and ticket.status is Status.RETURNED
    with pytest.raises(ActionNotAllowed):
        decide(ticket, Action.ACCEPT, ACTORS["assigned staff"][1])
    for source in (Status.RETURNED, Status.SUBMITTED):
        transfer = decide(facts(source), Action.TRANSFER, ACTORS["dispatcher"][1])
        assert (transfer.to_status, transfer.clock) == (Status.SUBMITTED, Clock.KEEP)
    transfer = decide(ticket, Action.TRANSFER, ACTORS["dispatcher"][1])
    moved = apply(ticket, transfer, department_code="D-ELSEWHERE")  # the caller changes the department
    with pytest.raises(ActionForbidden):
        decide(moved, Action.ACCEPT, ACTORS["assigned staff"][1])
    assert decide(moved, Action.ACCEPT, ACTORS["other-department staff"][1]).to_status is Status.ACCEPTED


@pytest.mark.parametrize("source", [Status.RESOLVED, Status.EXPLAINED, Status.CLOSED])
@pytest.mark.parametrize("kind", ["owner enterprise", "supervisor", "dispatcher"])
def test_reopen_restarts_the_clock(source: Status, kind: str) -> None:
    transition = decide(facts(source), Action.REOPEN, ACTORS[kind][1])
    assert (transition.to_status, transition.clock) == (Status.SUBMITTED, Clock.RESTART)


def test_worker_reassigns_overdue_tickets_to_joint_review() -> None:
    worker = Actor.system()
    for source in (Status.SUBMITTED, Status.ACCEPTED, Status.IN_PROGRESS):
        assert decide(facts(source), Action.REQUEST_JOINT_REVIEW, worker).to_status is Status.JOINT_REVIEW
    with pytest.raises(ActionNotAllowed):
        decide(facts(Status.PAUSED), Action.REQUEST_JOINT_REVIEW, worker)
    with pytest.raises(ActionNotAllowed, match="cannot request-joint-review a ticket that is submitted"):
        decide(facts(Status.SUBMITTED), Action.REQUEST_JOINT_REVIEW, ACTORS["assigned staff"][1])


# --- random walks -----------------------------------------------------------------------------------------

REACHABLE = reachable_by_rules()
RULE_EDGES = {
    (source, rule.action, rule.target) for rule in RULES for source in rule.sources
}  # target None: back to the prior status
FAST = settings(max_examples=200, deadline=None)


class Walk:
    """A ticket driven through the state machine, with a model of its SLA clock."""

    def __init__(self) -> None:
        self.ticket = facts(Status.SUBMITTED)
        self.clock_running = True
        self.visited = [Status.SUBMITTED]

    def step(self, action: Action, kind: str) -> None:
        before = self.ticket
        try:
            transition = decide(before, action, ACTORS[kind][1])
        except LifecycleError as error:
            assert error.status is before.status and error.action is action
            return
        assert transition.from_status is before.status and transition.action is action
        target = None if action is Action.RESUME else transition.to_status
        assert (before.status, action, target) in RULE_EDGES
        if action is Action.RESUME:
            assert transition.to_status is (before.paused_from or Status.ACCEPTED)
        if before.status in FINAL_STATUSES:
            assert (before.status, action) == (Status.CLOSED, Action.REOPEN)
        assert transition.to_status in REACHABLE
        if transition.clock is Clock.PAUSE:
            assert self.clock_running
            self.clock_running = False
        elif transition.clock is Clock.RESUME:
            assert not self.clock_running
            self.clock_running = True
        elif transition.clock is Clock.RESTART:
            self.clock_running = True
        self.ticket = apply(before, transition)
        status = self.ticket.status
        assert self.clock_running == (status is not Status.PAUSED)
        assert (self.ticket.paused_from is not None) == (status is Status.PAUSED)
        self.visited.append(status)
        if status in FINAL_STATUSES:
            for _, actor in ACTORS.values():
                assert set(allowed_actions(self.ticket, actor)) <= (
                    {Action.REOPEN} if status is Status.CLOSED else set()
                )


STEPS = st.lists(st.tuples(st.sampled_from(list(Action)), st.sampled_from(KINDS)), max_size=60)


@FAST
@given(STEPS)
def test_random_sequences(steps: list[tuple[Action, str]]) -> None:
    walk = Walk()
    for action, kind in steps:
        walk.step(action, kind)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_random_legal_walks(data: st.DataObject) -> None:
    walk = Walk()
    for _ in range(data.draw(st.integers(0, 30))):
        moves = [(a, k) for k, (_, actor) in ACTORS.items() for a in allowed_actions(walk.ticket, actor)]
        if not moves:
            assert walk.ticket.status is Status.WITHDRAWN
            break
        action, kind = data.draw(st.sampled_from(moves))
        walk.step(action, kind)
        assert walk.ticket.status is not walk.visited[-2] or action in (Action.TRANSFER, Action.CONTRIBUTE)
    if Status.WITHDRAWN in walk.visited:
        assert walk.visited[walk.visited.index(Status.WITHDRAWN) :] == [Status.WITHDRAWN]

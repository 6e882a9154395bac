"""The ticket state machine: which actor may take which action in which state.

Pure: no I/O, no database, no web framework. The ticket service loads a ticket, builds
`TicketFacts` and an `Actor`, calls `decide()` and then applies the returned `Transition`
(status, SLA clock effect, version bump, event and outbox rows) in one transaction.

Every decision is driven by the `RULES` table. A rule row says: these parties may take this
action from these statuses, the ticket goes to this status, and the SLA clock does this.
An action may have several rows (different parties or a different clock effect from some
statuses). `decide()` checks, in this order:

1. the actor's role or relation to the ticket can never take the action on this ticket
   -> `ActionForbidden` (HTTP 403), even when the state is wrong as well;
2. the ticket's state does not allow the action -> `ActionNotAllowed` (HTTP 409).

The SLA clock is paused exactly while a ticket is `paused`: `request-info` pauses it and every
way out of `paused` (resume, explain, escalate, withdraw) resumes it; `reopen` restarts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from services.principals import Role

__all__ = [
    "FINAL_STATUSES",
    "OPEN_STATUSES",
    "RATABLE_STATUSES",
    "RULES",
    "SYSTEM_ROLE",
    "Action",
    "ActionForbidden",
    "ActionNotAllowed",
    "Actor",
    "Clock",
    "LifecycleError",
    "Party",
    "Rule",
    "Status",
    "TicketFacts",
    "Transition",
    "allowed_actions",
    "decide",
    "parties_of",
    "rules_for",
]

SYSTEM_ROLE: Final = "system"
"""The role of the SLA worker acting on its own (not a `services.principals.Role`: no token carries it)."""


class Status(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    JOINT_REVIEW = "joint_review"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    EXPLAINED = "explained"
    RETURNED = "returned"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    ACCEPT = "accept"
    START = "start"
    REQUEST_INFO = "request-info"
    RESUME = "resume"
    RESOLVE = "resolve"
    EXPLAIN = "explain"
    REQUEST_JOINT_REVIEW = "request-joint-review"
    CONTRIBUTE = "contribute"
    ESCALATE = "escalate"
    RETURN = "return"
    TRANSFER = "transfer"
    WITHDRAW = "withdraw"
    CLOSE = "close"
    REOPEN = "reopen"


class Clock(StrEnum):
    """What a transition does to the ticket's SLA deadlines."""

    KEEP = "keep"  # deadlines unchanged (running, or not relevant any more)
    PAUSE = "pause"  # stop the clock: remember the working time left
    RESUME = "resume"  # restart the clock: move each deadline so the time left is left again
    RESTART = "restart"  # fresh deadlines counted from the time of the transition


class Party(StrEnum):
    """A role, or a relation between an actor and a ticket, that rules grant actions to."""

    ASSIGNED_STAFF = "assigned_staff"  # staff of the ticket's (lead) department
    CO_DEPARTMENT_STAFF = "co_department_staff"  # staff of one of the ticket's co-departments
    OWNER = "owner"  # the enterprise the ticket belongs to
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    SYSTEM = "system"  # the SLA worker
    HOTLINE = "hotline"  # the 965808 hotline's follow-up call (回访), whose unsatisfied rating reopens


OPEN_STATUSES: Final[frozenset[Status]] = frozenset(Status) - {
    Status.RESOLVED,
    Status.EXPLAINED,
    Status.CLOSED,
    Status.WITHDRAWN,
}
"""Statuses in which the ticket still needs work and its deadlines matter."""

FINAL_STATUSES: Final[frozenset[Status]] = frozenset({Status.CLOSED, Status.WITHDRAWN})
"""Statuses nothing more happens in; the one exit is `reopen` from `closed`."""

RATABLE_STATUSES: Final[frozenset[Status]] = frozenset({Status.RESOLVED, Status.EXPLAINED, Status.CLOSED})
"""Statuses in which the enterprise may rate the ticket's latest resolution."""


class _PrincipalLike(Protocol):
    @property
    def subject(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def department_code(self) -> str | None: ...
    @property
    def enterprise_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Actor:
    """Who takes the action. `role` is a `services.principals.Role` value or `SYSTEM_ROLE`."""

    subject: str
    role: str
    department_code: str | None = None
    enterprise_id: str | None = None

    @classmethod
    def from_principal(cls, principal: _PrincipalLike) -> Actor:
        """The actor for an authenticated caller (a `services.principals.Principal`)."""
        return cls(
            subject=principal.subject,
            role=str(principal.role),
            department_code=principal.department_code,
            enterprise_id=principal.enterprise_id,
        )

    @classmethod
    def system(cls, subject: str = "sla-worker") -> Actor:
        """The SLA worker."""
        return cls(subject=subject, role=SYSTEM_ROLE)


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What the state machine needs to know about a ticket.

    Plain strings are accepted for the statuses (as loaded from a database) and any iterable
    for the co-departments; they are normalised on construction.
    """

    status: Status
    department_code: str | None
    co_department_codes: tuple[str, ...]
    enterprise_id: str | None
    paused_from: Status | None = None  # the status a paused ticket returns to on resume

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "co_department_codes", tuple(self.co_department_codes))
        if self.paused_from is not None:
            object.__setattr__(self, "paused_from", Status(self.paused_from))


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    from_status: Status
    to_status: Status
    clock: Clock

    @property
    def paused_from(self) -> Status | None:
        """The value the caller stores as the ticket's `paused_from` after this transition."""
        return self.from_status if self.to_status is Status.PAUSED else None


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table: `parties` may take `action` from `sources`, going to `target`.

    `target` None means "back to the status the ticket was paused from" (resume).
    """

    action: Action
    parties: frozenset[Party]
    sources: frozenset[Status]
    target: Status | None
    clock: Clock


def _rule(
    action: Action, parties: Iterable[Party], sources: Iterable[Status], target: Status | None, clock: Clock
) -> Rule:
    return Rule(action, frozenset(parties), frozenset(sources), target, clock)


_S = Status
_P = Party
_ASSIGNED = (_P.ASSIGNED_STAFF,)

RULES: Final[tuple[Rule, ...]] = (
    _rule(Action.ACCEPT, _ASSIGNED, [_S.SUBMITTED], _S.ACCEPTED, Clock.KEEP),
    _rule(Action.START, _ASSIGNED, [_S.ACCEPTED], _S.IN_PROGRESS, Clock.KEEP),
    _rule(Action.REQUEST_INFO, _ASSIGNED, [_S.ACCEPTED, _S.IN_PROGRESS, _S.JOINT_REVIEW], _S.PAUSED, Clock.PAUSE),
    _rule(Action.RESUME, [_P.ASSIGNED_STAFF, _P.OWNER], [_S.PAUSED], None, Clock.RESUME),
    _rule(
        Action.RESOLVE, _ASSIGNED, [_S.ACCEPTED, _S.IN_PROGRESS, _S.JOINT_REVIEW, _S.EXPLAINED], _S.RESOLVED, Clock.KEEP
    ),
    _rule(
        Action.EXPLAIN,
        _ASSIGNED,
        [_S.ACCEPTED, _S.IN_PROGRESS, _S.JOINT_REVIEW, _S.ESCALATED],
        _S.EXPLAINED,
        Clock.KEEP,
    ),
    _rule(Action.EXPLAIN, _ASSIGNED, [_S.PAUSED], _S.EXPLAINED, Clock.RESUME),
    _rule(Action.REQUEST_JOINT_REVIEW, _ASSIGNED, [_S.ACCEPTED, _S.IN_PROGRESS], _S.JOINT_REVIEW, Clock.KEEP),
    _rule(
        Action.REQUEST_JOINT_REVIEW,
        [_P.SYSTEM],
        [_S.SUBMITTED, _S.ACCEPTED, _S.IN_PROGRESS],
        _S.JOINT_REVIEW,
        Clock.KEEP,
    ),
    _rule(
        Action.CONTRIBUTE, [_P.ASSIGNED_STAFF, _P.CO_DEPARTMENT_STAFF], [_S.JOINT_REVIEW], _S.JOINT_REVIEW, Clock.KEEP
    ),
    _rule(
        Action.ESCALATE,
        [_P.SUPERVISOR, _P.SYSTEM],
        [_S.SUBMITTED, _S.ACCEPTED, _S.IN_PROGRESS, _S.JOINT_REVIEW, _S.RETURNED],
        _S.ESCALATED,
        Clock.KEEP,
    ),
    _rule(Action.ESCALATE, [_P.SUPERVISOR, _P.SYSTEM], [_S.PAUSED], _S.ESCALATED, Clock.RESUME),
    _rule(Action.RETURN, _ASSIGNED, [_S.SUBMITTED, _S.ACCEPTED], _S.RETURNED, Clock.KEEP),
    _rule(Action.TRANSFER, [_P.DISPATCHER], [_S.SUBMITTED, _S.RETURNED], _S.SUBMITTED, Clock.KEEP),
    _rule(
        Action.WITHDRAW,
        [_P.OWNER, _P.DISPATCHER],
        [_S.SUBMITTED, _S.ACCEPTED, _S.IN_PROGRESS, _S.JOINT_REVIEW, _S.ESCALATED, _S.RETURNED],
        _S.WITHDRAWN,
        Clock.KEEP,
    ),
    _rule(Action.WITHDRAW, [_P.OWNER, _P.DISPATCHER], [_S.PAUSED], _S.WITHDRAWN, Clock.RESUME),
    _rule(Action.CLOSE, [_P.OWNER, _P.DISPATCHER, _P.SYSTEM], [_S.RESOLVED, _S.EXPLAINED], _S.CLOSED, Clock.KEEP),
    _rule(
        Action.REOPEN,
        [_P.OWNER, _P.SUPERVISOR, _P.DISPATCHER, _P.HOTLINE],
        [_S.RESOLVED, _S.EXPLAINED, _S.CLOSED],
        _S.SUBMITTED,
        Clock.RESTART,
    ),
)
"""Every action, who may take it, from where, to where, and what it does to the SLA clock.

Roles `admin` and `integration` appear nowhere: they take no ticket action. The hotline only
reopens, when the caller rates a resolution unsatisfied on its follow-up call (发回重办).
"""

_RULES_BY_ACTION: Final[Mapping[Action, tuple[Rule, ...]]] = {
    action: tuple(rule for rule in RULES if rule.action is action) for action in Action
}

_ROLE_PARTIES: Final[Mapping[str, Party]] = {
    Role.DISPATCHER.value: Party.DISPATCHER,
    Role.SUPERVISOR.value: Party.SUPERVISOR,
    Role.HOTLINE.value: Party.HOTLINE,
    SYSTEM_ROLE: Party.SYSTEM,
}


def rules_for(action: Action) -> tuple[Rule, ...]:
    """The rows of `RULES` for one action."""
    return _RULES_BY_ACTION[Action(action)]


def parties_of(facts: TicketFacts, actor: Actor) -> frozenset[Party]:
    """The parties the actor counts as for this ticket (empty: the actor may do nothing to it).

    A missing department or enterprise never matches, not even another missing one.
    """
    role = str(actor.role)
    if role == Role.STAFF.value:
        dept = actor.department_code
        if dept is None:
            return frozenset()
        parties: set[Party] = set()
        if dept == facts.department_code:
            parties.add(Party.ASSIGNED_STAFF)
        if dept in facts.co_department_codes:
            parties.add(Party.CO_DEPARTMENT_STAFF)
        return frozenset(parties)
    if role == Role.ENTERPRISE.value:
        owner = actor.enterprise_id is not None and actor.enterprise_id == facts.enterprise_id
        return frozenset({Party.OWNER}) if owner else frozenset()
    party = _ROLE_PARTIES.get(role)
    return frozenset({party}) if party is not None else frozenset()


class LifecycleError(Exception):
    """An action that cannot be taken; `action` and `status` say which and where."""

    code: str = "lifecycle_error"
    http_status: int = 409

    def __init__(self, message: str, *, action: Action, status: Status) -> None:
        super().__init__(message)
        self.message = message
        self.action = action
        self.status = status


class ActionForbidden(LifecycleError):
    """The caller's role or relation to the ticket may never take this action on it (403)."""

    code = "action_forbidden"
    http_status = 403


class ActionNotAllowed(LifecycleError):
    """The caller may take this action, but not in the ticket's current state (409)."""

    code = "invalid_transition"
    http_status = 409


def _describe(actor: Actor, parties: frozenset[Party]) -> str:
    role = str(actor.role)
    if role == Role.STAFF.value:
        if Party.ASSIGNED_STAFF in parties:
            return "staff of the ticket's department"
        if Party.CO_DEPARTMENT_STAFF in parties:
            return "staff of a co-department"
        return "staff of another department"
    if role == Role.ENTERPRISE.value:
        return "the enterprise" if parties else "an enterprise that does not own the ticket"
    return f"role {role!r}"


def _resume_target(facts: TicketFacts) -> Status:
    prior = facts.paused_from
    if prior is None or prior is Status.PAUSED or prior not in OPEN_STATUSES:
        return Status.ACCEPTED
    return prior


def decide(facts: TicketFacts, action: Action, actor: Actor) -> Transition:
    """The transition `actor` makes by taking `action` on the ticket, or the reason it cannot.

    Raises `ActionForbidden` if the actor's role or relation to the ticket never allows the
    action, else `ActionNotAllowed` if the ticket's status does not.
    """
    action = Action(action)
    status = facts.status
    parties = parties_of(facts, actor)
    rows = [rule for rule in _RULES_BY_ACTION[action] if rule.parties & parties]
    if not rows:
        raise ActionForbidden(
            f"{_describe(actor, parties)} may not {action} this ticket (it is {status})",
            action=action,
            status=status,
        )
    for rule in rows:
        if status in rule.sources:
            target = rule.target if rule.target is not None else _resume_target(facts)
            return Transition(action=action, from_status=status, to_status=target, clock=rule.clock)
    raise ActionNotAllowed(f"cannot {action} a ticket that is {status}", action=action, status=status)


def allowed_actions(facts: TicketFacts, actor: Actor) -> list[Action]:
    """The actions `actor` may take on the ticket now, in `Action` order (for user interfaces)."""
    # The same test as `decide` (a rule for one of the actor's parties whose sources hold the
    # status), without building a refusal for each of the actions it does not allow.
    parties = parties_of(facts, actor)
    return [
        action
        for action in Action
        if any(rule.parties & parties and facts.status in rule.sources for rule in _RULES_BY_ACTION[action])
    ]

"""Orders and tickets: creating, reading, their actions, audit trail and feedback.

(No `from __future__ import annotations` here: the action routes are made in a loop and
FastAPI must see each one's body model as a real class.)"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, WithJsonSchema
from pydantic_core import to_json

from services.auth import CurrentPrincipal, Principal, Role, require_roles
from services.db import AutocommitDep, Database, DatabaseDep, SessionDep
from services.errors import problem_responses
from services.pagination import Page, PageDep
from ticket_service import actions, audit, creation, feedback, hotline, idempotency, lifecycle, openapi_examples, views
from ticket_service.context import TicketContext
from ticket_service.dependencies import TicketContextDep
from ticket_service.errors import InvalidInstant
from ticket_service.schemas import (
    AcceptBody,
    ChainVerification,
    Channel,
    EmptyBody,
    ExplainBody,
    FeedbackCreate,
    FeedbackRead,
    JointReviewBody,
    OptionalReasonBody,
    OrderCreate,
    OrderRead,
    ReasonBody,
    RequestInfoBody,
    ResolveBody,
    TicketCreate,
    TicketEventRead,
    TicketKind,
    TicketProgressRead,
    TicketRead,
    TicketStatus,
    TransferBody,
)

router = APIRouter(prefix="/api/v1")
TicketIdPath = Annotated[str, Path(min_length=1, max_length=64, description="Ticket id")]
# An optional header is absent or a string, never null: the schemas say `string` so clients
# (and fuzzers) do not send the text "null".
IdempotencyKeyHeader = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"}),
    Header(alias="Idempotency-Key", min_length=1, max_length=200, description="Retry-safe key, kept 24 h."),
]
IfMatchHeader = Annotated[
    str | None,
    WithJsonSchema({"type": "string", "maxLength": 40, "pattern": actions.IF_MATCH_PATTERN}),
    Header(
        alias="If-Match",
        max_length=40,
        description='The ticket version the caller saw: the ETag, `"3"`, or the bare version, `3`.',
    ),
]
TicketNumberPath = Annotated[str, Path(pattern=r"^T\d{14,24}$", description="The number read to callers")]
ProgressReader = Annotated[
    Principal,
    Depends(require_roles(Role.HOTLINE, Role.ENTERPRISE, Role.STAFF, Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN)),
]
ChainAuditor = Annotated[Principal, Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))]


def ticket_response(values: views.TicketValues, principal: Principal) -> JSONResponse:
    body = views.ticket_json(values, principal)
    return JSONResponse(body, headers={"ETag": f'"{body["version"]}"'})


def created_response(created: idempotency.Created, location: str | None) -> Response:
    """201 with the created resource (its ETag when it has a version, its path when it has
    one); a replay says so."""
    headers = {"ETag": f'"{created.body["version"]}"'} if "version" in created.body else {}
    if created.replayed:
        headers = {"Idempotent-Replayed": "true"}
    if location is not None:
        headers["Location"] = f"{location}/{created.body['id']}"
    return Response(to_json(created.body), status_code=created.status, headers=headers, media_type="application/json")


def once(request: Request, principal: Principal, key: str | None, body: BaseModel) -> idempotency.Once | None:
    return idempotency.Once.of(
        principal=principal.subject,
        key=key,
        method=request.method,
        path=request.url.path,
        payload=body.model_dump(mode="json"),
    )


CreateFromBody = Callable[
    [Database, TicketContext, Principal, Any, idempotency.Once | None], Awaitable[idempotency.Created]
]


def _make_creation_route(
    path: str,
    *,
    name: str,
    doc: str,
    body_model: type[BaseModel],
    examples: openapi_examples.Examples,
    response_model: type[BaseModel],
    located: bool,
    tag: str,
    roles: tuple[Role, ...],
    create: CreateFromBody,
) -> None:
    """A creating POST: its `Idempotency-Key` and its 201 answer are the same for every kind."""
    Creator = Annotated[Principal, Depends(require_roles(*roles))]

    async def endpoint(
        request: Request,
        database: DatabaseDep,
        principal: Creator,
        context: TicketContextDep,
        body: Annotated[body_model, Body(openapi_examples=examples)],  # type: ignore[valid-type]
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Any:
        created = await create(database, context, principal, body, once(request, principal, idempotency_key, body))
        return created_response(created, request.url.path if located else None)

    endpoint.__name__ = name
    endpoint.__doc__ = doc
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        status_code=201,
        response_model=response_model,
        tags=[tag],
        responses=problem_responses(400, 401, 403, 409, 422, 503),
    )


_make_creation_route(
    "/orders",
    name="create_order",
    doc="Order items from the current menu; each becomes a ticket for its lead department (enterprise).",
    body_model=OrderCreate,
    examples=openapi_examples.ORDER,
    response_model=OrderRead,
    located=False,
    tag="orders",
    roles=(Role.ENTERPRISE,),
    create=lambda database, context, principal, body, once_: creation.place_order(
        database,
        context=context,
        principal=principal,
        lines=[(line.item_code, line.note) for line in body.items],
        once=once_,
    ),
)
_make_creation_route(
    "/tickets",
    name="create_ticket",
    doc="File a free-form request or complaint (enterprise; dispatcher on behalf of one, e.g. a visit).",
    body_model=TicketCreate,
    examples=openapi_examples.REQUEST,
    response_model=TicketRead,
    located=True,
    tag="tickets",
    roles=(Role.ENTERPRISE, Role.DISPATCHER),
    create=lambda database, context, principal, body, once_: creation.file_request(
        database, context=context, principal=principal, data=body, once=once_
    ),
)


@router.get(
    "/tickets", response_model=Page[TicketRead], tags=["tickets"], responses=problem_responses(400, 401, 403, 422)
)
async def list_tickets(
    db: AutocommitDep,
    principal: CurrentPrincipal,
    page: PageDep,
    status: TicketStatus | None = None,
    department_code: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9-]{1,31}$")] = None,
    enterprise_id: Annotated[str | None, Query(max_length=36)] = None,
    channel: Channel | None = None,
    kind: TicketKind | None = None,
    overdue: bool | None = None,
    due_before: Annotated[datetime | None, Query(description="resolve_due earlier than this instant")] = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> Any:
    """Tickets the caller may see: an enterprise its own, staff their department's (and joint
    reviews they take part in), dispatcher, supervisor and admin all. Newest first."""
    for name, instant in (("due_before", due_before), ("received_from", received_from), ("received_to", received_to)):
        if instant is not None and instant.tzinfo is None:
            raise InvalidInstant(name, "must carry a UTC offset (RFC 3339), e.g. 2026-09-30T10:00:00+08:00")
    filters = views.TicketFilters(
        status=status,
        department_code=department_code,
        enterprise_id=enterprise_id,
        channel=channel,
        kind=kind,
        overdue=overdue,
        due_before=due_before,
        received_from=received_from,
        received_to=received_to,
        q=q,
    )
    items, next_cursor = await views.list_tickets(db, principal=principal, filters=filters, page=page)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/tickets/by-number/{number}",
    response_model=TicketProgressRead,
    tags=["tickets"],
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def get_ticket_progress(db: AutocommitDep, principal: ProgressReader, number: TicketNumberPath) -> Any:
    """Where a case stands by its number, with no personal data (the hotline for any case; others for theirs)."""
    return await hotline.progress(db, number=number, principal=principal)


@router.get(
    "/tickets/{ticket_id}",
    response_model=TicketRead,
    tags=["tickets"],
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def get_ticket(db: AutocommitDep, principal: CurrentPrincipal, ticket_id: TicketIdPath) -> Response:
    """One ticket if the caller may see it; ETag = version (enterprise, staff, dispatcher, supervisor, admin)."""
    return ticket_response(await views.read_ticket(db, ticket_id=ticket_id, principal=principal), principal)


@router.get(
    "/tickets/{ticket_id}/events",
    response_model=list[TicketEventRead],
    tags=["tickets"],
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_ticket_events(db: AutocommitDep, principal: CurrentPrincipal, ticket_id: TicketIdPath) -> Any:
    """The ticket's audit trail, oldest first (whoever may see the ticket)."""
    return await audit.events_shown_to(db, ticket_id=ticket_id, principal=principal)


@router.get(
    "/tickets/{ticket_id}/events/verify",
    response_model=ChainVerification,
    tags=["tickets"],
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def verify_ticket_events(db: AutocommitDep, principal: ChainAuditor, ticket_id: TicketIdPath) -> Any:
    """Recompute the audit trail's hash chain and name the first broken link (supervisor, admin)."""
    return await audit.verify_chain_for(db, ticket_id=ticket_id, principal=principal)


@router.post(
    "/tickets/{ticket_id}/feedback",
    status_code=201,
    response_model=FeedbackRead,
    tags=["tickets"],
    responses=problem_responses(400, 401, 403, 404, 409, 422),
)
async def rate_ticket(
    session: SessionDep,
    principal: CurrentPrincipal,
    context: TicketContextDep,
    ticket_id: TicketIdPath,
    body: Annotated[FeedbackCreate, Body(openapi_examples=openapi_examples.FEEDBACK)],
) -> Any:
    """Rate the latest resolution once; unsatisfied reopens the ticket for the same department (enterprise)."""
    return await feedback.give_feedback(
        session, context=context, ticket_id=ticket_id, principal=principal, rating=body.rating, comment=body.comment
    )


@router.get(
    "/tickets/{ticket_id}/feedback",
    response_model=list[FeedbackRead],
    tags=["tickets"],
    responses=problem_responses(400, 401, 403, 404, 422),
)
async def list_ticket_ratings(db: AutocommitDep, principal: CurrentPrincipal, ticket_id: TicketIdPath) -> Any:
    """Every rating the ticket received (whoever may see the ticket)."""
    return await feedback.feedback_shown_to(db, ticket_id=ticket_id, principal=principal)


ACTION_BODIES: dict[lifecycle.Action, type[BaseModel]] = {
    lifecycle.Action.ACCEPT: AcceptBody,
    lifecycle.Action.START: EmptyBody,
    lifecycle.Action.REQUEST_INFO: RequestInfoBody,
    lifecycle.Action.RESUME: EmptyBody,
    lifecycle.Action.RESOLVE: ResolveBody,
    lifecycle.Action.EXPLAIN: ExplainBody,
    lifecycle.Action.REQUEST_JOINT_REVIEW: JointReviewBody,
    lifecycle.Action.CONTRIBUTE: RequestInfoBody,
    lifecycle.Action.ESCALATE: RequestInfoBody,
    lifecycle.Action.RETURN: ReasonBody,
    lifecycle.Action.TRANSFER: TransferBody,
    lifecycle.Action.WITHDRAW: OptionalReasonBody,
    lifecycle.Action.CLOSE: EmptyBody,
    lifecycle.Action.REOPEN: ReasonBody,
}

ACTION_SUMMARIES: dict[lifecycle.Action, str] = {
    lifecycle.Action.ACCEPT: "Accept the case and reply to the enterprise (staff of the assigned department).",
    lifecycle.Action.START: "Start handling an accepted case (assigned staff).",
    lifecycle.Action.REQUEST_INFO: "Ask the enterprise for information; the SLA clock stops (assigned staff).",
    lifecycle.Action.RESUME: "Resume a paused case; deadlines move by the pause (assigned staff, the enterprise).",
    lifecycle.Action.RESOLVE: "Finish the case with its result (assigned staff).",
    lifecycle.Action.EXPLAIN: "Give the written explanation for a case that cannot be finished (assigned staff).",
    lifecycle.Action.REQUEST_JOINT_REVIEW: "Send a hard case to a joint review of departments (assigned staff).",
    lifecycle.Action.CONTRIBUTE: "Record a co-department's part in a joint review (co-department staff).",
    lifecycle.Action.ESCALATE: "Refer the case to senior leadership (supervisor).",
    lifecycle.Action.RETURN: "Return a case that is not the department's to the dispatch queue (assigned staff).",
    lifecycle.Action.TRANSFER: "Send a case to another department; deadlines keep running (dispatcher).",
    lifecycle.Action.WITHDRAW: "Withdraw the request before it is resolved (the enterprise, dispatcher).",
    lifecycle.Action.CLOSE: "Close a resolved or explained case (the enterprise, dispatcher).",
    lifecycle.Action.REOPEN: "Reopen with fresh deadlines (the enterprise, supervisor, dispatcher).",
}


ACTION_OPERATIONS: dict[lifecycle.Action, str] = {
    lifecycle.Action.ACCEPT: "accept_ticket",
    lifecycle.Action.START: "start_ticket",
    lifecycle.Action.REQUEST_INFO: "request_ticket_info",
    lifecycle.Action.RESUME: "resume_ticket",
    lifecycle.Action.RESOLVE: "resolve_ticket",
    lifecycle.Action.EXPLAIN: "explain_ticket",
    lifecycle.Action.REQUEST_JOINT_REVIEW: "request_joint_review",
    lifecycle.Action.CONTRIBUTE: "contribute_to_ticket",
    lifecycle.Action.ESCALATE: "escalate_ticket",
    lifecycle.Action.RETURN: "return_ticket",
    lifecycle.Action.TRANSFER: "transfer_ticket",
    lifecycle.Action.WITHDRAW: "withdraw_ticket",
    lifecycle.Action.CLOSE: "close_ticket",
    lifecycle.Action.REOPEN: "reopen_ticket",
}


def _action_input(body: BaseModel) -> actions.ActionInput:
    values = body.model_dump()
    return actions.ActionInput(
        note=values.get("note") or values.get("reason") or "",
        result=values.get("result"),
        explanation=values.get("explanation"),
        department_code=values.get("department_code"),
        co_department_codes=tuple(values.get("co_department_codes") or ()),
    )


def _make_action_route(action: lifecycle.Action, body_model: type[BaseModel]) -> None:
    async def endpoint(
        session: SessionDep,
        principal: CurrentPrincipal,
        context: TicketContextDep,
        ticket_id: TicketIdPath,
        body: Annotated[body_model, Body(openapi_examples=openapi_examples.action_examples(action))],  # type: ignore[valid-type]
        if_match: IfMatchHeader = None,
    ) -> Response:
        ticket = await actions.take_action(
            session,
            context=context,
            ticket_id=ticket_id,
            action=action,
            principal=principal,
            data=_action_input(body),
            if_match=if_match,
        )
        return ticket_response(ticket, principal)

    endpoint.__name__ = ACTION_OPERATIONS[action]
    endpoint.__doc__ = ACTION_SUMMARIES[action]
    router.add_api_route(
        f"/tickets/{{ticket_id}}/{action.value}",
        endpoint,
        methods=["POST"],
        response_model=TicketRead,
        tags=["ticket actions"],
        summary=ACTION_SUMMARIES[action].split(" (")[0],
        responses=problem_responses(400, 401, 403, 404, 409, 412, 422, 503),
    )


for _action, _body in ACTION_BODIES.items():
    _make_action_route(_action, _body)

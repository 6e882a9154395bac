"""Notification-service endpoints. Today: the internal intake of relayed events."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Header, Request

from notification_service import service
from notification_service.schemas import BatchReceipt, EventBatch
from services.db import SessionDep
from services.errors import NotAuthenticated, problem_responses

# Not in the public document: the gateway does not route /internal; only services call it.
internal = APIRouter(prefix="/internal", tags=["internal"], include_in_schema=False)


def _check_internal_token(request: Request, token: str | None) -> None:
    expected = request.state.settings.internal_token.get_secret_value()
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise NotAuthenticated("This endpoint is for the platform's own services.", code="invalid_internal_token")


@internal.post("/events", response_model=BatchReceipt, responses=problem_responses(400, 401, 422))
async def receive_events(
    request: Request,
    session: SessionDep,
    body: EventBatch,
    x_internal_token: Annotated[str | None, Header(alias="X-Internal-Token", max_length=200)] = None,
) -> BatchReceipt:
    """Store events relayed from the ticket service's outbox, once each (internal: X-Internal-Token)."""
    _check_internal_token(request, x_internal_token)
    received, duplicates = await service.store_events(session, events=body.events)
    return BatchReceipt(received=received, duplicates=duplicates)

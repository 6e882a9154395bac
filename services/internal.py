"""Calls between the platform's own services: the `X-Internal-Token` they carry."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from services.errors import NotAuthenticated


async def require_internal_caller(
    request: Request,
    x_internal_token: Annotated[str | None, Header(alias="X-Internal-Token", max_length=200)] = None,
) -> None:
    """Only the platform's own services know the internal token; the gateway never routes /internal."""
    expected = request.state.settings.internal_token.get_secret_value()
    if x_internal_token is None or not hmac.compare_digest(x_internal_token.encode(), expected.encode()):
        raise NotAuthenticated("This endpoint is for the platform's own services.", code="invalid_internal_token")


InternalCaller = Annotated[None, Depends(require_internal_caller)]

"""Cursor pagination: `limit` and an opaque `cursor` in, `items` and `next_cursor` out."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from services.errors import BadRequest

DEFAULT_LIMIT = 20

T = TypeVar("T")
MAX_LIMIT = 100
CURSOR_PATTERN = "^[A-Za-z0-9_-]+$"


class Page(BaseModel, Generic[T]):
    """One page of a list; follow `next_cursor` until it is null."""

    # A parametrised page (`Page[ItemRead]`) is a new class without this docstring.
    model_config = ConfigDict(json_schema_extra={"description": "One page of a list; follow `next_cursor` until null."})

    items: list[T] = Field(description="The page's entries, at most `limit`.")
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page (with the same filters); null on the last page."
    )


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, arity: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise BadRequest("The cursor is not one this API issued.", code="invalid_cursor") from exc
    if not isinstance(values, list) or len(values) != arity:
        raise BadRequest("The cursor is not one this API issued.", code="invalid_cursor")
    if not all(isinstance(v, (str, int, float)) for v in values):
        raise BadRequest("The cursor is not one this API issued.", code="invalid_cursor")
    return values


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    cursor: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size, 1–100.")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            description="`next_cursor` of the previous page, unchanged (URL-safe base64): an opaque token that only"
            " this API issues; any other is a 400 `invalid_cursor`.",
            json_schema_extra={"pattern": CURSOR_PATTERN},
        ),
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageDep = Annotated[PageParams, Depends(page_params)]

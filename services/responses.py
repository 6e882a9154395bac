"""JSON responses with strong ETags, answering `If-None-Match` with 304."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request, Response
from pydantic import TypeAdapter


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak or strong) or is `*`."""
    if not if_none_match:
        return False
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified"}}
"""`responses=` entry of an operation answered by `cached_json` (its document then declares
`If-None-Match` and `ETag` too)."""


def cached_json(request: Request, adapter: TypeAdapter[Any], value: Any, *, max_age: int = 0) -> Response:
    """Serialise through the response schema; 304 when the client already holds this version."""
    body = adapter.dump_json(adapter.validate_python(value))
    etag = etag_for(body)
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={max_age}, must-revalidate"}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


def locate(request: Request, response: Response, key: str) -> None:
    """A 201's `Location`: the new member's path under the collection the request posted to."""
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{key}"

"""Anonymous catalogue reads come from memory for a moment; writes clear it; callers with a
token always read the database."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Message, Receive, Scope, Send

from catalog_service.models import ServiceItem
from services.read_cache import ReadCache, ReadCacheMiddleware
from tests.conftest import Platform

ITEM = "/api/v1/items/LS-001"


async def _retitle_behind_the_apis_back(session: AsyncSession, title: str) -> None:
    await session.execute(update(ServiceItem).where(ServiceItem.code == "LS-001").values(title=title))
    await session.flush()


async def test_an_anonymous_read_is_served_from_memory_until_a_write(platform: Platform, session: AsyncSession) -> None:
    first = await platform.client.get(ITEM)
    assert first.status_code == 200
    await _retitle_behind_the_apis_back(session, "改过的标题")
    cached = await platform.client.get(ITEM)
    assert cached.json()["title"] == first.json()["title"]
    assert cached.headers["etag"] == first.headers["etag"]
    assert cached.headers["x-request-id"] != first.headers["x-request-id"]
    with_token = await platform.client.get(ITEM, headers=await platform.auth("enterprise-1"))
    assert with_token.json()["title"] == "改过的标题"
    patch = await platform.client.patch(ITEM, json={"description": "新说明"}, headers=await platform.auth("admin"))
    assert patch.status_code == 200
    fresh = await platform.client.get(ITEM)
    assert (fresh.json()["title"], fresh.json()["description"]) == ("改过的标题", "新说明")


async def test_a_cached_read_still_answers_if_none_match(platform: Platform) -> None:
    first = await platform.client.get(ITEM)
    again = await platform.client.get(ITEM, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


async def test_a_cached_read_answers_if_none_match_as_the_service_does(platform: Platform) -> None:
    """A list of tags, a weak tag and `*` each get what the service itself answers."""
    etag = (await platform.client.get(ITEM)).headers["etag"]
    cache = platform.services["catalog"].state.read_cache
    for header in (f'"other", {etag}', f"W/{etag}", "*", '"other"'):
        assert (await platform.client.get(ITEM)).status_code == 200  # fills the cache
        assert cache.entries
        cached = await platform.client.get(ITEM, headers={"If-None-Match": header})
        cache.clear()
        uncached = await platform.client.get(ITEM, headers={"If-None-Match": header})
        assert cached.status_code == uncached.status_code == (200 if header == '"other"' else 304), header


async def test_entries_expire(platform: Platform, session: AsyncSession) -> None:
    await platform.client.get(ITEM)
    await _retitle_behind_the_apis_back(session, "过期后可见")
    cache = platform.services["catalog"].state.read_cache
    for entry in cache.entries.values():
        entry.expires = 0.0
    assert (await platform.client.get(ITEM)).json()["title"] == "过期后可见"


async def test_errors_and_lists_with_filters_are_cached_by_exact_query(
    platform: Platform, session: AsyncSession
) -> None:
    missing = await platform.client.get("/api/v1/items/ZZ-404")
    assert missing.status_code == 404
    cache = platform.services["catalog"].state.read_cache
    assert not any(key.startswith(b"/api/v1/items/ZZ-404") for key in cache.entries)
    page = await platform.client.get("/api/v1/items", params={"q": "节能", "limit": 5})
    await _retitle_behind_the_apis_back(session, "节能改")
    same = await platform.client.get("/api/v1/items", params={"q": "节能", "limit": 5})
    assert same.json() == page.json()
    other_query = await platform.client.get("/api/v1/items", params={"q": "节能", "limit": 6})
    assert "节能改" in [item["title"] for item in other_query.json()["items"]]


async def test_an_entry_keeps_the_services_own_fields_not_what_outer_middlewares_added() -> None:
    """A middleware outside the cache may rewrite the message it is sent (the gateway adds the
    rate-limit figures of the request at hand): the entry must not keep them for the next."""

    async def service(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"etag", b'"v1"')]})
        await send({"type": "http.response.body", "body": b"{}"})

    served = 0
    cached = ReadCacheMiddleware(service, cache=ReadCache(ttl_seconds=60))

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal served
        served += 1

        async def stamp(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-served", str(served).encode())]
            await send(message)

        await cached(scope, receive, stamp)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=outer), base_url="http://t") as client:
        answers = [await client.get("/api/items") for _ in range(3)]
    assert [answer.headers.get_list("x-served") for answer in answers] == [["1"], ["2"], ["3"]]
    assert all(answer.headers["etag"] == '"v1"' for answer in answers)

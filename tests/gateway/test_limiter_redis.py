"""The gateway limiter's pipelined Redis client (gateway.limiter_redis): each caller gets its own
reply, commands of one loop turn share a write, and failures are redis-py's exceptions, on
which the limiter fails open as before."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway.limiter_redis import PipelinedRedis, pack
from launcher.embedded_redis import EmbeddedRedis
from services.rate_limit import GCRA_SHA, Allowance, RateLimiter
from services.redis import create_redis
from tests.support import free_port

TWO = Allowance(per_minute=60, burst=2)


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[PipelinedRedis]:
    pipelined = PipelinedRedis(redis_url, timeout_seconds=2.0)
    yield pipelined
    await pipelined.aclose()


def test_commands_are_packed_as_resp_arrays() -> None:
    assert pack(("GET", "k")) == b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    assert pack(("EVALSHA", "ab", 1, "ключ")) == (
        b"*4\r\n$7\r\nEVALSHA\r\n$2\r\nab\r\n$1\r\n1\r\n$8\r\n" + "ключ".encode() + b"\r\n"
    )


async def test_concurrent_callers_each_get_their_own_reply_from_one_write(
    client: PipelinedRedis, redis_url: str
) -> None:
    prefix = f"pipelined:{uuid.uuid4().hex}:"
    plain = create_redis(redis_url)
    try:
        await plain.mset({f"{prefix}{index}": str(index) for index in range(50)})
        await client.get(prefix + "0")  # connected, the handshake (SELECT) done
        connection = client._connection
        assert connection is not None and connection.transport is not None
        writes: list[bytes] = []
        write = connection.transport.write

        def counted(data: bytes) -> None:
            writes.append(data)
            write(data)

        connection.transport.write = counted  # type: ignore[method-assign]
        replies = await asyncio.gather(*(client.get(f"{prefix}{index}") for index in range(50)))
        assert replies == [str(index).encode() for index in range(50)]
        assert len(writes) == 1 and writes[0].count(b"GET") == 50
        assert await client.pipeline().get(prefix + "7").get(prefix + "absent").execute() == [b"7", None]
    finally:
        await plain.delete(*[f"{prefix}{index}" for index in range(50)])
        await plain.aclose()


async def test_an_unknown_script_is_noscript_and_the_limiter_teaches_it(tmp_path: Path) -> None:
    # A Redis of its own: flushing the scripts of the shared one would touch every other user.
    embedded = EmbeddedRedis(tmp_path).start()
    client = PipelinedRedis(embedded.url, timeout_seconds=2.0)
    try:
        with pytest.raises(NoScriptError):
            await client.evalsha("0" * 40, 0)
        limiter = RateLimiter(client)
        for also_read in (None, "tokver:someone"):
            await client.execute_command("SCRIPT", "FLUSH")
            verdict = await limiter.check([("k", TWO)], also_read=also_read, now_ms=1_000)
            assert verdict.checked and verdict.allowed and verdict.value is None
        assert not (await limiter.hit("k", TWO, now_ms=1_000)).allowed  # the third hit at once
        assert (await client.evalsha(GCRA_SHA, 1, "rl:k", "0", "1000", "1000", "2"))[0][0] == 0
    finally:
        await client.aclose()
        embedded.stop()


async def test_the_limits_hold_through_it_as_through_redis_py(client: PipelinedRedis) -> None:
    limiter = RateLimiter(client, prefix=f"rl:test:{uuid.uuid4().hex}:")
    verdicts = await asyncio.gather(*(limiter.check([("caller", TWO)], now_ms=5_000) for _ in range(5)))
    assert [verdict.allowed for verdict in verdicts].count(True) == 2
    assert all(verdict.checked for verdict in verdicts)


async def test_a_refused_connection_is_a_redis_error_and_the_limiter_admits() -> None:
    client = PipelinedRedis(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=0.5)
    try:
        with pytest.raises(RedisConnectionError):
            await client.get("k")
        verdict = await RateLimiter(client).check([("k", TWO)])
        assert verdict.allowed and not verdict.checked
    finally:
        await client.aclose()


async def test_a_silent_redis_times_out_and_the_next_command_opens_a_new_connection() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = PipelinedRedis(f"redis://127.0.0.1:{port}/0", timeout_seconds=0.2)
    try:
        for attempt in (1, 2):
            with pytest.raises(RedisTimeoutError):
                await client.get("k")
            assert len(connections) == attempt
    finally:
        await client.aclose()
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_restarted_redis_is_reached_again(tmp_path: Path) -> None:
    embedded = EmbeddedRedis(tmp_path).start()
    client = PipelinedRedis(embedded.url, timeout_seconds=2.0)
    try:
        assert await client.get("k") is None
        embedded.stop()
        with pytest.raises(RedisError):
            await client.get("k")
        embedded.start()
        assert await client.get("k") is None
    finally:
        await client.aclose()
        embedded.stop()

"""The rate limiter's Redis client: one connection, every request's command pipelined on it.

Every request the gateway admits asks Redis once (gateway.admission), and redis-py's way there
(a connection taken from its pool and given back, its retry and timeout wrappers, a socket write
and read per command) cost more CPU than the rest of a proxied request. Here the commands issued
in one turn of the event loop leave in one write on one connection, and the replies, parsed by
hiredis, settle their callers in order. Nothing is counted locally: each request still waits for
its own script's verdict from the shared Redis, so the limits hold across replicas as before.

It speaks only what services.rate_limit.RateLimiter asks for (EVALSHA, SCRIPT LOAD, GET, and a
pipeline of them) and raises redis-py's exceptions, so the limiter's fail-open handling is the
same: a refused connection is a ConnectionError, a reply later than `timeout_seconds` a
TimeoutError (and the connection is dropped, the next command opens a new one).
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, cast
from urllib.parse import unquote, urlparse

import hiredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = str | bytes | int | float


def _encoded(value: Arg) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def pack(args: tuple[Arg, ...]) -> bytes:
    """One command in RESP (an array of bulk strings)."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        encoded = _encoded(arg)
        parts.append(b"$%d\r\n%s\r\n" % (len(encoded), encoded))
    return b"".join(parts)


def _reply(value: Any) -> Any:
    if isinstance(value, hiredis.ReplyError):
        message = str(value)
        if message.startswith("NOSCRIPT"):
            raise NoScriptError(message)
        raise ResponseError(message)
    return value


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.lost = False
        self._pending: list[bytes] = []
        self._flush_scheduled = False

    def send(self, command: tuple[Arg, ...]) -> asyncio.Future[Any]:
        """Queue `command`; the future settles with its reply (or the connection's failure)."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.lost:
            waiter.set_exception(RedisConnectionError("connection to Redis lost"))
            return waiter
        self.waiting.append(waiter)
        self._pending.append(pack(command))
        if not self._flush_scheduled:
            # Commands queued in this turn of the loop leave together, in one write.
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)
        return waiter

    def flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, []
        if pending and self.transport is not None and not self.lost:
            self.transport.write(b"".join(pending))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, though they behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        try:
            while (reply := self.reader.gets()) is not False:
                waiter = self.waiting.popleft()
                if not waiter.done():
                    waiter.set_result(reply)
        except (hiredis.ProtocolError, IndexError):
            self.abort("Redis sent an unreadable reply")

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._fail(RedisConnectionError(f"connection to Redis lost: {exc or 'closed'}"))

    def abort(self, why: str) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.abort()
        self._fail(RedisConnectionError(why))

    def _fail(self, error: Exception) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(error)


class PipelinedRedis:
    """See the module. `url` is `redis://[user:password@]host:port/db` or `unix:///path?db=N`."""

    def __init__(self, url: str, *, timeout_seconds: float, connect_timeout_seconds: float = 2.0) -> None:
        parsed = urlparse(url)
        self._unix_path = parsed.path if parsed.scheme == "unix" else None
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 6379
        if parsed.scheme == "unix":
            query = dict(part.split("=", 1) for part in parsed.query.split("&") if "=" in part)
            self._db = int(query.get("db", "0"))
        else:
            self._db = int(parsed.path.lstrip("/") or 0)
        self._username = unquote(parsed.username) if parsed.username else None
        self._password = unquote(parsed.password) if parsed.password else None
        self._timeout = timeout_seconds
        self._connect_timeout = min(connect_timeout_seconds, timeout_seconds)
        self._connection: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    async def _connected(self) -> _Connection:
        connection = self._connection
        if connection is not None and not connection.lost:
            return connection
        if self._connecting is None:
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        try:
            return await asyncio.shield(self._connecting)
        finally:
            if self._connecting is not None and self._connecting.done():
                self._connecting = None

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._connect_timeout):
                if self._unix_path is not None:
                    _, connection = await loop.create_unix_connection(_Connection, self._unix_path)
                else:
                    _, connection = await loop.create_connection(_Connection, self._host, self._port)
        except TimeoutError as exc:
            raise RedisTimeoutError("connecting to Redis timed out") from exc
        except OSError as exc:
            raise RedisConnectionError(f"cannot connect to Redis: {exc}") from exc
        handshake: list[tuple[Arg, ...]] = []
        if self._password is not None:
            handshake.append(("AUTH", self._username, self._password) if self._username else ("AUTH", self._password))
        if self._db:
            handshake.append(("SELECT", self._db))
        waiters = [connection.send(command) for command in handshake]
        try:
            for waiter in waiters:
                _reply(await self._within_timeout(connection, waiter))
        except ResponseError as exc:
            connection.abort("Redis refused the handshake")
            raise RedisConnectionError(f"Redis refused the handshake: {exc}") from exc
        self._connection = connection
        return connection

    async def _within_timeout(self, connection: _Connection, waiter: asyncio.Future[Any]) -> Any:
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self._timeout, self._expire, connection, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    def _expire(self, connection: _Connection, waiter: asyncio.Future[Any]) -> None:
        if waiter.done():
            return
        # Its reply may still come, behind others': the connection is dropped, not reused.
        waiter.set_exception(RedisTimeoutError(f"Redis did not answer within {self._timeout} s"))
        connection.abort("a command timed out")

    async def execute_many(self, commands: list[tuple[Arg, ...]]) -> list[Any]:
        """Replies of `commands`, sent in order in one write; the first error reply raises."""
        connection = await self._connected()
        waiters = [connection.send(command) for command in commands]
        replies = [await self._within_timeout(connection, waiter) for waiter in waiters]
        return [_reply(reply) for reply in replies]

    async def execute_command(self, *command: Arg) -> Any:
        return (await self.execute_many([command]))[0]

    async def evalsha(self, sha: str, numkeys: int, *keys_and_args: Arg) -> Any:
        return await self.execute_command("EVALSHA", sha, numkeys, *keys_and_args)

    async def script_load(self, script: str) -> Any:
        return await self.execute_command("SCRIPT", "LOAD", script)

    async def get(self, key: str) -> Any:
        return await self.execute_command("GET", key)

    def pipeline(self, transaction: bool = False) -> Pipeline:
        if transaction:
            raise ValueError("only plain pipelines (no MULTI/EXEC)")
        return Pipeline(self)

    async def aclose(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.close()
        self._connection = None


class Pipeline:
    """Commands collected, then sent together by `execute` (no transaction)."""

    def __init__(self, client: PipelinedRedis) -> None:
        self._client = client
        self._commands: list[tuple[Arg, ...]] = []

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Arg) -> Pipeline:
        self._commands.append(("EVALSHA", sha, numkeys, *keys_and_args))
        return self

    def get(self, key: str) -> Pipeline:
        self._commands.append(("GET", key))
        return self

    async def execute(self) -> list[Any]:
        commands, self._commands = self._commands, []
        return await self._client.execute_many(commands)

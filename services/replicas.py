"""Choosing among several replicas of one service, and when a failed request may be sent again.

Shared by the gateway's proxy path (aiohttp) and the services' clients to each other (httpx):
least-outstanding requests, ties broken round robin; a replica that refused a connection is
passed over for `down_seconds` while another one is up. Pure: no I/O, the clock injectable.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

DEFAULT_DOWN_SECONDS = 5.0
# Methods a client may repeat without changing anything (RFC 9110 §9.2.1, the ones the platform serves).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def parse_urls(listed: str, single: str) -> list[str]:
    """`CATALOG_URLS=http://a,http://b` as a list; the singular `CATALOG_URL` when none is listed."""
    urls = [url.strip().rstrip("/") for url in listed.split(",") if url.strip()]
    return urls or [single.rstrip("/")]


def may_repeat(method: str, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> bool:
    """A request that may reach a service twice: a safe method, or a write carrying an
    Idempotency-Key (the service answers its repeat from the first answer)."""
    if method.upper() in SAFE_METHODS:
        return True
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return any(name.lower() == "idempotency-key" and value for name, value in pairs)


@dataclass(slots=True, eq=False)
class Replica:
    base_url: str
    outstanding: int = 0
    down_until: float = 0.0


class ReplicaSet:
    """The replicas of one service. `acquire` before a request and `release` after it."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        down_seconds: float = DEFAULT_DOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not urls:
            raise ValueError("a replica set needs at least one URL")
        self.replicas = [Replica(url.rstrip("/")) for url in urls]
        self.down_seconds = down_seconds
        self._clock = clock
        self._turn = itertools.count()

    def __len__(self) -> int:
        return len(self.replicas)

    def choose(self, *, avoid: Collection[Replica] = ()) -> Replica | None:
        """The next replica to try, never one in `avoid`; None when none is left.

        Replicas marked down are chosen only when every other one is down too, the one back
        soonest first: a lone replica is still tried, so its return is noticed at once."""
        candidates = [replica for replica in self.replicas if replica not in avoid]
        if not candidates:
            return None
        now = self._clock()
        up = [replica for replica in candidates if replica.down_until <= now]
        if not up:
            return min(candidates, key=lambda replica: replica.down_until)
        least = min(replica.outstanding for replica in up)
        tied = [replica for replica in up if replica.outstanding == least]
        return tied[next(self._turn) % len(tied)]

    def acquire(self, *, avoid: Collection[Replica] = ()) -> Replica | None:
        replica = self.choose(avoid=avoid)
        if replica is not None:
            replica.outstanding += 1
        return replica

    def release(self, replica: Replica) -> None:
        replica.outstanding -= 1

    def mark_down(self, replica: Replica) -> None:
        replica.down_until = self._clock() + self.down_seconds

    def mark_up(self, replica: Replica) -> None:
        replica.down_until = 0.0

    def is_down(self, replica: Replica) -> bool:
        return replica.down_until > self._clock()

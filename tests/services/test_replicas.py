"""Choosing a replica: least outstanding, ties in turn, down ones passed over for a while."""

from __future__ import annotations

import pytest

from services.replicas import ReplicaSet, may_repeat, parse_urls


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_plural_setting_lists_replicas_and_the_singular_one_still_works() -> None:
    assert parse_urls("http://a:1, http://b:2/ ,", "http://single") == ["http://a:1", "http://b:2"]
    assert parse_urls("", "http://single/") == ["http://single"]


def test_idle_replicas_take_turns() -> None:
    replicas = ReplicaSet(["http://a", "http://b", "http://c"])
    chosen = [replicas.choose() for _ in range(6)]
    assert [replica.base_url for replica in chosen if replica] == ["http://a", "http://b", "http://c"] * 2


def test_the_replica_with_fewest_requests_in_flight_is_chosen() -> None:
    replicas = ReplicaSet(["http://a", "http://b"])
    busy = replicas.acquire()
    assert busy is not None and busy.outstanding == 1
    idle = replicas.acquire()
    assert idle is not None and idle is not busy
    replicas.acquire(avoid=[idle])
    # busy has two in flight, idle one: idle is chosen every time until busy catches up.
    assert all(replicas.choose() is idle for _ in range(4))
    replicas.release(busy)
    replicas.release(busy)
    assert busy.outstanding == 0
    assert all(replicas.choose() is busy for _ in range(4))


def test_a_replica_marked_down_is_passed_over_until_its_time_is_up() -> None:
    clock = Clock()
    replicas = ReplicaSet(["http://a", "http://b"], down_seconds=5, clock=clock)
    down, up = replicas.replicas
    replicas.mark_down(down)
    assert all(replicas.choose() is up for _ in range(4))
    clock.now += 4.9
    assert replicas.is_down(down)
    assert all(replicas.choose() is up for _ in range(4))
    clock.now += 0.2
    assert not replicas.is_down(down)
    assert {replicas.choose() for _ in range(2)} == {down, up}


def test_when_every_replica_is_down_the_one_back_soonest_is_still_tried() -> None:
    clock = Clock()
    replicas = ReplicaSet(["http://a", "http://b"], down_seconds=5, clock=clock)
    first, second = replicas.replicas
    replicas.mark_down(first)
    clock.now += 1
    replicas.mark_down(second)
    assert replicas.choose() is first
    assert replicas.choose(avoid=[first]) is second
    assert replicas.choose(avoid=[first, second]) is None


def test_a_lone_replica_is_always_tried() -> None:
    replicas = ReplicaSet(["http://only"])
    (only,) = replicas.replicas
    replicas.mark_down(only)
    assert replicas.choose() is only


def test_an_empty_replica_set_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ReplicaSet([])


@pytest.mark.parametrize(
    ("method", "headers", "repeatable"),
    [
        ("GET", {}, True),
        ("head", {}, True),
        ("POST", {}, False),
        ("PATCH", {"X-Other": "1"}, False),
        ("POST", {"Idempotency-Key": "k-1"}, True),
        ("POST", [("idempotency-key", "k-1")], True),
        ("POST", {"Idempotency-Key": ""}, False),
    ],
)
def test_only_safe_methods_and_keyed_writes_may_be_sent_twice(
    method: str, headers: dict[str, str] | list[tuple[str, str]], repeatable: bool
) -> None:
    assert may_repeat(method, headers) is repeatable

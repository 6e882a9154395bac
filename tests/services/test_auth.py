"""The token verifier remembers the tokens it accepted, never past their expiry."""

from __future__ import annotations

import time

import pytest

from services.auth import Principal, Role, TokenVerifier, issue_token
from services.errors import NotAuthenticated
from services.settings import SharedSettings

SETTINGS = SharedSettings()
STAFF = Principal(subject="staff-jxw", role=Role.STAFF, department_code="jxw")


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_an_accepted_token_is_refused_once_it_expires() -> None:
    clock = FakeClock()
    verifier = TokenVerifier(SETTINGS, clock=clock)
    token, ttl = issue_token(SETTINGS, STAFF)
    assert verifier.verify(token) == STAFF
    clock.now += ttl - 1
    assert verifier.verify(token) == STAFF
    clock.now += 2
    with pytest.raises(NotAuthenticated) as refused:
        verifier.verify(token)
    assert refused.value.code == "token_expired"
    with pytest.raises(NotAuthenticated):
        verifier.verify(token)


def test_a_token_signed_with_another_secret_is_refused_even_beside_a_remembered_one() -> None:
    verifier = TokenVerifier(SETTINGS)
    good, _ = issue_token(SETTINGS, STAFF)
    other = SharedSettings(jwt_secret="another-secret-of-sufficient-length-123")
    forged, _ = issue_token(other, Principal(subject="admin", role=Role.ADMIN))
    assert verifier.verify(good) == STAFF
    for _ in range(2):
        with pytest.raises(NotAuthenticated) as refused:
            verifier.verify(forged)
        assert refused.value.code == "invalid_token"


def test_a_full_memory_starts_over_and_keeps_verifying() -> None:
    verifier = TokenVerifier(SETTINGS, max_entries=2)
    principals = [Principal(subject=f"enterprise-{n}", role=Role.ENTERPRISE, enterprise_id=f"e{n}") for n in range(5)]
    tokens = [issue_token(SETTINGS, principal)[0] for principal in principals]
    for _ in range(2):
        for token, principal in zip(tokens, principals, strict=True):
            assert verifier.verify(token) == principal
            assert 1 <= len(verifier) <= 2

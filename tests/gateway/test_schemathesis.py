"""Property-based fuzzing of the merged schema against the running gateway.

Each operation of the gateway's merged document gets generated requests (as admin for writes,
so that they reach the handlers, anonymous for reads); no response may be a server error or
disagree with the document. Operations are driven one by one rather than through
schemathesis' lazy pytest fixture, which does not support this pytest version.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live_platform import LivePlatform

pytestmark = pytest.mark.live

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_server_error_and_no_schema_violation(live: LivePlatform) -> None:
    schema = schemathesis.openapi.from_url(f"{live.gateway_url}/openapi.json")
    admin = {"Authorization": f"Bearer {live.admin_token}"}
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def exercise(case: schemathesis.Case) -> None:
            headers = admin if case.method != "GET" else None
            case.call_and_validate(base_url=live.gateway_url, headers=headers, checks=CHECKS, timeout=10)

        try:
            exercise()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures[f"{operation.method.upper()} {operation.path}"] = str(exc)[:2000]
    assert operations >= 20
    assert not failures, "\n\n".join(f"{name}:\n{text}" for name, text in failures.items())

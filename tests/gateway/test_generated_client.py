"""A front end's first day: a Python client generated from the merged document (with
openapi-python-client, as a third party would) runs a whole case against the live platform,
and every answer parses into the generated models.

The client is generated once per run, into a temporary directory, from the document the live
gateway serves; its package name comes from the document's title, so importing it proves the
title makes an importable package.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.live_platform import LivePlatform
from tests.support import DEMO_PASSWORD, wait_until

PACKAGE = "enterprise_service_platform_965808_client"


def _whole_document(gateway_url: str) -> dict[str, Any]:
    """The merged document once every service has answered for it (a busy service may not at first)."""
    found: dict[str, Any] = {}

    def complete() -> bool:
        found.clear()
        found.update(httpx.get(f"{gateway_url}/openapi.json", timeout=30).json())
        return "x-unavailable-services" not in found["info"]

    assert wait_until(complete, timeout=60, interval=1), found["info"].get("x-unavailable-services")
    return found


@pytest.fixture(scope="module")
def generated(live: LivePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated client's package, imported from a fresh directory."""
    directory = tmp_path_factory.mktemp("generated-client")
    document = directory / "openapi.json"
    document.write_text(json.dumps(_whole_document(live.gateway_url)))
    config = directory / "config.yaml"
    config.write_text("post_hooks: []\n")  # formatting the generated code is not what is tested
    command = [str(Path(sys.executable).with_name("openapi-python-client")), "generate"]
    command += ["--path", str(document), "--meta", "none", "--config", str(config), "--output-path", PACKAGE]
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(directory))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def _login(package: ModuleType, base_url: str, username: str) -> Any:
    models = _module(package, "models")
    issue_token = _module(package, "api.auth.issue_token")
    client = _module(package, "client").Client(base_url=base_url, raise_on_unexpected_status=True)
    answer = issue_token.sync_detailed(
        client=client, body=models.BodyIssueToken(username=username, password=DEMO_PASSWORD)
    )
    assert answer.status_code == 200
    assert isinstance(answer.parsed, models.TokenRead)
    return _module(package, "client").AuthenticatedClient(
        base_url=base_url, token=answer.parsed.access_token, raise_on_unexpected_status=True
    )


def _chain_hash(prev_hash: str, ticket_id: str, event: Any) -> str:
    """The audit chain's rule as the document's `tickets` tag states it, computed on the client."""
    at = event.at.astimezone(UTC).isoformat()
    content = {
        "ticket_id": ticket_id,
        "seq": event.seq,
        "action": event.action,
        "actor": event.actor,
        "role": event.role,
        "at": at,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event.note,
        "changes": event.changes.to_dict(),
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def test_a_whole_case_runs_through_the_generated_client(generated: ModuleType, live: LivePlatform) -> None:
    package = generated
    models = _module(package, "models")
    api = "api"
    anonymous = _module(package, "client").Client(base_url=live.gateway_url, raise_on_unexpected_status=True)

    menu = _module(package, f"{api}.menus.get_current_menu").sync_detailed(client=anonymous)
    assert menu.status_code == 200 and isinstance(menu.parsed, models.MenuDetail)

    enterprise = _login(package, live.gateway_url, "enterprise-1")
    me = _module(package, f"{api}.auth.get_me").sync(client=enterprise)
    assert isinstance(me, models.MeRead) and me.enterprise_id
    profile = _module(package, f"{api}.enterprises.get_enterprise").sync(me.enterprise_id, client=enterprise)
    assert isinstance(profile, models.EnterpriseRead)
    size = str(profile.size.value if hasattr(profile.size, "value") else profile.size)
    eligible = [
        item for item in menu.parsed.items if size in {str(getattr(s, "value", s)) for s in item.eligible_sizes}
    ]
    assert len(eligible) >= 2, "the seeded menu has two items for this enterprise"
    lines = [models.OrderLine(item_code=item.code, note="生成客户端下单") for item in eligible[:2]]

    create_order = _module(package, f"{api}.orders.create_order")
    key = str(uuid.uuid4())
    first = create_order.sync_detailed(client=enterprise, body=models.OrderCreate(items=lines), idempotency_key=key)
    assert first.status_code == 201 and isinstance(first.parsed, models.OrderRead), first.content
    assert len(first.parsed.tickets) == 2
    assert "idempotent-replayed" not in first.headers
    replay = create_order.sync_detailed(client=enterprise, body=models.OrderCreate(items=lines), idempotency_key=key)
    assert replay.status_code == 201 and isinstance(replay.parsed, models.OrderRead)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.parsed.id == first.parsed.id

    ticket = first.parsed.tickets[0]
    staff = _login(package, live.gateway_url, f"staff-{ticket.department_code}")
    version = ticket.version
    steps = [
        ("accept_ticket", models.AcceptBody(note="已受理，将尽快联系贵公司。")),
        ("start_ticket", models.EmptyBody()),
        ("resolve_ticket", models.ResolveBody(result="已办结：辅导材料已准备齐全。")),
    ]
    for operation, body in steps:
        answer = _module(package, f"{api}.ticket_actions.{operation}").sync_detailed(
            ticket.id, client=staff, body=body, if_match=f'"{version}"'
        )
        assert answer.status_code == 200, answer.content
        assert isinstance(answer.parsed, models.TicketRead)
        assert answer.headers["etag"] == f'"{answer.parsed.version}"'
        version = answer.parsed.version
    assert str(getattr(answer.parsed.status, "value", answer.parsed.status)) == "resolved"

    stale = _module(package, f"{api}.ticket_actions.close_ticket").sync_detailed(
        ticket.id, client=enterprise, body=models.EmptyBody(), if_match=f'"{version - 1}"'
    )
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.VersionMismatchProblem)
    assert stale.parsed.current_version == version

    rating = _module(package, f"{api}.tickets.rate_ticket").sync_detailed(
        ticket.id, client=enterprise, body=models.FeedbackCreate(rating=models.FeedbackCreateRating.SATISFIED)
    )
    assert rating.status_code == 201 and isinstance(rating.parsed, models.FeedbackRead)
    after = _module(package, f"{api}.tickets.get_ticket").sync(ticket.id, client=enterprise)
    assert isinstance(after, models.TicketRead)
    assert str(getattr(after.status, "value", after.status)) == "resolved", "a satisfied rating closes nothing"

    events = _module(package, f"{api}.tickets.list_ticket_events").sync(ticket.id, client=enterprise)
    assert isinstance(events, list) and all(isinstance(event, models.TicketEventRead) for event in events)
    assert [event.action for event in events][-4:] == ["accept", "start", "resolve", "feedback"]
    prev_hash = "0" * 64
    for event in events:
        assert event.prev_hash == prev_hash
        assert _chain_hash(prev_hash, ticket.id, event) == event.hash_, event.seq
        prev_hash = event.hash_
    supervisor = _login(package, live.gateway_url, "supervisor")
    verified = _module(package, f"{api}.tickets.verify_ticket_events").sync(ticket.id, client=supervisor)
    assert isinstance(verified, models.ChainVerification) and verified.ok and verified.events == len(events)


def test_problems_parse_into_the_generated_problem_models(generated: ModuleType, live: LivePlatform) -> None:
    models = _module(generated, "models")
    anonymous = _module(generated, "client").Client(base_url=live.gateway_url)
    unauthenticated = _module(generated, "api.tickets.get_ticket").sync_detailed("no-such-ticket", client=anonymous)
    assert unauthenticated.status_code == 401
    assert isinstance(unauthenticated.parsed, models.Problem)
    assert str(getattr(unauthenticated.parsed.code, "value", unauthenticated.parsed.code)) == "not_authenticated"
    enterprise = _login(generated, live.gateway_url, "enterprise-1")
    missing = _module(generated, "api.tickets.get_ticket").sync_detailed("no-such-ticket", client=enterprise)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem)
    assert str(getattr(missing.parsed.code, "value", missing.parsed.code)) == "ticket_not_found"

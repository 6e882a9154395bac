"""Property-based fuzzing of the merged public document against the running platform.

Schemathesis generates requests from the gateway's document for every operation, as each
role a front end logs in with and anonymously, and checks every answer: no server error, the
status, content type and body as the document declares them, and no request that the document
allows refused as invalid (`positive_data_acceptance`; an operation refusing most of what it
is sent fails the run too, `validation_mismatch`). So the document states the validation the
services do, and a client generated from it sends only what is accepted.

The command line runs it (its warnings live there), once per role, with a fixed seed and a
bounded number of examples per operation; `schemathesis_hooks.py` gives generated requests
real references from the platform's data (which records exist is not the document's to state).

Then its stateful phase walks tickets' lives through the document's links: orders created,
each ticket accepted, started, resolved, rated, closed, reopened... A phase runs with one token,
and no role takes a ticket through its life alone (the enterprise orders and rates, its
department's staff accept and resolve, the dispatcher transfers, the supervisor escalates), so it
runs once, as the parties: the enterprise's run, whose hooks send each step with the token of
whoever takes it. It must follow a good part of the links and find nothing; it runs on the
ticket and order operations only, the ones whose links make a life (the others' links lead
from a create to its read and changes, which the fuzzing already reaches by real references).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis

from services.settings import PROJECT_ROOT
from tests.live_platform import LivePlatform, running_platform
from tests.support import DEMO_PASSWORD

pytestmark = pytest.mark.live

HERE = Path(__file__).parent
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "positive_data_acceptance",
)
# The enterprise first: the others' writes change what it may order. Withdrawals and deactivations
# last, in a run of their own: they take away the departments, items and logins the others name.
ROLES = ("enterprise-1", "staff-jxw", None, "dispatcher", "admin")
DESTRUCTIVE = r"/(withdraw|deactivate)$"
EXAMPLES_PER_OPERATION = 6
# The parties' walk: its scenarios (up to `max-steps` each, schemathesis.toml) and the links of
# the tickets' lives it must follow at least (63 to 89 of 191 were seen, in 8 to 17 s).
LIFE = r"^/api/v1/(orders|tickets)"
SCENARIOS = 10
LINKS_FOLLOWED = 50
LINKS = re.compile(r"API Links:\s+(?P<covered>\d+) covered / (?P<selected>\d+) selected")


@pytest.fixture(scope="module")
def fuzzed(
    database_url: str, base_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LivePlatform]:
    """A platform of its own, on a Redis database of its own too: the fuzzing withdraws departments,
    publishes menus, deactivates accounts and changes roles (token versions live on Redis), which
    the other live tests must not find done."""
    redis_url = _own_redis_database(base_env["REDIS_URL"])
    redis.Redis.from_url(redis_url).flushdb()
    env = {**base_env, "REDIS_URL": redis_url}
    with running_platform(database_url, env, tmp_path_factory.mktemp("fuzzed"), broken=False) as platform:
        yield platform
    redis.Redis.from_url(redis_url).flushdb()


def _own_redis_database(url: str) -> str:
    """The same server, database number + 8 (CI's runs use 1 and 2; the fuzzing then 9 and 10)."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(number + 8) % 16}"))


def _all(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(path, params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})})
        page.raise_for_status()
        rows += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return rows


def _live_data(live: LivePlatform) -> dict[str, Any]:
    """The records generated requests may name."""
    admin = {"Authorization": f"Bearer {live.admin_token}"}
    with httpx.Client(base_url=f"{live.gateway_url}/api/v1", headers=admin, timeout=10) as client:
        menu = client.get("/menus/current").json()
        return {
            "departments": [row["code"] for row in _all(client, "/departments", status="active")],
            "categories": [row["code"] for row in _all(client, "/categories", status="active")],
            "policies": [row["code"] for row in _all(client, "/policies")],
            "items": [row["code"] for row in _all(client, "/items")],
            # enterprise-1 is small; its orders name items of the current menu open to small enterprises.
            "orderable_items": [item["code"] for item in menu["items"] if "small" in item["eligible_sizes"]],
            "enterprises": [row["id"] for row in _all(client, "/enterprises")],
            "login": {"username": "dispatcher", "password": DEMO_PASSWORD},
            "gateway_url": live.gateway_url,
        }


def _token(live: LivePlatform, username: str) -> str:
    response = httpx.post(
        f"{live.gateway_url}/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _fuzz(
    live: LivePlatform,
    username: str | None,
    live_data: dict[str, Any],
    where: Path,
    *selection: str,
    as_parties: bool = False,
) -> subprocess.CompletedProcess[str]:
    authorization = f"Bearer {_token(live, username)}" if username else ""
    # Acting as the parties, the hooks set each request's token themselves.
    auth = ["--header", f"Authorization: {authorization}"] if username and not as_parties else []
    phases = ["--phases", "stateful", "--max-examples", str(SCENARIOS)] if as_parties else []
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{live.gateway_url}/openapi.json",
        *auth,
        *selection,
        "--checks",
        ",".join(CHECKS),
        "--mode",
        "positive",
        *(phases or ["--phases", "examples,fuzzing", "--max-examples", str(EXAMPLES_PER_OPERATION)]),
        "--seed",
        "965808",
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "SCHEMATHESIS_HOOKS": "tests.gateway.schemathesis_hooks",
        "PLATFORM_LIVE_DATA": json.dumps(live_data),
        "PLATFORM_FUZZ_ROLE": username or "",
        "PLATFORM_FUZZ_AUTHORIZATION": authorization,
        "PLATFORM_FUZZ_AS_PARTIES": "1" if as_parties else "",
    }
    # In a scratch directory: the command line keeps its cache where it runs.
    return subprocess.run(command, env=env, cwd=where, capture_output=True, text=True, timeout=300)


def test_every_role_finds_no_server_error_no_schema_violation_and_no_validation_mismatch(
    fuzzed: LivePlatform, tmp_path: Path
) -> None:
    live = fuzzed
    live_data = _live_data(live)
    assert all(live_data[kind] for kind in ("departments", "categories", "items", "orderable_items", "enterprises"))
    runs = [(username, ("--exclude-path-regex", DESTRUCTIVE)) for username in ROLES]
    reports = {}
    for username, selection in runs:
        _record(reports, _fuzz(live, username, live_data, tmp_path, *selection), username, selection)
    # Before the withdrawals: the walk needs the items it orders and the staff who handle them; and
    # on the menu as the other runs left it (the admin's published another).
    walk = _fuzz(live, "enterprise-1", _live_data(live), tmp_path, "--include-path-regex", LIFE, as_parties=True)
    _record(reports, walk, "the parties", ("--phases", "stateful"))
    selection = ("--include-path-regex", DESTRUCTIVE)
    _record(reports, _fuzz(live, "admin", live_data, tmp_path, *selection), "admin", selection)
    assert not reports, "\n\n".join(f"as {role}:\n{text}" for role, text in reports.items())
    links = LINKS.search(walk.stdout)
    assert links is not None, walk.stdout[-3000:]
    # A step that raised (a hook's error, a timeout) ends its scenario without failing the run.
    assert ", 0 errored" in walk.stdout or " errored" not in walk.stdout, walk.stdout[-3000:]
    assert int(links["covered"]) >= LINKS_FOLLOWED, f"the walk followed {links[0]}:\n{walk.stdout[-3000:]}"


def _record(
    reports: dict[str, str], run: subprocess.CompletedProcess[str], username: str | None, selection: tuple[str, ...]
) -> None:
    name = f"{username or 'anonymous'} {' '.join(selection)}"
    assert "Tested:" in run.stdout, f"{name}: {run.stdout[-2000:]}{run.stderr[-2000:]}"
    if run.returncode != 0:
        reports[name] = run.stdout[-6000:] + run.stderr[-2000:]

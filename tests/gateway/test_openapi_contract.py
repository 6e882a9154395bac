"""The public OpenAPI document is the contract front ends and the hotline build on: any change
to it shows up here, against the copy committed beside this test.

An intended change regenerates the copy (`OPENAPI_SNAPSHOT_UPDATE=1 make test
PYTEST_ARGS=tests/gateway/test_openapi_contract.py`) and says so in its commit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

from gateway.openapi_export import platform_document

SNAPSHOT = Path(__file__).with_name("openapi_public.json")


def _differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(set(expected) | set(actual)):
            where = f"{path}/{key}"
            if key not in actual:
                found.append(f"removed {where}")
            elif key not in expected:
                found.append(f"added {where}")
            else:
                found += _differences(expected[key], actual[key], where)
        return found
    return [] if expected == actual else [f"changed {path}"]


async def test_public_document_equals_the_committed_copy(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    if os.environ.get("OPENAPI_SNAPSHOT_UPDATE") == "1":
        SNAPSHOT.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    committed = json.loads(SNAPSHOT.read_text())
    differences = _differences(committed, document)
    assert not differences, "the public OpenAPI document changed:\n" + "\n".join(differences[:50])
    assert list(document["paths"]) == list(committed["paths"]), "the order of the paths changed"


def test_the_exported_document_is_the_served_one() -> None:
    """CI lints what `gateway.openapi_export` writes: it must be the document the gateway serves."""
    differences = _differences(json.loads(SNAPSHOT.read_text()), platform_document())
    assert not differences, "the exported document differs:\n" + "\n".join(differences[:50])


def test_differences_name_each_changed_place() -> None:
    before = {"paths": {"/a": {"get": {"summary": "A"}}, "/b": {}}}
    after = {"paths": {"/a": {"get": {"summary": "A!"}}, "/c": {}}}
    assert _differences(before, after) == ["changed /paths//a/get/summary", "removed /paths//b", "added /paths//c"]

"""The merged OpenAPI document says what the platform does: names, who may call, headers,
problem codes, security and links, each checked against the platform's own behaviour."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from gateway.openapi import SERVICE_PACKAGES
from services.errors import ProblemError, problem_classes, problem_codes
from services.openapi import operations
from tests.support import bearer, login

ROOT = Path(__file__).resolve().parents[2]
OPERATION_ID = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture
async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200
    merged: dict[str, Any] = answer.json()
    assert "x-unavailable-services" not in merged["info"]
    return merged


async def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


async def test_operation_ids_are_short_snake_case_and_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _path, _method, operation in operations(document)]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert all(OPERATION_ID.match(i) and len(i) <= 32 for i in ids), [i for i in ids if not OPERATION_ID.match(i)]
    assert {"list_items", "create_order", "accept_ticket", "issue_token", "get_current_menu"} <= set(ids)


async def test_every_operation_is_summarised_and_says_who_may_call_it(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        where = (method, path)
        assert operation["summary"] and not operation["summary"].endswith("."), where
        assert "**Who may call:**" in operation["description"], where
        for status, response in operation["responses"].items():
            assert response["description"] not in {"", "Successful Response"}, (where, status)


async def test_roles_in_a_description_are_the_ones_the_route_lets_in(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    create_item = document["paths"]["/api/v1/items"]["post"]
    assert "role `admin`;" in create_item["description"]
    enterprise = bearer(await login(client, "enterprise-1"))
    refused = await client.post("/api/v1/items", json={}, headers=enterprise)
    assert (refused.status_code, refused.json()["code"]) == (403, "role_not_allowed")


async def test_anonymous_reads_declare_optional_security_and_answer_without_a_token(
    client: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    optional = []
    for path, method, operation in operations(document):
        security = operation.get("security")
        if security and {} in security:
            optional.append(path)
            if method == "get" and "{" not in path:
                assert (await client.get(path)).status_code == 200, path
    assert {"/api/v1/items", "/api/v1/menus/current", "/api/v1/departments"} <= set(optional)
    tickets = document["paths"]["/api/v1/tickets"]["get"]
    assert {} not in tickets["security"]
    assert (await client.get("/api/v1/tickets")).status_code == 401


async def test_both_oauth2_flows_and_the_servers_are_declared(document: dict[str, Any]) -> None:
    flows = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert set(flows) == {"password", "clientCredentials"}
    assert {flow["tokenUrl"] for flow in flows.values()} == {"/api/v1/auth/token"}
    assert document["servers"] and document["info"]["contact"] and document["info"]["license"]
    assert re.fullmatch(r"[A-Za-z][A-Za-z0-9 ]*", document["info"]["title"])


# Problems


def _loaded_problem_codes() -> dict[str, str]:
    for package in SERVICE_PACKAGES.values():
        __import__(f"{package}.errors")
    return problem_codes()


async def test_problem_codes_are_a_closed_list_read_from_the_problem_classes(document: dict[str, Any]) -> None:
    code = document["components"]["schemas"]["Problem"]["properties"]["code"]
    assert code["enum"] == list(_loaded_problem_codes())
    for name, meaning in _loaded_problem_codes().items():
        assert f"- `{name}`: {meaning}" in code["description"]
    invalid = document["components"]["schemas"]["ValidationProblem"]["properties"]["code"]["enum"]
    assert {"validation_error", "unknown_reference", "idempotency_key_reused"} <= set(invalid) < set(code["enum"])


def _problem_class_names() -> set[str]:
    _loaded_problem_codes()
    return {cls.__name__ for cls in problem_classes()}


def _literal_codes(tree: ast.AST, classes: set[str]) -> list[tuple[int, str]]:
    """Every code a problem is raised with in the source: `code="..."` in a problem's
    construction (or its `super().__init__`), or a problem class's `code` first argument."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in classes and name != "__init__":
            continue
        for keyword in node.keywords:
            if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                found.append((node.lineno, str(keyword.value.value)))
        if name in classes and node.args and isinstance(node.args[0], ast.Constant):
            cls = next(c for c in problem_classes() if c.__name__ == name)
            parameters = list(inspect.signature(cls.__init__).parameters)
            if parameters[1:2] == ["code"]:
                found.append((node.lineno, str(node.args[0].value)))
    return found


def test_every_code_the_source_raises_is_in_the_closed_list() -> None:
    codes = _loaded_problem_codes()
    classes = _problem_class_names()
    packages = ["services", *SERVICE_PACKAGES.values()]
    unknown = []
    for package in packages:
        for source in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(source.read_text())
            unknown += [f"{source.relative_to(ROOT)}:{line}: {code}" for line, code in _literal_codes(tree, classes)]
    unknown = [entry for entry in unknown if entry.rsplit(": ", 1)[1] not in codes]
    assert not unknown, unknown


def test_each_problem_class_declares_the_code_it_answers_with() -> None:
    _loaded_problem_codes()
    for cls in problem_classes():
        if cls is ProblemError:
            continue  # the base's default is BadRequest's
        declared = set().union(*(vars(base).get("codes", {}) for base in cls.__mro__ if issubclass(base, ProblemError)))
        assert cls.code in declared, cls


async def test_problems_a_client_meets_carry_listed_codes(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    listed = set(document["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    answers = [
        await client.get("/api/v1/items/NO-SUCH"),
        await client.get("/api/v1/tickets"),
        await client.delete("/api/v1/items"),
        await client.post("/api/v1/auth/token", data={"grant_type": "password"}),
        await client.post("/api/v1/orders", content=b"{", headers={"content-type": "application/json"}),
    ]
    assert [answer.status_code for answer in answers] == [404, 401, 405, 400, 400]
    assert answers[4].json()["code"] == "malformed_json"
    for answer in answers:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] in listed, answer.json()
    assert "GET" in answers[2].headers["allow"]


async def test_problems_with_extra_fields_have_their_own_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    version = schemas["VersionMismatchProblem"]
    assert version["allOf"][0] == {"$ref": "#/components/schemas/Problem"}
    assert version["allOf"][1]["required"] == ["current_version"]
    assert version["allOf"][1]["properties"]["code"]["enum"] == ["version_mismatch"]
    state = schemas["StateProblem"]["allOf"][1]
    assert set(state["required"]) == {"state", "action"}
    assert {"action_forbidden", "invalid_state", "invalid_transition"} <= set(state["properties"]["code"]["enum"])
    accept = document["paths"]["/api/v1/tickets/{ticket_id}/accept"]["post"]["responses"]
    refs = {option["$ref"] for option in accept["412"]["content"]["application/problem+json"]["schema"]["anyOf"]}
    assert "#/components/schemas/VersionMismatchProblem" in refs
    conflict = accept["409"]["content"]["application/problem+json"]["schema"]["anyOf"]
    assert {"$ref": "#/components/schemas/StateProblem"} in conflict


# Headers


async def test_declared_headers_are_the_ones_answers_carry(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    item = document["paths"]["/api/v1/items/{code}"]["get"]
    assert {"name": "If-None-Match", "in": "header"}.items() <= item["parameters"][-1].items()
    assert {"ETag", "X-Request-ID", "Cache-Control"} <= set(item["responses"]["200"]["headers"])
    read = await client.get("/api/v1/items/KJ-001", headers={"X-Request-ID": "doc-check-1"})
    assert read.status_code == 200 and read.headers["x-request-id"] == "doc-check-1"
    again = await client.get("/api/v1/items/KJ-001", headers={"If-None-Match": read.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == read.headers["etag"]

    create = document["paths"]["/api/v1/departments"]["post"]["responses"]["201"]["headers"]
    assert "Location" in create
    admin = bearer(await login(client, "admin"))
    created = await client.post("/api/v1/departments", json={"code": "doc-loc", "name": "文档检查局"}, headers=admin)
    assert created.status_code == 201
    assert created.headers["location"] == "/api/v1/departments/doc-loc"
    assert (await client.get(created.headers["location"])).status_code == 200

    order = document["paths"]["/api/v1/orders"]["post"]
    assert "Idempotent-Replayed" in order["responses"]["201"]["headers"]
    assert "Location" not in order["responses"]["201"]["headers"], "no order is readable at its own path"
    action = document["paths"]["/api/v1/tickets/{ticket_id}/accept"]["post"]
    if_match = next(p for p in action["parameters"] if p["name"] == "If-Match")
    assert '`"3"`' in if_match["description"]
    assert "412" in action["responses"] and "ETag" in action["responses"]["200"]["headers"]


async def test_every_503_and_429_declares_retry_after_and_every_body_its_413(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for status in ("429", "503"):
            if status in operation["responses"]:
                assert "Retry-After" in operation["responses"][status]["headers"], (method, path, status)
        if "requestBody" in operation:
            assert "413" in operation["responses"], (method, path)
        assert "405" in operation["responses"], (method, path)


async def test_creates_link_to_what_can_be_done_next(document: dict[str, Any]) -> None:
    ticket = document["paths"]["/api/v1/tickets"]["post"]["responses"]["201"]["links"]
    assert ticket["accept_ticket"]["parameters"] == {
        "path.ticket_id": "$response.body#/id",
        "header.If-Match": "$response.body#/version",
    }
    order = document["paths"]["/api/v1/orders"]["post"]["responses"]["201"]["links"]
    assert order["get_ticket"]["parameters"] == {"path.ticket_id": "$response.body#/tickets/0/id"}
    accepted = document["paths"]["/api/v1/tickets/{ticket_id}/accept"]["post"]["responses"]["200"]["links"]
    assert {"start_ticket", "resolve_ticket", "list_ticket_events"} <= set(accepted)
    ids = {operation["operationId"] for _path, _method, operation in operations(document)}
    for _path, _method, operation in operations(document):
        for response in operation["responses"].values():
            assert {link["operationId"] for link in response.get("links", {}).values()} <= ids


async def test_a_tickets_links_follow_its_life_cycle(client: httpx.AsyncClient, document: dict[str, Any]) -> None:
    paths = document["paths"]
    created = set(paths["/api/v1/tickets"]["post"]["responses"]["201"]["links"])
    assert {"accept_ticket", "transfer_ticket", "withdraw_ticket"} <= created
    assert not {"start_ticket", "resolve_ticket", "rate_ticket", "close_ticket", "reopen_ticket"} & created
    resolved = set(paths["/api/v1/tickets/{ticket_id}/resolve"]["post"]["responses"]["200"]["links"])
    assert {"rate_ticket", "close_ticket", "reopen_ticket"} <= resolved and "accept_ticket" not in resolved
    read = paths["/api/v1/tickets/{ticket_id}"]["get"]["responses"]["200"]
    assert {"accept_ticket", "resolve_ticket", "rate_ticket"} <= set(read["links"]) and "ETag" in read["headers"]
    rated = paths["/api/v1/tickets/{ticket_id}/feedback"]["post"]["responses"]["201"]["links"]
    assert rated["rule_out_rating"]["parameters"] == {
        "path.ticket_id": "$response.body#/ticket_id",
        "path.resolution_round": "$response.body#/resolution_round",
    }
    assert "header.If-Match" not in rated["close_ticket"]["parameters"], "a rating has no version to send"

    enterprise = bearer(await login(client, "enterprise-1"))
    menu = (await client.get("/api/v1/menus/current")).json()
    item = next(item["code"] for item in menu["items"] if "small" in item["eligible_sizes"])
    order = await client.post("/api/v1/orders", json={"items": [{"item_code": item}]}, headers=enterprise)
    ticket = order.json()["tickets"][0]
    answer = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=enterprise)
    assert answer.headers["etag"] == f'"{ticket["version"]}"'


async def test_request_bodies_of_a_case_have_examples(document: dict[str, Any]) -> None:
    for path in ("/api/v1/orders", "/api/v1/tickets", "/api/v1/tickets/{ticket_id}/feedback"):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["examples"], path
    for path, method, operation in operations(document):
        if path.startswith("/api/v1/tickets/{ticket_id}/") and method == "post" and "requestBody" in operation:
            assert operation["requestBody"]["content"]["application/json"].get("examples"), path


async def test_the_ticket_tags_state_the_rules_a_client_needs(document: dict[str, Any]) -> None:
    tags = {tag["name"]: tag["description"] for tag in document["tags"]}
    assert "| `reopen` |" in tags["ticket actions"] and "412 `version_mismatch`" in tags["ticket actions"]
    assert "close nothing" in tags["tickets"] and "SHA-256" in tags["tickets"]
    assert "`idempotency_key_reused`" in tags["orders"]


async def test_proxied_operations_declare_the_gateways_own_502_and_504(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        proxied = path.startswith("/api/v1/") and not path.startswith(("/api/v1/auth/", "/api/v1/accounts"))
        assert ({"502", "504"} <= set(operation["responses"])) == proxied, (method, path)

"""Invisible and reordering characters are refused in request text, through the HTTP API of each
service: 422 naming the field, nothing stored; line breaks and tabs stay allowed in long texts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.catalog_service.helpers import API, assert_problem, category_payload, department_payload, item_payload
from tests.conftest import Platform
from tests.ticket_service.helpers import E1, count, file_request, order, order_one
from ticket_service.models import Ticket

FORBIDDEN = {
    "NUL": "\x00",
    "bell": "\x07",
    "RIGHT-TO-LEFT OVERRIDE": "\u202e",
    "LEFT-TO-RIGHT EMBEDDING": "\u202a",
    "RIGHT-TO-LEFT ISOLATE": "\u2067",
    "POP DIRECTIONAL ISOLATE": "\u2069",
    "ZERO WIDTH SPACE": "\u200b",
    "ZERO WIDTH JOINER": "\u200d",
    "BYTE ORDER MARK": "\ufeff",
}


def _assert_refused(response: object, *loc: str | int) -> None:
    body = assert_problem(response, 422, "validation_error")  # type: ignore[arg-type]
    errors = [error for error in body["errors"] if error["loc"] == ["body", *loc]]
    assert errors, body["errors"]
    assert errors[0]["type"] == "forbidden_character"
    assert ".".join(str(part) for part in loc) in body["detail"]


@pytest.mark.parametrize("character", FORBIDDEN.values(), ids=FORBIDDEN.keys())
async def test_a_ticket_title_with_a_forbidden_character_is_refused(
    platform: Platform, session: AsyncSession, character: str
) -> None:
    before = await count(session, Ticket)
    _assert_refused(await file_request(platform, title=f"用电增容{character}审批"), "title")
    assert await count(session, Ticket) == before


async def test_ticket_descriptions_notes_and_enterprise_fields_are_checked(platform: Platform) -> None:
    _assert_refused(await file_request(platform, description="正文\x00结尾"), "description")
    _assert_refused(await order(platform, "enterprise-1", "LS-001", notes=["备注\u2066隐藏"]), "items", 0, "note")
    ticket = await order_one(platform)
    staff = await platform.auth(f"staff-{ticket['department_code']}")
    accept = await platform.client.post(
        f"{API}/tickets/{ticket['id']}/accept", json={"note": "已受理\u202e"}, headers=staff
    )
    _assert_refused(accept, "note")
    edit = await platform.client.patch(
        f"{API}/enterprises/{E1}", json={"contact_name": "\ufeff王经理"}, headers=await platform.auth("dispatcher")
    )
    _assert_refused(edit, "contact_name")


async def test_line_breaks_and_tabs_stay_allowed_in_long_texts(platform: Platform) -> None:
    description = "第一行\n第二行\r\n\t缩进的第三行"
    response = await file_request(platform, description=description)
    assert response.status_code == 201, response.text
    assert response.json()["description"] == description


async def test_catalogue_fields_are_checked(platform: Platform) -> None:
    admin = await platform.auth("admin")
    department = await platform.client.post(
        f"{API}/departments", json=department_payload(name="市\u202e部门"), headers=admin
    )
    _assert_refused(department, "name")
    category = await platform.client.post(
        f"{API}/categories", json=category_payload(description="说明\x00"), headers=admin
    )
    _assert_refused(category, "description")
    item = await platform.client.post(
        f"{API}/items", json=item_payload(required_materials=["申请表\u200b"]), headers=admin
    )
    _assert_refused(item, "required_materials")
    fine = await platform.client.post(
        f"{API}/categories", json=category_payload(description="第一段\n\n第二段\t完"), headers=admin
    )
    assert fine.status_code == 201, fine.text


async def test_gateway_account_fields_are_checked(platform: Platform) -> None:
    body = {
        "username": "forbidden-chars",
        "password": "a-long-enough-password",
        "role": "supervisor",
        "display_name": "督查\u202d员",
    }
    response = await platform.client.post(f"{API}/accounts", json=body, headers=await platform.auth("admin"))
    _assert_refused(response, "display_name")


def _request_body_strings(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if schema.get("type") == "string":
        yield path, schema
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, ()):
            yield from _request_body_strings(option, path)
    for name, field in schema.get("properties", {}).items():
        yield from _request_body_strings(field, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _request_body_strings(schema["items"], f"{path}[]")


async def test_the_document_states_the_text_rules_of_every_request_body(platform: Platform) -> None:
    """A client generated from the public document sends no text a service refuses: every free-text
    string of a request body carries a pattern without the forbidden characters, and a required
    (stripped) text one that refuses blank text."""
    document = (await platform.client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    bodies = {
        ref.rsplit("/", 1)[-1]
        for path in document["paths"].values()
        for operation in path.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
        if (ref := content.get("schema", {}).get("$ref", "")).startswith("#/components/schemas/")
        and "application/json" in json.dumps(operation["requestBody"])
    }
    assert {"OrderCreate", "TicketCreate", "AcceptBody", "ItemCreate", "SubscriptionCreate"} <= bodies
    free_text = []
    for name in bodies | {"OrderLine", "OverlayDayIn"}:
        for where, string in _request_body_strings(schemas[name], name):
            assert {"pattern", "format", "enum", "const"} & string.keys(), where
            if "pattern" in string and "format" not in string:
                pattern = re.compile(string["pattern"])
                for character in FORBIDDEN.values():
                    assert not pattern.search(f"a{character}b"), (where, character)
                free_text.append((where, string))
    assert len(free_text) > 50
    note = schemas["AcceptBody"]["properties"]["note"]
    assert not re.search(note["pattern"], " \t\n ") and re.search(note["pattern"], " 已受理 ")

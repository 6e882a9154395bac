"""Enterprises through the gateway: registration, credit codes, who sees what, phone masking."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from services.credit_code import CREDIT_CODE_ALPHABET, make_credit_code
from tests.conftest import Platform
from tests.ticket_service.helpers import (
    API,
    E1,
    E2,
    act_ok,
    assert_locs,
    assert_problem,
    assert_validation,
    client_token,
    count,
    dispatch_request,
    walk,
)
from ticket_service.models import Enterprise

E1_PHONE = "13952857316"
E1_CODE = "91321191608263458Y"
_serial = itertools.count(1)


def credit_code() -> str:
    """A fresh valid code: 9 (market regulation) 1 (enterprise) 321100 (镇江) + 9 random characters."""
    body = "".join(random.choice(CREDIT_CODE_ALPHABET) for _ in range(8)) + str(next(_serial) % 10)
    return make_credit_code("91321100" + body)


def payload(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "镇江测试电子科技有限公司",
        "credit_code": credit_code(),
        "size": "medium",
        "taiwan_funded": False,
        "industry": "计算机、通信和其他电子设备制造业",
        "park": "镇江高新技术产业开发区",
        "contact_name": "张三",
        "contact_phone": "13812345678",
    }
    data.update(overrides)
    return data


async def register(platform: Platform, username: str = "dispatcher", **overrides: Any) -> Any:
    return await platform.client.post(
        f"{API}/enterprises", json=payload(**overrides), headers=await platform.auth(username)
    )


@pytest.mark.parametrize("username", ["dispatcher", "admin"])
async def test_dispatcher_and_admin_register(platform: Platform, session: AsyncSession, username: str) -> None:
    data = payload()
    response = await platform.client.post(f"{API}/enterprises", json=data, headers=await platform.auth(username))
    assert response.status_code == 201, response.text
    body = response.json()
    for key in ("name", "credit_code", "size", "taiwan_funded", "industry", "park", "contact_name"):
        assert body[key] == data[key], key
    assert body["version"] == 1 and body["id"]
    stored = await session.get(Enterprise, body["id"])
    assert stored is not None and stored.contact_phone == "13812345678"
    fetched = await platform.client.get(f"{API}/enterprises/{body['id']}", headers=await platform.auth("dispatcher"))
    assert fetched.status_code == 200
    assert fetched.json()["credit_code"] == data["credit_code"]


async def test_credit_code_is_normalised_to_upper_case(platform: Platform) -> None:
    code = make_credit_code("91321100MA1ABCDE0")
    response = await register(platform, credit_code=f"  {code.lower()} ")
    assert response.status_code == 201, response.text
    assert response.json()["credit_code"] == code


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("91321191608263458X", id="wrong-check-character"),
        pytest.param("91321191608263458O", id="letter-outside-the-alphabet"),
        pytest.param("9132119160826345IY", id="I-inside"),
    ],
)
async def test_invalid_credit_code_is_422(platform: Platform, session: AsyncSession, code: str) -> None:
    before = await count(session, Enterprise)
    body = assert_problem(await register(platform, credit_code=code), 422, "invalid_credit_code")
    assert_locs(body, "credit_code")
    assert await count(session, Enterprise) == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"credit_code": "9132119160826345"}, "credit_code"),
        ({"credit_code": "91321191608263458YY"}, "credit_code"),
        ({"size": "huge"}, "size"),
        ({"name": ""}, "name"),
        ({"name": "名" * 201}, "name"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"vip": True}, "vip"),
    ],
)
async def test_bad_enterprise_bodies_are_422(platform: Platform, overrides: dict[str, Any], field: str) -> None:
    assert_validation(await register(platform, **overrides), field)


async def test_duplicate_credit_code_is_409(platform: Platform, session: AsyncSession) -> None:
    before = await count(session, Enterprise)
    assert_problem(await register(platform, credit_code=E1_CODE), 409, "duplicate_credit_code")
    code = credit_code()
    assert (await register(platform, credit_code=code)).status_code == 201
    assert_problem(await register(platform, "admin", credit_code=code.lower()), 409, "duplicate_credit_code")
    assert await count(session, Enterprise) == before + 1


@pytest.mark.parametrize("username", ["staff-jxw", "supervisor", "enterprise-1"])
async def test_others_cannot_register(platform: Platform, session: AsyncSession, username: str) -> None:
    before = await count(session, Enterprise)
    assert_problem(await register(platform, username), 403, "role_not_allowed")
    assert await count(session, Enterprise) == before


async def test_enterprise_sees_only_itself(platform: Platform) -> None:
    headers = await platform.auth("enterprise-1")
    own = await platform.client.get(f"{API}/enterprises/{E1}", headers=headers)
    assert own.status_code == 200
    assert (own.json()["contact_phone"], own.json()["credit_code"]) == (E1_PHONE, E1_CODE)
    assert own.json()["size"] == "small" and own.json()["taiwan_funded"] is True
    other = await platform.client.get(f"{API}/enterprises/{E2}", headers=headers)
    assert_problem(other, 404, "enterprise_not_found")
    assert "18905284127" not in other.text
    rows, _ = await walk(platform.client, "/enterprises", headers=headers)
    assert [row["id"] for row in rows] == [E1]
    filtered, _ = await walk(platform.client, "/enterprises", headers=headers, q="金山湖")
    assert filtered == []


async def test_lists_for_full_view_roles(platform: Platform) -> None:
    created = (await register(platform)).json()
    for username in ("dispatcher", "supervisor", "admin"):
        rows, _ = await walk(platform.client, "/enterprises", headers=await platform.auth(username), limit=1)
        ids = [row["id"] for row in rows]
        assert {E1, E2, created["id"]} <= set(ids), username
        assert len(ids) == len(set(ids))
    large, _ = await walk(platform.client, "/enterprises", headers=await platform.auth("dispatcher"), size="large")
    assert E2 in {row["id"] for row in large} and all(row["size"] == "large" for row in large)
    by_code, _ = await walk(platform.client, "/enterprises", headers=await platform.auth("dispatcher"), q=E1_CODE)
    assert [row["id"] for row in by_code] == [E1]
    by_name, _ = await walk(platform.client, "/enterprises", headers=await platform.auth("dispatcher"), q="台丰")
    assert [row["id"] for row in by_name] == [E1]


@pytest.mark.parametrize(
    ("username", "phone"),
    [
        ("supervisor", "139****7316"),
        ("dispatcher", E1_PHONE),
        ("enterprise-1", E1_PHONE),
    ],
)
async def test_phone_masking_by_role(platform: Platform, username: str, phone: str) -> None:
    headers = await platform.auth(username)
    one = await platform.client.get(f"{API}/enterprises/{E1}", headers=headers)
    assert one.status_code == 200
    assert one.json()["contact_phone"] == phone
    rows, _ = await walk(platform.client, "/enterprises", headers=headers)
    assert next(row for row in rows if row["id"] == E1)["contact_phone"] == phone
    if phone != E1_PHONE:
        assert E1_PHONE not in one.text


async def test_supervisor_masks_every_phone(platform: Platform) -> None:
    created = (await register(platform, contact_phone="138 1234 5678")).json()
    response = await platform.client.get(
        f"{API}/enterprises/{created['id']}", headers=await platform.auth("supervisor")
    )
    assert response.json()["contact_phone"] == "138****5678"
    rows, _ = await walk(platform.client, "/enterprises", headers=await platform.auth("supervisor"))
    e2 = next(row for row in rows if row["id"] == E2)
    assert e2["contact_phone"] == "189****4127"


async def test_enterprise_edits_its_own_contact(platform: Platform, session: AsyncSession) -> None:
    headers = await platform.auth("enterprise-1")
    response = await platform.client.patch(
        f"{API}/enterprises/{E1}", json={"contact_name": "林小明", "contact_phone": "13900001111"}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["contact_name"], body["contact_phone"], body["version"]) == ("林小明", "13900001111", 2)
    assert body["size"] == "small"
    stored = await session.get(Enterprise, E1, populate_existing=True)
    assert stored is not None and stored.contact_phone == "13900001111"
    # Sending its unchanged size along is harmless.
    same = await platform.client.patch(f"{API}/enterprises/{E1}", json={"size": "small"}, headers=headers)
    assert same.status_code == 200, same.text


async def test_enterprise_cannot_change_its_size(platform: Platform, session: AsyncSession) -> None:
    response = await platform.client.patch(
        f"{API}/enterprises/{E1}",
        json={"size": "large", "contact_name": "x"},
        headers=await platform.auth("enterprise-1"),
    )
    assert_problem(response, 403)
    stored = await session.get(Enterprise, E1, populate_existing=True)
    assert stored is not None and (stored.size, stored.contact_name, stored.version) == ("small", "林志明", 1)
    by_dispatcher = await platform.client.patch(
        f"{API}/enterprises/{E1}", json={"size": "medium"}, headers=await platform.auth("dispatcher")
    )
    assert by_dispatcher.status_code == 200, by_dispatcher.text
    assert by_dispatcher.json()["size"] == "medium"


async def test_enterprise_cannot_edit_another(platform: Platform, session: AsyncSession) -> None:
    response = await platform.client.patch(
        f"{API}/enterprises/{E2}", json={"contact_phone": "13000000000"}, headers=await platform.auth("enterprise-1")
    )
    assert_problem(response, 404, "enterprise_not_found")
    stored = await session.get(Enterprise, E2, populate_existing=True)
    assert stored is not None and stored.contact_phone == "18905284127"


@pytest.mark.parametrize("username", ["staff-jxw", "supervisor"])
async def test_readers_cannot_edit(platform: Platform, username: str) -> None:
    response = await platform.client.patch(
        f"{API}/enterprises/{E1}", json={"contact_name": "x"}, headers=await platform.auth(username)
    )
    assert_problem(response, 403, "role_not_allowed")


async def test_patch_validates_its_body(platform: Platform) -> None:
    headers = await platform.auth("dispatcher")
    assert_validation(
        await platform.client.patch(f"{API}/enterprises/{E1}", json={"size": "huge"}, headers=headers), "size"
    )
    assert_validation(
        await platform.client.patch(f"{API}/enterprises/{E1}", json={"credit_code": E1_CODE}, headers=headers),
        "credit_code",
    )
    missing = await platform.client.patch(
        f"{API}/enterprises/00000000-0000-0000-0000-000000000000", json={"name": "x"}, headers=headers
    )
    assert_problem(missing, 404, "enterprise_not_found")


async def test_anonymous_and_integrations_cannot_read_enterprises(platform: Platform) -> None:
    assert_problem(await platform.client.get(f"{API}/enterprises"), 401)
    assert_problem(await platform.client.get(f"{API}/enterprises/{E1}"), 401)
    for client_id in ("hotline-965808", "frontend-demo"):
        headers = await client_token(platform, client_id)
        assert_problem(await platform.client.get(f"{API}/enterprises", headers=headers), 403)
        assert_problem(await platform.client.get(f"{API}/enterprises/{E1}", headers=headers), 403)
        response = await platform.client.post(f"{API}/enterprises", json=payload(), headers=headers)
        assert_problem(response, 403)


async def _staff_reads(platform: Platform, username: str, enterprise_id: str) -> str | None:
    """The phone `username` reads for the enterprise, alike in the listing and alone; None if
    the enterprise is not theirs to read (404 alone, absent from the listing)."""
    headers = await platform.auth(username)
    one = await platform.client.get(f"{API}/enterprises/{enterprise_id}", headers=headers)
    rows, _ = await walk(platform.client, "/enterprises", headers=headers)
    listed = [row for row in rows if row["id"] == enterprise_id]
    if one.status_code == 404:
        assert_problem(one, 404, "enterprise_not_found")
        assert listed == []
        return None
    assert one.status_code == 200, one.text
    assert [row["contact_phone"] for row in listed] == [one.json()["contact_phone"]]
    return str(one.json()["contact_phone"])


async def test_staff_read_only_the_enterprises_of_their_departments_tickets(platform: Platform) -> None:
    enterprise = (await register(platform, contact_phone="13912345678")).json()
    for staff in ("staff-jxw", "staff-czj", "staff-fgw"):
        assert await _staff_reads(platform, staff, enterprise["id"]) is None
    ticket = await dispatch_request(platform, enterprise_id=enterprise["id"], department_code="jxw")
    # The leading department calls the enterprise back: it reads the number in full.
    assert await _staff_reads(platform, "staff-jxw", enterprise["id"]) == "13912345678"
    assert await _staff_reads(platform, "staff-czj", enterprise["id"]) is None
    await act_ok(platform, "staff-jxw", ticket["id"], "accept")
    await act_ok(platform, "staff-jxw", ticket["id"], "request-joint-review")
    # A joint department reads the enterprise, but does not call it back.
    assert await _staff_reads(platform, "staff-czj", enterprise["id"]) == "139****5678"
    assert await _staff_reads(platform, "staff-jxw", enterprise["id"]) == "13912345678"
    assert await _staff_reads(platform, "staff-fgw", enterprise["id"]) is None
    # Other enterprises stay out of sight: a department's listing holds only its tickets' enterprises.
    rows, _ = await walk(platform.client, "/enterprises", headers=await platform.auth("staff-fgw"))
    assert enterprise["id"] not in {row["id"] for row in rows}


@pytest.mark.parametrize(
    ("username", "phone"),
    [("dispatcher", "13912345678"), ("supervisor", "139****5678"), ("admin", "139****5678")],
)
async def test_the_full_view_roles_read_every_enterprise(platform: Platform, username: str, phone: str) -> None:
    enterprise = (await register(platform, contact_phone="13912345678")).json()
    assert await _staff_reads(platform, username, enterprise["id"]) == phone


async def test_an_enterprise_reads_only_itself_and_integrations_none(platform: Platform) -> None:
    enterprise = (await register(platform, contact_phone="13912345678")).json()
    await dispatch_request(platform, enterprise_id=enterprise["id"], department_code="jxw")
    assert await _staff_reads(platform, "enterprise-1", enterprise["id"]) is None
    assert await _staff_reads(platform, "enterprise-1", E1) == E1_PHONE
    hotline = await client_token(platform, "hotline-965808")
    refused = await platform.client.get(f"{API}/enterprises/{enterprise['id']}", headers=hotline)
    assert_problem(refused, 403, "role_not_allowed")

"""The fields the assessment and fairness figures count enterprises by (name, size, Taiwan
funding, industry, park) change only by a dispatcher or an admin, and every such change is
recorded with who made it and the old and new values."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.catalog_service.helpers import API, assert_problem
from tests.conftest import Platform
from tests.ticket_service.helpers import E1, E2, count
from ticket_service.models import Enterprise, EnterpriseChange

ASSESSED_CHANGES: dict[str, Any] = {
    "name": "镇江台丰精密机械（集团）有限公司",
    "taiwan_funded": False,
    "size": "large",
    "industry": "金融",
    "park": "外地园区",
}


async def _patch(platform: Platform, username: str, body: dict[str, Any], enterprise_id: str = E1) -> Any:
    return await platform.client.patch(
        f"{API}/enterprises/{enterprise_id}", json=body, headers=await platform.auth(username)
    )


async def _changes(platform: Platform, username: str = "supervisor", enterprise_id: str = E1) -> Any:
    return await platform.client.get(
        f"{API}/enterprises/{enterprise_id}/changes", headers=await platform.auth(username)
    )


@pytest.mark.parametrize(("field", "value"), ASSESSED_CHANGES.items())
async def test_an_enterprise_cannot_change_an_assessed_field_of_its_own(
    platform: Platform, session: AsyncSession, field: str, value: Any
) -> None:
    before = await session.get(Enterprise, E1, populate_existing=True)
    assert before is not None
    original = (before.name, before.size, before.taiwan_funded, before.industry, before.park, before.contact_name)
    response = await _patch(platform, "enterprise-1", {field: value, "contact_name": "改名的人"})
    body = assert_problem(response, 403, "field_forbidden")
    assert body["fields"] == [field]
    after = await session.get(Enterprise, E1, populate_existing=True)
    assert after is not None
    assert (after.name, after.size, after.taiwan_funded, after.industry, after.park, after.contact_name) == original
    assert after.version == before.version
    assert await count(session, EnterpriseChange) == 0


async def test_an_enterprise_still_edits_its_contacts_and_resends_unchanged_fields(
    platform: Platform, session: AsyncSession
) -> None:
    current = (await platform.client.get(f"{API}/enterprises/{E1}", headers=await platform.auth("enterprise-1"))).json()
    body = {"name": current["name"], "taiwan_funded": current["taiwan_funded"], "contact_name": "林小明"}
    response = await _patch(platform, "enterprise-1", body)
    assert response.status_code == 200, response.text
    assert response.json()["contact_name"] == "林小明"
    assert await count(session, EnterpriseChange) == 0, "contact edits are no assessed change"


async def test_a_dispatchers_change_is_recorded_with_old_and_new_values(
    platform: Platform, session: AsyncSession
) -> None:
    before = (await platform.client.get(f"{API}/enterprises/{E1}", headers=await platform.auth("dispatcher"))).json()
    response = await _patch(
        platform, "dispatcher", {"name": "台丰精密（镇江）", "taiwan_funded": False, "park": before["park"]}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["taiwan_funded"]) == ("台丰精密（镇江）", False)
    listed = await _changes(platform)
    assert listed.status_code == 200, listed.text
    (change,) = listed.json()["items"]
    assert change["enterprise_id"] == E1
    assert (change["actor"], change["role"]) == ("dispatcher", "dispatcher")
    assert change["version"] == before["version"] + 1 == response.json()["version"]
    assert change["changes"] == {
        "name": {"from": before["name"], "to": "台丰精密（镇江）"},
        "taiwan_funded": {"from": before["taiwan_funded"], "to": False},
    }
    assert before["taiwan_funded"] is True, "the seed's enterprise-1 is Taiwan-funded"


async def test_the_changes_page_in_order_for_supervisors_and_admins_only(platform: Platform) -> None:
    for size in ("medium", "large", "micro"):
        assert (await _patch(platform, "admin", {"size": size})).status_code == 200
    first = await platform.client.get(
        f"{API}/enterprises/{E1}/changes", params={"limit": 2}, headers=await platform.auth("admin")
    )
    assert first.status_code == 200, first.text
    rest = await platform.client.get(
        f"{API}/enterprises/{E1}/changes",
        params={"limit": 2, "cursor": first.json()["next_cursor"]},
        headers=await platform.auth("admin"),
    )
    sizes = [item["changes"]["size"]["to"] for item in first.json()["items"] + rest.json()["items"]]
    assert sizes == ["medium", "large", "micro"]
    assert rest.json()["next_cursor"] is None
    for username in ("enterprise-1", "staff-jxw", "dispatcher"):
        assert_problem(await _changes(platform, username), 403, "role_not_allowed")
    assert (await _changes(platform, enterprise_id=E2)).json()["items"] == []
    missing = await _changes(platform, enterprise_id="00000000-0000-0000-0000-000000000000")
    assert_problem(missing, 404, "enterprise_not_found")

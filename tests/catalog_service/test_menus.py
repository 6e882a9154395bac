"""Menu editions over HTTP: the seeded edition, /menus/current, drafting, publishing, withdrawal."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from catalog_service.seed_data import MENU_EDITION
from tests.catalog_service.helpers import (
    API,
    SEED_MENU,
    action,
    assert_problem,
    assert_validation,
    codes,
    create_item,
    create_menu,
    get_json,
    menu_payload,
)
from tests.conftest import Platform


async def _admin_get(client: httpx.AsyncClient, admin: dict[str, str], code: str) -> httpx.Response:
    return await client.get(f"{API}/menus/{code}", headers=admin)


def _today_in_zhenjiang() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


# Reads


async def test_list_menus_shows_the_seeded_edition(client: httpx.AsyncClient) -> None:
    body = await get_json(client, "/menus")
    assert [row["code"] for row in body["items"]] == [SEED_MENU]
    assert body["next_cursor"] is None
    row = body["items"][0]
    assert row["status"] == "published"
    assert row["published_on"] == MENU_EDITION.published_on
    assert row["item_codes"] == list(MENU_EDITION.item_codes)
    assert "items" not in row


async def test_get_seeded_menu_with_items(client: httpx.AsyncClient) -> None:
    body = await get_json(client, f"/menus/{SEED_MENU}")
    assert body["title"] == MENU_EDITION.title
    assert [item["code"] for item in body["items"]] == list(MENU_EDITION.item_codes)
    assert len(body["items"]) == 50
    ls001 = next(item for item in body["items"] if item["code"] == "LS-001")
    assert ls001["title"] == "绿色节能技术改造补贴"
    assert ls001["eligible_sizes"] == ["large", "medium", "small", "micro"]


async def test_current_menu_is_the_seeded_edition(client: httpx.AsyncClient) -> None:
    current = await get_json(client, "/menus/current")
    assert current == await get_json(client, f"/menus/{SEED_MENU}")
    assert current["published_on"] == "2016-02-26"
    assert datetime.fromisoformat(current["published_at"]).tzinfo is not None


async def test_current_menu_has_an_etag(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{API}/menus/current")
    cached = await client.get(f"{API}/menus/current", headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304 and cached.content == b""


async def test_unknown_menu_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{API}/menus/2099-01"), 404, "menu_not_found")
    assert_validation(await client.get(f"{API}/menus/-bad"), "code", where="path")


# Drafting


async def test_create_and_patch_a_draft_menu(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    payload = menu_payload(["KJ-001", "LS-001"])
    response = await client.post(f"{API}/menus", json=payload, headers=admin)
    assert response.status_code == 201, response.text
    menu = response.json()
    assert menu["status"] == "draft"
    assert menu["published_on"] is None and menu["published_at"] is None
    assert menu["item_codes"] == ["KJ-001", "LS-001"] and menu["version"] == 1
    code = menu["code"]

    assert_problem(await client.get(f"{API}/menus/{code}"), 404, "menu_not_found")
    assert code not in await codes(client, "/menus")
    detail = (await _admin_get(client, admin, code)).json()
    assert [item["code"] for item in detail["items"]] == ["KJ-001", "LS-001"]

    patched = await client.patch(
        f"{API}/menus/{code}", json={"title": "第二批菜单", "item_codes": ["LS-002", "KJ-001", "JR-001"]}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["title"] == "第二批菜单"
    assert patched.json()["version"] == 2
    detail = (await _admin_get(client, admin, code)).json()
    assert [item["code"] for item in detail["items"]] == ["LS-002", "KJ-001", "JR-001"]
    assert (await get_json(client, "/menus/current"))["code"] == SEED_MENU


async def test_draft_menu_may_hold_a_draft_item(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    draft_item = await create_item(client, admin)
    menu = await create_menu(client, admin, [draft_item["code"], "KJ-001"])
    detail = (await _admin_get(client, admin, menu["code"])).json()
    assert detail["items"][0]["status"] == "draft"


async def test_status_filter_on_menus(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(client, admin)
    assert await codes(client, "/menus", headers=admin, status="draft") == [menu["code"]]
    assert sorted(await codes(client, "/menus", headers=admin)) == sorted([SEED_MENU, menu["code"]])
    assert await codes(client, "/menus", status="draft") == []
    assert await codes(client, "/menus", headers=await platform.auth("enterprise-1"), status="draft") == []


INVALID: dict[str, tuple[dict[str, Any], list[str]]] = {
    "code-bad": ({"code": "-2016"}, ["code"]),
    "code-one-char": ({"code": "a"}, ["code"]),
    "title-too-long": ({"title": "菜" * 201}, ["title"]),
    "description-too-long": ({"description": "x" * 4001}, ["description"]),
    "items-empty": ({"item_codes": []}, ["item_codes"]),
    "items-duplicate": ({"item_codes": ["KJ-001", "KJ-001"]}, ["item_codes"]),
    "items-bad-code": ({"item_codes": ["kj-001"]}, ["item_codes.0"]),
    "items-string": ({"item_codes": "KJ-001"}, ["item_codes"]),
    "status-not-allowed": ({"status": "published"}, ["status"]),
    "published-on-not-allowed": ({"published_on": "2016-01-01"}, ["published_on"]),
}


@pytest.mark.parametrize(("overrides", "fields"), INVALID.values(), ids=INVALID.keys())
async def test_invalid_menu_create(
    platform: Platform, client: httpx.AsyncClient, overrides: dict[str, Any], fields: list[str]
) -> None:
    admin = await platform.auth("admin")
    payload = {**menu_payload(["KJ-001"]), **overrides}
    assert_validation(await client.post(f"{API}/menus", json=payload, headers=admin), *fields)
    assert await codes(client, "/menus", headers=admin) == [SEED_MENU]


@pytest.mark.parametrize("field", ["code", "title", "item_codes"])
async def test_menu_missing_required_field(platform: Platform, client: httpx.AsyncClient, field: str) -> None:
    admin = await platform.auth("admin")
    payload = menu_payload(["KJ-001"])
    del payload[field]
    assert_validation(await client.post(f"{API}/menus", json=payload, headers=admin), field)
    assert await codes(client, "/menus", headers=admin) == [SEED_MENU]


async def test_menu_with_unknown_or_withdrawn_item_is_unknown_reference(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    payload = menu_payload(["KJ-001", "KJ-999"])
    body = assert_problem(await client.post(f"{API}/menus", json=payload, headers=admin), 422, "unknown_reference")
    assert body["field"] == "item_codes" and body["unknown"] == ["KJ-999"]
    assert_problem(await _admin_get(client, admin, payload["code"]), 404)

    assert (await action(client, admin, "/items/JR-002/withdraw")).status_code == 200
    payload = menu_payload(["JR-002"])
    body = assert_problem(await client.post(f"{API}/menus", json=payload, headers=admin), 422, "unknown_reference")
    assert body["unknown"] == ["JR-002"]
    assert await codes(client, "/menus", headers=admin) == [SEED_MENU]


async def test_duplicate_menu_code_is_409(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, SEED_MENU)).json()
    response = await client.post(f"{API}/menus", json=menu_payload(["KJ-001"], code=SEED_MENU), headers=admin)
    assert_problem(response, 409, "duplicate_code")
    assert (await _admin_get(client, admin, SEED_MENU)).json() == before


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"item_codes": ["KJ-999"]}, 422, "unknown_reference"),
        ({"item_codes": []}, 422, "validation_error"),
        ({"title": ""}, 422, "validation_error"),
        ({"status": "published"}, 422, "validation_error"),
        ({"code": "2017-01"}, 422, "validation_error"),
    ],
    ids=["unknown-item", "empty-items", "empty-title", "status", "code"],
)
async def test_invalid_draft_menu_patch_changes_nothing(
    platform: Platform, client: httpx.AsyncClient, patch: dict[str, Any], status: int, code: str
) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(client, admin)
    before = (await _admin_get(client, admin, menu["code"])).json()
    assert_problem(await client.patch(f"{API}/menus/{menu['code']}", json=patch, headers=admin), status, code)
    assert (await _admin_get(client, admin, menu["code"])).json() == before


# Publishing


async def test_publish_a_menu_makes_it_current(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(client, admin, ["SP-001", "KJ-002"])
    response = await action(client, admin, f"/menus/{menu['code']}/publish")
    assert response.status_code == 200, response.text
    published = response.json()
    assert published["status"] == "published"
    assert published["published_on"] == _today_in_zhenjiang().isoformat()
    assert datetime.fromisoformat(published["published_at"]).tzinfo is not None
    assert published["version"] == menu["version"] + 1

    current = await get_json(client, "/menus/current")
    assert current["code"] == menu["code"]
    assert [item["code"] for item in current["items"]] == ["SP-001", "KJ-002"]
    assert (await get_json(client, f"/menus/{menu['code']}"))["status"] == "published"
    assert sorted(await codes(client, "/menus")) == sorted([SEED_MENU, menu["code"]])
    # The older edition stays readable.
    assert (await get_json(client, f"/menus/{SEED_MENU}"))["status"] == "published"


async def test_publish_with_an_explicit_date(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(client, admin)
    response = await action(client, admin, f"/menus/{menu['code']}/publish", json={"published_on": "2017-03-01"})
    assert response.status_code == 200, response.text
    assert response.json()["published_on"] == "2017-03-01"
    assert (await get_json(client, "/menus/current"))["code"] == menu["code"]


async def test_an_edition_dated_before_the_current_one_does_not_replace_it(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(client, admin)
    response = await action(client, admin, f"/menus/{menu['code']}/publish", json={"published_on": "2015-06-01"})
    assert response.status_code == 200, response.text
    assert (await get_json(client, "/menus/current"))["code"] == SEED_MENU


async def test_the_newest_of_several_published_editions_is_current(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    older = await create_menu(client, admin)
    newer = await create_menu(client, admin)
    assert (
        await action(client, admin, f"/menus/{newer['code']}/publish", json={"published_on": "2018-01-01"})
    ).status_code == 200
    assert (
        await action(client, admin, f"/menus/{older['code']}/publish", json={"published_on": "2017-01-01"})
    ).status_code == 200
    assert (await get_json(client, "/menus/current"))["code"] == newer["code"]
    assert (await action(client, admin, f"/menus/{newer['code']}/withdraw")).status_code == 200
    assert (await get_json(client, "/menus/current"))["code"] == older["code"]


async def test_the_later_of_two_editions_published_the_same_day_is_current(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    first = await create_menu(client, admin)
    second = await create_menu(client, admin)
    assert (await action(client, admin, f"/menus/{second['code']}/publish")).status_code == 200
    assert (await action(client, admin, f"/menus/{first['code']}/publish")).status_code == 200
    assert (await get_json(client, "/menus/current"))["code"] == first["code"]


@pytest.mark.parametrize(
    "body",
    [{"published_on": "not-a-date"}, {"published_on": "2016-02-30"}, {"when": "2016-01-01"}],
    ids=["text", "impossible-date", "unknown-field"],
)
async def test_invalid_publish_body_changes_nothing(
    platform: Platform, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(client, admin)
    assert_validation(await action(client, admin, f"/menus/{menu['code']}/publish", json=body), next(iter(body)))
    assert (await _admin_get(client, admin, menu["code"])).json()["status"] == "draft"


async def test_published_menu_is_immutable(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, SEED_MENU)).json()
    for patch in ({"title": "改名"}, {"item_codes": ["KJ-001"]}, {}):
        body = assert_problem(
            await client.patch(f"{API}/menus/{SEED_MENU}", json=patch, headers=admin), 409, "menu_immutable"
        )
        assert SEED_MENU in body["detail"]
    assert (await _admin_get(client, admin, SEED_MENU)).json() == before


async def test_publishing_a_published_menu_is_409(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    before = (await _admin_get(client, admin, SEED_MENU)).json()
    body = assert_problem(await action(client, admin, f"/menus/{SEED_MENU}/publish"), 409, "invalid_state")
    assert body["state"] == "published"
    assert (await _admin_get(client, admin, SEED_MENU)).json() == before


async def test_publishing_a_menu_with_a_draft_item_is_unknown_reference(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    admin = await platform.auth("admin")
    draft_item = await create_item(client, admin)
    menu = await create_menu(client, admin, ["KJ-001", draft_item["code"]])
    before = (await _admin_get(client, admin, menu["code"])).json()
    body = assert_problem(await action(client, admin, f"/menus/{menu['code']}/publish"), 422, "unknown_reference")
    assert body["field"] == "item_codes" and body["unknown"] == [draft_item["code"]]
    assert (await _admin_get(client, admin, menu["code"])).json() == before
    assert (await get_json(client, "/menus/current"))["code"] == SEED_MENU

    # Once the item is published the same edition publishes.
    assert (await action(client, admin, f"/items/{draft_item['code']}/publish")).status_code == 200
    assert (await action(client, admin, f"/menus/{menu['code']}/publish")).status_code == 200


async def test_publishing_a_menu_whose_item_was_withdrawn_fails(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(client, admin, ["KJ-001", "KJ-003"])
    assert (await action(client, admin, "/items/KJ-003/withdraw")).status_code == 200
    body = assert_problem(await action(client, admin, f"/menus/{menu['code']}/publish"), 422, "unknown_reference")
    assert body["unknown"] == ["KJ-003"]


# Withdrawal


async def test_withdraw_the_only_published_menu(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    response = await action(client, admin, f"/menus/{SEED_MENU}/withdraw")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    version = response.json()["version"]

    assert_problem(await client.get(f"{API}/menus/current"), 404, "menu_not_found")
    assert_problem(await client.get(f"{API}/menus/{SEED_MENU}"), 404, "menu_not_found")
    assert await codes(client, "/menus") == []
    assert (await _admin_get(client, admin, SEED_MENU)).json()["status"] == "withdrawn"
    assert await codes(client, "/menus", headers=admin, status="withdrawn") == [SEED_MENU]

    assert_problem(await action(client, admin, f"/menus/{SEED_MENU}/withdraw"), 409, "invalid_state")
    assert_problem(await action(client, admin, f"/menus/{SEED_MENU}/publish"), 409, "invalid_state")
    assert_problem(
        await client.patch(f"{API}/menus/{SEED_MENU}", json={"title": "x"}, headers=admin), 409, "menu_immutable"
    )
    assert (await _admin_get(client, admin, SEED_MENU)).json()["version"] == version


async def test_withdraw_a_draft_menu(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    menu = await create_menu(client, admin)
    response = await action(client, admin, f"/menus/{menu['code']}/withdraw")
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert_problem(await action(client, admin, f"/menus/{menu['code']}/publish"), 409, "invalid_state")
    assert (await get_json(client, "/menus/current"))["code"] == SEED_MENU


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "/menus/2099-01"), ("POST", "/menus/2099-01/publish"), ("POST", "/menus/2099-01/withdraw")],
)
async def test_menu_writes_on_unknown_code_are_404(
    platform: Platform, client: httpx.AsyncClient, method: str, path: str
) -> None:
    admin = await platform.auth("admin")
    response = await client.request(method, f"{API}{path}", json={} if method == "PATCH" else None, headers=admin)
    assert_problem(response, 404, "menu_not_found")


async def test_withdrawn_item_is_not_exposed_through_the_current_menu(
    platform: Platform, client: httpx.AsyncClient
) -> None:
    """A withdrawn item is 404 for the public at /items/{code}; the menu must not leak its body either."""
    admin = await platform.auth("admin")
    assert (await action(client, admin, "/items/KJ-005/withdraw")).status_code == 200
    assert_problem(await client.get(f"{API}/items/KJ-005"), 404)
    for path in ("/menus/current", f"/menus/{SEED_MENU}"):
        public = await get_json(client, path)
        assert "KJ-005" not in [item["code"] for item in public["items"]], path
        assert all(item["status"] == "published" for item in public["items"]), path


async def test_longest_valid_menu_fields_round_trip(platform: Platform, client: httpx.AsyncClient) -> None:
    admin = await platform.auth("admin")
    code = "M" * 32
    menu = await create_menu(client, admin, ["KJ-001"], code=code, title="菜" * 200, description="述" * 4000)
    stored = (await _admin_get(client, admin, code)).json()
    assert stored["title"] == menu["title"] == "菜" * 200
    assert len(stored["description"]) == 4000


async def test_menu_code_current_is_reserved(platform: Platform, client: httpx.AsyncClient) -> None:
    """`/menus/current` is the live edition, so an edition coded `current` could never be read by its code."""
    admin = await platform.auth("admin")
    response = await client.post(f"{API}/menus", json=menu_payload(["KJ-001"], code="current"), headers=admin)
    assert_problem(response, 422)
    assert await codes(client, "/menus", headers=admin) == [SEED_MENU]

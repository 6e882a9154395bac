"""Every catalogue write as data: how to set it up, send it, and see whether it took effect.

Each operation prepares (as admin) a target on which an admin's request would succeed, so a
denial can only come from the caller's identity, then names a GET (as admin) whose answer
must be unchanged after a refused request and changed after an admin's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.catalog_service.helpers import (
    API,
    category_payload,
    create_category,
    create_item,
    create_menu,
    create_policy,
    department_payload,
    item_payload,
    menu_payload,
    policy_payload,
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    json: Any
    check_path: str  # GET (as admin) that reflects whether the write happened
    success: int = 200


Prepare = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[Request]]


async def _create_department(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    payload = department_payload()
    return Request("POST", "/departments", payload, f"/departments/{payload['code']}", 201)


async def _update_department(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    return Request("PATCH", "/departments/fgw", {"short_name": "发改委"}, "/departments/fgw")


async def _withdraw_department(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    return Request("POST", "/departments/zjj/withdraw", None, "/departments/zjj")


async def _create_category(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    payload = category_payload()
    return Request("POST", "/categories", payload, f"/categories/{payload['code']}", 201)


async def _update_category(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    return Request("PATCH", "/categories/finance", {"sort_order": 999}, "/categories/finance")


async def _withdraw_category(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    category = await create_category(client, admin)
    return Request("POST", f"/categories/{category['code']}/withdraw", None, f"/categories/{category['code']}")


async def _create_policy(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    payload = policy_payload()
    return Request("POST", "/policies", payload, f"/policies/{payload['code']}", 201)


async def _update_policy(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    return Request("PATCH", "/policies/POL-NAT-2015-01", {"summary": "改写"}, "/policies/POL-NAT-2015-01")


async def _publish_policy(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    policy = await create_policy(client, admin, status="draft")
    return Request("POST", f"/policies/{policy['code']}/publish", None, f"/policies/{policy['code']}")


async def _withdraw_policy(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    return Request("POST", "/policies/POL-NAT-2015-02/withdraw", None, "/policies/POL-NAT-2015-02")


async def _create_item(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    payload = item_payload()
    return Request("POST", "/items", payload, f"/items/{payload['code']}", 201)


async def _update_item(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    return Request("PATCH", "/items/LS-001", {"title": "被改的标题"}, "/items/LS-001")


async def _publish_item(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    item = await create_item(client, admin)
    return Request("POST", f"/items/{item['code']}/publish", None, f"/items/{item['code']}")


async def _withdraw_item(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    return Request("POST", "/items/LS-004/withdraw", None, "/items/LS-004")


async def _create_menu(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    payload = menu_payload(["KJ-001"])
    return Request("POST", "/menus", payload, f"/menus/{payload['code']}", 201)


async def _update_menu(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    menu = await create_menu(client, admin)
    return Request("PATCH", f"/menus/{menu['code']}", {"title": "改名的菜单"}, f"/menus/{menu['code']}")


async def _publish_menu(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    menu = await create_menu(client, admin)
    return Request("POST", f"/menus/{menu['code']}/publish", {"published_on": "2020-01-01"}, f"/menus/{menu['code']}")


async def _withdraw_menu(client: httpx.AsyncClient, admin: dict[str, str]) -> Request:
    return Request("POST", "/menus/2016-01/withdraw", None, "/menus/2016-01")


WRITE_OPS: dict[str, Prepare] = {
    "create-department": _create_department,
    "update-department": _update_department,
    "withdraw-department": _withdraw_department,
    "create-category": _create_category,
    "update-category": _update_category,
    "withdraw-category": _withdraw_category,
    "create-policy": _create_policy,
    "update-policy": _update_policy,
    "publish-policy": _publish_policy,
    "withdraw-policy": _withdraw_policy,
    "create-item": _create_item,
    "update-item": _update_item,
    "publish-item": _publish_item,
    "withdraw-item": _withdraw_item,
    "create-menu": _create_menu,
    "update-menu": _update_menu,
    "publish-menu": _publish_menu,
    "withdraw-menu": _withdraw_menu,
}

#: The operations that take a JSON body (malformed-JSON checks apply to them).
BODY_OPS = [name for name in WRITE_OPS if name.startswith(("create-", "update-")) or name == "publish-menu"]


async def send(client: httpx.AsyncClient, request: Request, headers: dict[str, str]) -> httpx.Response:
    kwargs: dict[str, Any] = {"headers": headers}
    if request.json is not None:
        kwargs["json"] = request.json
    return await client.request(request.method, f"{API}{request.path}", **kwargs)


async def snapshot(client: httpx.AsyncClient, admin: dict[str, str], request: Request) -> tuple[int, Any]:
    response = await client.get(f"{API}{request.check_path}", headers=admin)
    return response.status_code, response.json()

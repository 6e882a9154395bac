"""Catalogue endpoints. Anyone may read published data; only `admin` writes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import TypeAdapter

from catalog_service import menus as menu_editions
from catalog_service import service
from catalog_service.schemas import (
    DEPARTMENT_CODE_PATTERN,
    ITEM_CODE_PATTERN,
    MENU_CODE_PATTERN,
    ActiveStatus,
    CategoryCreate,
    CategoryRead,
    CategoryUpdate,
    DepartmentCreate,
    DepartmentRead,
    DepartmentUpdate,
    EnterpriseSize,
    ItemCreate,
    ItemRead,
    ItemStatus,
    ItemUpdate,
    MenuCreate,
    MenuDetail,
    MenuPublish,
    MenuRead,
    MenuUpdate,
    PolicyCreate,
    PolicyLevel,
    PolicyRead,
    PolicyUpdate,
)
from services.auth import AdminPrincipal, OptionalPrincipal, Principal, Role
from services.db import AutocommitDep, SessionDep
from services.errors import problem_responses
from services.pagination import Page, PageDep
from services.responses import NOT_MODIFIED, cached_json, locate

READ = {**problem_responses(400, 401, 404, 422), **NOT_MODIFIED}
LIST = {**problem_responses(400, 401, 422), **NOT_MODIFIED}
WRITE = problem_responses(400, 401, 403, 404, 409, 422)
CREATE = problem_responses(400, 401, 403, 409, 422)

DepartmentCodePath = Annotated[str, Path(pattern=DEPARTMENT_CODE_PATTERN, description="Department code")]
CategoryCodePath = Annotated[str, Path(pattern=DEPARTMENT_CODE_PATTERN, description="Category code")]
ItemCodePath = Annotated[str, Path(pattern=ITEM_CODE_PATTERN, description="Item code")]
PolicyCodePath = Annotated[str, Path(pattern=ITEM_CODE_PATTERN, description="Policy code")]
MenuCodePath = Annotated[str, Path(pattern=MENU_CODE_PATTERN, description="Menu edition code")]
SearchQuery = Annotated[
    str | None, Query(min_length=1, max_length=100, description="Substring of title or description (Chinese works).")
]


_adapters: dict[Any, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    if model not in _adapters:
        _adapters[model] = TypeAdapter(model)
    return _adapters[model]


def _is_admin(principal: Principal | None) -> bool:
    return principal is not None and principal.role == Role.ADMIN


def _page_response(request: Request, model: Any, listing: service.Listing) -> Response:
    return cached_json(request, _adapter(Page[model]), {"items": listing.rows, "next_cursor": listing.next_cursor})


def _read(request: Request, model: Any, row: dict[str, Any]) -> Response:
    return cached_json(request, _adapter(model), row)


# Departments

departments = APIRouter(prefix="/api/v1", tags=["departments"])


@departments.get("/departments", response_model=Page[DepartmentRead], responses=LIST)
async def list_departments(
    request: Request,
    db: AutocommitDep,
    principal: OptionalPrincipal,
    page: PageDep,
    q: SearchQuery = None,
    status: ActiveStatus | None = None,
) -> Response:
    """List the municipal departments (anyone; withdrawn ones only for admin)."""
    listing = await service.list_departments(db, page=page, q=q, status=status, include_hidden=_is_admin(principal))
    return _page_response(request, DepartmentRead, listing)


@departments.get("/departments/{code}", response_model=DepartmentRead, responses=READ)
async def get_department(
    request: Request, db: AutocommitDep, principal: OptionalPrincipal, code: DepartmentCodePath
) -> Response:
    """Get one department (anyone)."""
    row = await service.get_department(db, code=code, include_hidden=_is_admin(principal))
    return _read(request, DepartmentRead, row)


@departments.post("/departments", status_code=201, response_model=DepartmentRead, responses=CREATE)
async def create_department(
    request: Request, response: Response, session: SessionDep, _: AdminPrincipal, body: DepartmentCreate
) -> Any:
    """Create a department (admin)."""
    department = await service.create_department(session, data=body)
    locate(request, response, department.code)
    return department


@departments.patch("/departments/{code}", response_model=DepartmentRead, responses=WRITE)
async def update_department(
    session: SessionDep, _: AdminPrincipal, code: DepartmentCodePath, body: DepartmentUpdate
) -> Any:
    """Change a department's name, short name or phone (admin)."""
    return await service.update_department(session, code=code, data=body)


@departments.post("/departments/{code}/withdraw", response_model=DepartmentRead, responses=WRITE)
async def withdraw_department(session: SessionDep, _: AdminPrincipal, code: DepartmentCodePath) -> Any:
    """Withdraw a department that leads no published item (admin)."""
    return await service.withdraw_department(session, code=code)


# Categories

categories = APIRouter(prefix="/api/v1", tags=["categories"])


@categories.get("/categories", response_model=Page[CategoryRead], responses=LIST)
async def list_categories(
    request: Request,
    db: AutocommitDep,
    principal: OptionalPrincipal,
    page: PageDep,
    q: SearchQuery = None,
    status: ActiveStatus | None = None,
) -> Response:
    """List the service categories (anyone)."""
    listing = await service.list_categories(db, page=page, q=q, status=status, include_hidden=_is_admin(principal))
    return _page_response(request, CategoryRead, listing)


@categories.get("/categories/{code}", response_model=CategoryRead, responses=READ)
async def get_category(
    request: Request, db: AutocommitDep, principal: OptionalPrincipal, code: CategoryCodePath
) -> Response:
    """Get one category with its default co-handling departments (anyone)."""
    row = await service.get_category(db, code=code, include_hidden=_is_admin(principal))
    return _read(request, CategoryRead, row)


@categories.post("/categories", status_code=201, response_model=CategoryRead, responses=CREATE)
async def create_category(
    request: Request, response: Response, session: SessionDep, _: AdminPrincipal, body: CategoryCreate
) -> Any:
    """Create a category (admin)."""
    category = await service.create_category(session, data=body)
    locate(request, response, category.code)
    return category


@categories.patch("/categories/{code}", response_model=CategoryRead, responses=WRITE)
async def update_category(session: SessionDep, _: AdminPrincipal, code: CategoryCodePath, body: CategoryUpdate) -> Any:
    """Change a category (admin)."""
    return await service.update_category(session, code=code, data=body)


@categories.post("/categories/{code}/withdraw", response_model=CategoryRead, responses=WRITE)
async def withdraw_category(session: SessionDep, _: AdminPrincipal, code: CategoryCodePath) -> Any:
    """Withdraw a category that holds no published item (admin)."""
    return await service.withdraw_category(session, code=code)


# Policies

policies = APIRouter(prefix="/api/v1", tags=["policies"])


@policies.get("/policies", response_model=Page[PolicyRead], responses=LIST)
async def list_policies(
    request: Request,
    db: AutocommitDep,
    principal: OptionalPrincipal,
    page: PageDep,
    q: SearchQuery = None,
    level: PolicyLevel | None = None,
    status: ItemStatus | None = None,
) -> Response:
    """List published enterprise policies, filterable by level (anyone)."""
    listing = await service.list_policies(
        db, page=page, q=q, level=level, status=status, include_hidden=_is_admin(principal)
    )
    return _page_response(request, PolicyRead, listing)


@policies.get("/policies/{code}", response_model=PolicyRead, responses=READ)
async def get_policy(
    request: Request, db: AutocommitDep, principal: OptionalPrincipal, code: PolicyCodePath
) -> Response:
    """Get one policy (anyone, if published)."""
    row = await service.get_policy(db, code=code, include_hidden=_is_admin(principal))
    return _read(request, PolicyRead, row)


@policies.post("/policies", status_code=201, response_model=PolicyRead, responses=CREATE)
async def create_policy(
    request: Request, response: Response, session: SessionDep, _: AdminPrincipal, body: PolicyCreate
) -> Any:
    """Create a policy, as a draft or published (admin)."""
    policy = await service.create_policy(session, data=body)
    locate(request, response, policy.code)
    return policy


@policies.patch("/policies/{code}", response_model=PolicyRead, responses=WRITE)
async def update_policy(session: SessionDep, _: AdminPrincipal, code: PolicyCodePath, body: PolicyUpdate) -> Any:
    """Change a policy that is not withdrawn (admin)."""
    return await service.update_policy(session, code=code, data=body)


@policies.post("/policies/{code}/publish", response_model=PolicyRead, responses=WRITE)
async def publish_policy(session: SessionDep, _: AdminPrincipal, code: PolicyCodePath) -> Any:
    """Publish a draft or withdrawn policy (admin)."""
    return await service.set_policy_status(session, code=code, status="published")


@policies.post("/policies/{code}/withdraw", response_model=PolicyRead, responses=WRITE)
async def withdraw_policy(session: SessionDep, _: AdminPrincipal, code: PolicyCodePath) -> Any:
    """Withdraw a policy (admin)."""
    return await service.set_policy_status(session, code=code, status="withdrawn")


# Service items

items = APIRouter(prefix="/api/v1", tags=["items"])


@items.get("/items", response_model=Page[ItemRead], responses=LIST)
async def list_items(
    request: Request,
    db: AutocommitDep,
    principal: OptionalPrincipal,
    page: PageDep,
    q: SearchQuery = None,
    category_code: Annotated[str | None, Query(pattern=DEPARTMENT_CODE_PATTERN)] = None,
    department_code: Annotated[
        str | None, Query(pattern=DEPARTMENT_CODE_PATTERN, description="Lead department.")
    ] = None,
    eligible_size: EnterpriseSize | None = None,
    status: ItemStatus | None = None,
) -> Response:
    """List service items; published ones for everyone, all for admin."""
    listing = await service.list_items(
        db,
        page=page,
        q=q,
        category_code=category_code,
        department_code=department_code,
        eligible_size=eligible_size,
        status=status,
        include_hidden=_is_admin(principal),
    )
    return _page_response(request, ItemRead, listing)


@items.get("/items/{code}", response_model=ItemRead, responses=READ)
async def get_item(request: Request, db: AutocommitDep, principal: OptionalPrincipal, code: ItemCodePath) -> Response:
    """Get one service item (anyone, if published); honours If-None-Match."""
    row = await service.get_item(db, code=code, include_hidden=_is_admin(principal))
    return _read(request, ItemRead, row)


@items.post("/items", status_code=201, response_model=ItemRead, responses=CREATE)
async def create_item(
    request: Request, response: Response, session: SessionDep, _: AdminPrincipal, body: ItemCreate
) -> Any:
    """Create a service item, as a draft or published (admin)."""
    item = await service.create_item(session, data=body)
    locate(request, response, item.code)
    return service.item_read(item)


@items.patch("/items/{code}", response_model=ItemRead, responses=WRITE)
async def update_item(session: SessionDep, _: AdminPrincipal, code: ItemCodePath, body: ItemUpdate) -> Any:
    """Change a service item that is not withdrawn (admin)."""
    item = await service.update_item(session, code=code, data=body)
    return service.item_read(item)


@items.post("/items/{code}/publish", response_model=ItemRead, responses=WRITE)
async def publish_item(session: SessionDep, _: AdminPrincipal, code: ItemCodePath) -> Any:
    """Publish a draft or withdrawn item (admin)."""
    item = await service.set_item_status(session, code=code, status="published")
    return service.item_read(item)


@items.post("/items/{code}/withdraw", response_model=ItemRead, responses=WRITE)
async def withdraw_item(session: SessionDep, _: AdminPrincipal, code: ItemCodePath) -> Any:
    """Withdraw an item: enterprises can no longer order it (admin)."""
    item = await service.set_item_status(session, code=code, status="withdrawn")
    return service.item_read(item)


# Menu editions

menus = APIRouter(prefix="/api/v1", tags=["menus"])


@menus.get("/menus", response_model=Page[MenuRead], responses=LIST)
async def list_menus(
    request: Request,
    db: AutocommitDep,
    principal: OptionalPrincipal,
    page: PageDep,
    status: ItemStatus | None = None,
) -> Response:
    """List menu editions; published ones for everyone, all for admin."""
    listing = await menu_editions.list_menus(db, page=page, status=status, include_hidden=_is_admin(principal))
    return _page_response(request, MenuRead, listing)


@menus.get("/menus/current", response_model=MenuDetail, responses=READ)
async def get_current_menu(request: Request, db: AutocommitDep, principal: OptionalPrincipal) -> Response:
    """The live menu edition with its published items (anyone)."""
    menu = await menu_editions.get_current_menu(db, include_hidden=_is_admin(principal))
    return _read(request, MenuDetail, menu)


@menus.get("/menus/{code}", response_model=MenuDetail, responses=READ)
async def get_menu(request: Request, db: AutocommitDep, principal: OptionalPrincipal, code: MenuCodePath) -> Response:
    """One menu edition with its items (anyone, if published)."""
    row = await menu_editions.get_menu(db, code=code, include_hidden=_is_admin(principal))
    return _read(request, MenuDetail, row)


@menus.post("/menus", status_code=201, response_model=MenuRead, responses=CREATE)
async def create_menu(
    request: Request, response: Response, session: SessionDep, _: AdminPrincipal, body: MenuCreate
) -> Any:
    """Draft a new menu edition (admin)."""
    menu = await menu_editions.create_menu(session, data=body)
    locate(request, response, menu.code)
    return menu


@menus.patch("/menus/{code}", response_model=MenuRead, responses=WRITE)
async def update_menu(session: SessionDep, _: AdminPrincipal, code: MenuCodePath, body: MenuUpdate) -> Any:
    """Change a draft menu edition; published editions are immutable (admin)."""
    return await menu_editions.update_menu(session, code=code, data=body)


@menus.post("/menus/{code}/publish", response_model=MenuRead, responses=WRITE)
async def publish_menu(
    session: SessionDep, _: AdminPrincipal, code: MenuCodePath, body: MenuPublish | None = None
) -> Any:
    """Publish a draft edition; every item in it must be published (admin)."""
    return await menu_editions.publish_menu(session, code=code, published_on=body.published_on if body else None)


@menus.post("/menus/{code}/withdraw", response_model=MenuRead, responses=WRITE)
async def withdraw_menu(session: SessionDep, _: AdminPrincipal, code: MenuCodePath) -> Any:
    """Withdraw a menu edition (admin)."""
    return await menu_editions.withdraw_menu(session, code=code)


routers = (departments, categories, policies, items, menus)

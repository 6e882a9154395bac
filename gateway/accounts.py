"""Accounts: who may log in, with which role, for which department or enterprise.

An enterprise account is linked to exactly one enterprise, and a staff account to one
department; the gateway checks the link with the owning service over HTTP (it never reads
their tables), forwarding the caller's own token.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import AccountNotFound, DuplicateUsername, InvalidAccountLink, OwnAccount
from gateway.models import Account
from gateway.revocation import copy_ttl_seconds, publish_version
from gateway.schemas import USERNAME_PATTERN, AccountCreate, AccountRead, AccountRoleChange
from gateway.service import account_by_username, upsert_account
from services.auth import AdminPrincipal, Principal, Role, require_roles
from services.db import SessionDep, SessionFactoryDep
from services.errors import Forbidden, UpstreamUnavailable, problem_responses
from services.pagination import Page, PageDep, decode_cursor, encode_cursor

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])
AccountManager = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.DISPATCHER))]
UsernamePath = Annotated[str, Path(pattern=USERNAME_PATTERN)]


async def _exists(client: httpx.AsyncClient, path: str, authorization: str | None) -> bool:
    headers = {"Authorization": authorization} if authorization else {}
    try:
        response = await client.get(path, headers=headers)
    except httpx.HTTPError as exc:
        raise UpstreamUnavailable(f"Could not check {path}: {type(exc).__name__}.") from exc
    if response.status_code >= 500:
        raise UpstreamUnavailable(f"Could not check {path}: status {response.status_code}.")
    return response.status_code == 200


async def _check_links(request: Request, data: AccountCreate | AccountRoleChange) -> None:
    clients: dict[str, httpx.AsyncClient] = request.state.upstream_clients
    authorization = request.headers.get("authorization")
    if data.role == "enterprise":
        if not data.enterprise_id or data.department_code:
            raise InvalidAccountLink("enterprise_id", "An enterprise account names exactly one enterprise.")
        if not await _exists(clients["tickets"], f"/api/v1/enterprises/{data.enterprise_id}", authorization):
            raise InvalidAccountLink("enterprise_id", f"Enterprise {data.enterprise_id!r} does not exist.")
    elif data.role == "staff":
        if not data.department_code or data.enterprise_id:
            raise InvalidAccountLink("department_code", "A staff account names exactly one department.")
        if not await _exists(clients["catalog"], f"/api/v1/departments/{data.department_code}", None):
            raise InvalidAccountLink("department_code", f"Department {data.department_code!r} does not exist.")
    elif data.department_code or data.enterprise_id:
        raise InvalidAccountLink("role", f"A {data.role} account is linked to no department or enterprise.")


async def create_account(session: AsyncSession, *, data: AccountCreate) -> Account:
    account, created = await upsert_account(
        session,
        username=data.username,
        password=data.password,
        role=Role(data.role),
        display_name=data.display_name,
        department_code=data.department_code,
        enterprise_id=data.enterprise_id,
    )
    if not created:
        raise DuplicateUsername(data.username)
    return account


@router.post("", status_code=201, response_model=AccountRead, responses=problem_responses(400, 401, 403, 409, 422, 503))
async def register_account(
    request: Request, session: SessionDep, principal: AccountManager, body: AccountCreate
) -> Any:
    """Create an account; dispatchers register enterprise accounts only (admin, dispatcher)."""
    if principal.role == Role.DISPATCHER and body.role != "enterprise":
        raise Forbidden("A dispatcher registers enterprise accounts only.", code="role_not_allowed")
    await _check_links(request, body)
    return await create_account(session, data=body)


@router.get("", response_model=Page[AccountRead], responses=problem_responses(400, 401, 403, 422))
async def list_accounts(session: SessionDep, _: AdminPrincipal, page: PageDep, role: str | None = None) -> Any:
    """List accounts by username (admin)."""
    statement = select(Account).order_by(Account.username).limit(page.limit + 1)
    if role:
        statement = statement.where(Account.role == role)
    if page.cursor:
        (after,) = decode_cursor(page.cursor, arity=1)
        statement = statement.where(Account.username > str(after))
    accounts = list((await session.execute(statement)).scalars().all())
    next_cursor = encode_cursor([accounts[page.limit - 1].username]) if len(accounts) > page.limit else None
    return {"items": accounts[: page.limit], "next_cursor": next_cursor}


async def deactivate(session: AsyncSession, *, username: str) -> Account:
    """Stop the account from logging in, and raise its token version so its tokens stop too."""
    account = await account_by_username(session, username)
    if account is None:
        raise AccountNotFound(username)
    if account.is_active:
        account.is_active = False
        account.token_version += 1
    await session.flush()
    return account


async def change_role(session: AsyncSession, *, username: str, data: AccountRoleChange) -> Account:
    """Give the account another role (and its link); a change raises its token version."""
    account = await account_by_username(session, username)
    if account is None:
        raise AccountNotFound(username)
    wanted = {"role": data.role, "department_code": data.department_code, "enterprise_id": data.enterprise_id}
    if any(getattr(account, field) != value for field, value in wanted.items()):
        for field, value in wanted.items():
            setattr(account, field, value)
        account.token_version += 1
    await session.flush()
    return account


def _not_own(admin: Principal, username: str) -> None:
    # The platform's last admin would lock everyone out of the accounts it alone manages.
    if admin.subject == username:
        raise OwnAccount()


async def _publish(request: Request, account: Account) -> None:
    # After the commit: a change that rolled back never refuses the account's tokens.
    await publish_version(
        request.state.redis,
        subject=account.username,
        version=account.token_version,
        ttl_seconds=copy_ttl_seconds(request.state.settings),
    )


@router.post(
    "/{username}/deactivate", response_model=AccountRead, responses=problem_responses(400, 401, 403, 404, 409, 422)
)
async def deactivate_account(
    request: Request, sessions: SessionFactoryDep, admin: AdminPrincipal, username: UsernamePath
) -> Any:
    """Stop an account from logging in; its tokens stop working on their next request (admin)."""
    _not_own(admin, username)
    async with sessions.begin() as session:
        account = await deactivate(session, username=username)
    await _publish(request, account)
    return account


@router.put(
    "/{username}/role", response_model=AccountRead, responses=problem_responses(400, 401, 403, 404, 409, 422, 503)
)
async def change_account_role(
    request: Request,
    sessions: SessionFactoryDep,
    admin: AdminPrincipal,
    username: UsernamePath,
    body: AccountRoleChange,
) -> Any:
    """Give an account another role and link; its earlier tokens stop working on their next request (admin)."""
    _not_own(admin, username)
    await _check_links(request, body)
    async with sessions.begin() as session:
        account = await change_role(session, username=username, data=body)
    await _publish(request, account)
    return account

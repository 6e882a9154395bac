"""Authentication of accounts and integration clients."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.errors import InvalidClient, InvalidCredentials
from gateway.models import Account, ApiClient
from gateway.passwords import hash_secret, verify_secret
from services.auth import Principal, Role


async def account_by_username(session: AsyncSession, username: str) -> Account | None:
    return (await session.execute(select(Account).where(Account.username == username))).scalar_one_or_none()


async def authenticate_account(session: AsyncSession, *, username: str, password: str) -> Principal:
    account = await account_by_username(session, username)
    stored = account.password_hash if account is not None and account.is_active else None
    if not verify_secret(stored, password) or account is None:
        raise InvalidCredentials()
    return Principal(
        subject=account.username,
        role=Role(account.role),
        department_code=account.department_code,
        enterprise_id=account.enterprise_id,
        token_version=account.token_version,
    )


async def authenticate_client(session: AsyncSession, *, client_id: str, client_secret: str) -> Principal:
    client = (await session.execute(select(ApiClient).where(ApiClient.client_id == client_id))).scalar_one_or_none()
    stored = client.secret_hash if client is not None and client.is_active else None
    if not verify_secret(stored, client_secret) or client is None:
        raise InvalidClient()
    return Principal(subject=f"client:{client.client_id}", role=Role(client.role), scopes=tuple(client.scopes.split()))


async def upsert_account(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    department_code: str | None = None,
    enterprise_id: str | None = None,
) -> tuple[Account, bool]:
    """Create the account unless it exists; returns it and whether it was created."""
    existing = await account_by_username(session, username)
    if existing is not None:
        return existing, False
    account = Account(
        username=username,
        password_hash=hash_secret(password),
        role=role.value,
        display_name=display_name,
        department_code=department_code,
        enterprise_id=enterprise_id,
    )
    session.add(account)
    await session.flush()
    return account, True


async def upsert_client(
    session: AsyncSession, *, client_id: str, secret: str, role: Role, name: str, scopes: str = ""
) -> tuple[ApiClient, bool]:
    existing = (await session.execute(select(ApiClient).where(ApiClient.client_id == client_id))).scalar_one_or_none()
    if existing is not None:
        return existing, False
    client = ApiClient(client_id=client_id, secret_hash=hash_secret(secret), role=role.value, name=name, scopes=scopes)
    session.add(client)
    await session.flush()
    return client, True

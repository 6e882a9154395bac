"""Demo accounts and integration clients (development only)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from gateway import service
from services.auth import Role
from services.seeding import DemoFacts, SeedResult
from services.settings import SharedSettings

HOTLINE_CLIENT_ID = "hotline-965808"
FRONTEND_CLIENT_ID = "frontend-demo"


async def seed_accounts(
    session: AsyncSession,
    *,
    password: str,
    department_codes: Iterable[str],
    enterprise_ids: Mapping[str, str],
) -> int:
    created = 0
    people: list[tuple[str, Role, str, str | None, str | None]] = [
        ("admin", Role.ADMIN, "平台管理员", None, None),
        ("dispatcher", Role.DISPATCHER, "965808 受理调度员", None, None),
        ("supervisor", Role.SUPERVISOR, "效能监督员", None, None),
    ]
    people += [(f"staff-{code}", Role.STAFF, f"{code} 经办人", code, None) for code in department_codes]
    people += [(key, Role.ENTERPRISE, key, None, enterprise_id) for key, enterprise_id in enterprise_ids.items()]
    for username, role, display_name, department_code, enterprise_id in people:
        _, was_created = await service.upsert_account(
            session,
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            department_code=department_code,
            enterprise_id=enterprise_id,
        )
        created += was_created
    for client_id, role, name in (
        (HOTLINE_CLIENT_ID, Role.HOTLINE, "965808 hotline"),
        (FRONTEND_CLIENT_ID, Role.INTEGRATION, "Demo third-party front end"),
    ):
        _, was_created = await service.upsert_client(
            session, client_id=client_id, secret=password, role=role, name=name
        )
        created += was_created
    return created


async def seed(session: AsyncSession, *, settings: SharedSettings, facts: DemoFacts) -> SeedResult:
    """Demo accounts for the departments and enterprises the earlier seeds reported."""
    created = await seed_accounts(
        session,
        password=settings.demo_password.get_secret_value(),
        department_codes=facts.department_codes,
        enterprise_ids=facts.enterprise_ids,
    )
    return SeedResult(created={"accounts": created})

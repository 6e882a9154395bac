"""Who is calling: roles and principals, with no web framework and no I/O.

The pure cores (the ticket state machine, the SLA rules) reason about callers; they import
this module, never `services.auth`, which verifies tokens over FastAPI and PyJWT.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ENTERPRISE = "enterprise"
    STAFF = "staff"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    HOTLINE = "hotline"
    INTEGRATION = "integration"
    SYSTEM = "system"  # the SLA worker; never carried by a token


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a person's account or an integration client."""

    subject: str
    role: Role
    department_code: str | None = None
    enterprise_id: str | None = None
    scopes: tuple[str, ...] = ()
    # The account's token version when its token was issued: deactivating the account or
    # changing its role raises the version, and the gateway refuses tokens of an older one.
    token_version: int = 0

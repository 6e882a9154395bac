"""JWT issue/verification and role dependencies.

The gateway issues tokens; every service verifies them itself with the shared secret, so a
request that bypasses the gateway gets no further than one that goes through it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from services.errors import Forbidden, NotAuthenticated
from services.principals import Principal, Role
from services.settings import SharedSettings

__all__ = [
    "AdminPrincipal",
    "BearerPrincipal",
    "CurrentPrincipal",
    "OptionalPrincipal",
    "Principal",
    "Role",
    "TokenVerifier",
    "issue_token",
    "require_roles",
]

TOKEN_URL = "/api/v1/auth/token"
JWT_ALGORITHM = "HS256"
JWT_AUDIENCE = "965808-api"


def issue_token(settings: SharedSettings, principal: Principal) -> tuple[str, int]:
    now = int(time.time())
    ttl = settings.access_token_ttl_seconds
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": JWT_AUDIENCE,
        "sub": principal.subject,
        "role": principal.role.value,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "ver": principal.token_version,
    }
    if principal.department_code:
        claims["dept"] = principal.department_code
    if principal.enterprise_id:
        claims["ent"] = principal.enterprise_id
    if principal.scopes:
        claims["scope"] = " ".join(principal.scopes)
    token = jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm=JWT_ALGORITHM)
    return token, ttl


class TokenVerifier:
    """Verifies bearer tokens and remembers the ones it accepted until they expire.

    A signed token cannot change, so decoding it again on every request of a session only
    costs CPU (PyJWT's checks are a visible share of a cheap request). Expiry is still checked
    on every use, and the memory is bounded: when full it starts over."""

    def __init__(
        self, settings: SharedSettings, *, max_entries: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._settings = settings
        self._max_entries = max_entries
        self._clock = clock
        self._accepted: dict[str, tuple[Principal, float]] = {}

    def __len__(self) -> int:
        """How many accepted tokens it remembers now."""
        return len(self._accepted)

    def verify(self, token: str) -> Principal:
        now = self._clock()
        accepted = self._accepted.get(token)
        if accepted is not None and accepted[1] > now:
            return accepted[0]
        principal, expires_at = _decode(self._settings, token, now=now)
        if len(self._accepted) >= self._max_entries:
            self._accepted.clear()
        self._accepted[token] = (principal, expires_at)
        return principal


def _decode(settings: SharedSettings, token: str, *, now: float) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            audience=JWT_AUDIENCE,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise NotAuthenticated("The access token has expired.", code="token_expired") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("The access token is invalid.", code="invalid_token") from exc
    expires_at = float(claims["exp"])
    if expires_at <= now:
        raise NotAuthenticated("The access token has expired.", code="token_expired")
    try:
        role = Role(str(claims.get("role")))
        if role == Role.SYSTEM:
            raise ValueError("system principals never come from tokens")
    except ValueError as exc:
        raise NotAuthenticated("The access token names an unknown role.", code="invalid_token") from exc
    scope = claims.get("scope") or ""
    version = claims.get("ver", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise NotAuthenticated("The access token is invalid.", code="invalid_token")
    principal = Principal(
        subject=str(claims["sub"]),
        role=role,
        department_code=claims.get("dept"),
        enterprise_id=claims.get("ent"),
        scopes=tuple(scope.split()) if isinstance(scope, str) else (),
        token_version=version,
    )
    return principal, expires_at


class BearerPrincipal(OAuth2PasswordBearer):
    """The caller, from the bearer token: one dependency that is also the OpenAPI security
    scheme, since each dependency level costs FastAPI tens of microseconds per request.

    Without a token: 401 when `required`, else None (anonymous). A bad token is always 401,
    never anonymous. With `roles`, any other role is 403."""

    def __init__(self, *, required: bool = True, roles: tuple[Role, ...] | None = None) -> None:
        super().__init__(tokenUrl=TOKEN_URL, scheme_name="OAuth2PasswordBearer", auto_error=False)
        self.required = required
        self.roles = roles
        self.allowed = ", ".join(role.value for role in roles) if roles else ""

    async def __call__(self, request: Request) -> Principal | None:  # type: ignore[override]
        token = await super().__call__(request)
        if token is None:
            if self.required:
                raise NotAuthenticated("This operation requires a bearer token.")
            return None
        verifier: TokenVerifier = request.state.token_verifier
        principal = verifier.verify(token)
        if self.roles is not None and principal.role not in self.roles:
            raise Forbidden(
                f"Role {principal.role.value!r} may not do this; allowed: {self.allowed}.",
                code="role_not_allowed",
            )
        return principal


OptionalPrincipal = Annotated[Principal | None, Depends(BearerPrincipal(required=False))]
CurrentPrincipal = Annotated[Principal, Depends(BearerPrincipal())]


def require_roles(*roles: Role) -> BearerPrincipal:
    """Dependency: the caller must hold one of `roles`."""
    return BearerPrincipal(roles=roles)


AdminPrincipal = Annotated[Principal, Depends(require_roles(Role.ADMIN))]

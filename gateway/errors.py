from __future__ import annotations

from services.errors import Conflict, NotAuthenticated, NotFound, Unprocessable


class InvalidCredentials(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("Unknown user or wrong password.", code="invalid_credentials")


class InvalidClient(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__("Unknown client or wrong secret.", code="invalid_client")


class DuplicateUsername(Conflict):
    def __init__(self, username: str) -> None:
        super().__init__(f"An account named {username!r} already exists.", code="duplicate_username")


class AccountNotFound(NotFound):
    def __init__(self, username: str) -> None:
        super().__init__(f"Account {username!r} does not exist.", code="account_not_found")


class InvalidAccountLink(Unprocessable):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(
            detail, code="invalid_account_link", errors=[{"loc": ["body", field], "msg": detail, "type": "invalid"}]
        )


class TokenRevoked(NotAuthenticated):
    def __init__(self) -> None:
        super().__init__(
            "The access token was issued before the account was deactivated or changed role; log in again.",
            code="token_revoked",
        )


class InvalidPeriod(Unprocessable):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(
            f"{field}: {detail}.",
            code="invalid_period",
            errors=[{"loc": ["query", field], "msg": detail, "type": "invalid_period"}],
        )

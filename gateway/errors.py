from __future__ import annotations

from services.errors import (
    BadRequest,
    Conflict,
    NotAuthenticated,
    NotFound,
    TooManyRequests,
    Unprocessable,
    UpstreamUnavailable,
    meanings,
)


class InvalidTokenRequest(BadRequest):
    """A token request missing what its grant needs (OAuth2's `invalid_request`)."""

    codes = meanings(
        invalid_request="The token request lacks what its grant type needs, or its Basic credentials are malformed."
    )

    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="invalid_request", error="invalid_request")


class TooManyLoginFailures(TooManyRequests):
    codes = meanings(
        too_many_login_failures="Too many failed logins for this account or address; wait `Retry-After` seconds."
    )


class InvalidCredentials(NotAuthenticated):
    codes = meanings(invalid_credentials="Unknown user or wrong password.")

    def __init__(self) -> None:
        super().__init__("Unknown user or wrong password.", code="invalid_credentials")


class InvalidClient(NotAuthenticated):
    codes = meanings(invalid_client="Unknown integration client or wrong secret.")

    def __init__(self) -> None:
        super().__init__("Unknown client or wrong secret.", code="invalid_client")


class DuplicateUsername(Conflict):
    codes = meanings(duplicate_username="An account with this username already exists.")

    def __init__(self, username: str) -> None:
        super().__init__(f"An account named {username!r} already exists.", code="duplicate_username")


class AccountNotFound(NotFound):
    codes = meanings(account_not_found="No account has this username.")

    def __init__(self, username: str) -> None:
        super().__init__(f"Account {username!r} does not exist.", code="account_not_found")


class OwnAccount(Conflict):
    codes = meanings(own_account="An admin cannot deactivate its own account or change its own role.")

    def __init__(self) -> None:
        super().__init__(
            "An admin cannot deactivate its own account or change its own role (another admin can).",
            code="own_account",
        )


class InvalidAccountLink(Unprocessable):
    codes = meanings(
        invalid_account_link="The account's department or enterprise does not exist, or does not fit its role."
    )

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(
            detail, code="invalid_account_link", errors=[{"loc": ["body", field], "msg": detail, "type": "invalid"}]
        )


class TokenRevoked(NotAuthenticated):
    codes = meanings(token_revoked="The token predates its account's deactivation or role change; log in again.")

    def __init__(self) -> None:
        super().__init__(
            "The access token was issued before the account was deactivated or changed role; log in again.",
            code="token_revoked",
        )


class InvalidPeriod(Unprocessable):
    codes = meanings(invalid_period="The period asked for is not a valid date range.")

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(
            f"{field}: {detail}.",
            code="invalid_period",
            errors=[{"loc": ["query", field], "msg": detail, "type": "invalid_period"}],
        )


# How long the board asks a browser to wait when the statistics cannot be read.
STATS_RETRY_AFTER_SECONDS = 30


class StatsUnavailable(UpstreamUnavailable):
    """The ticket service is down or answered something the board cannot read."""

    codes = meanings(stats_unavailable="The board could not read the statistics; retry after `Retry-After` seconds.")

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The statistics are unavailable ({reason}); try again shortly.",
            code="stats_unavailable",
            headers={"Retry-After": str(STATS_RETRY_AFTER_SECONDS)},
        )

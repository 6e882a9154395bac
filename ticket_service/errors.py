"""Problems the ticket service answers with."""

from __future__ import annotations

from pydantic import Field

from services.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ProblemFields,
    StateProblem,
    Unprocessable,
    UpstreamUnavailable,
    meanings,
)


class VersionMismatchProblem(ProblemFields):
    """`If-Match` named a version the ticket is no longer at."""

    current_version: int = Field(description="The ticket's version now: reload it, then retry.", examples=[4])


class OverlayProblem(ProblemFields):
    """A calendar overlay names dates it may not."""

    dates: list[str] = Field(description="The dates at fault (ISO 8601).", examples=[["2026-10-01"]])


class ItemProblem(ProblemFields):
    """An ordered item cannot be ordered."""

    item_code: str = Field(description="The item at fault.", examples=["KJ-001"])


class InvalidProfile(Unprocessable):
    codes = meanings(invalid_profile="The SLA profile is not `A-B-C` working days in increasing order.")

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(
            f"SLA profile {text!r} is invalid: {reason}",
            code="invalid_profile",
            errors=[{"loc": ["query", "profile"], "msg": reason, "type": "invalid_profile"}],
        )


class InvalidInstant(Unprocessable):
    codes = meanings(invalid_instant="An instant lacks a UTC offset (RFC 3339) or is out of range.")

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(
            f"{field}: {reason}",
            code="invalid_instant",
            errors=[{"loc": ["query", field], "msg": reason, "type": "invalid_instant"}],
        )


class InvalidOverlay(Unprocessable):
    codes = meanings(
        date_outside_year="The overlay names dates outside the year it is for.",
        duplicate_date="The overlay names a date twice.",
    )
    fields = OverlayProblem

    def __init__(self, code: str, detail: str, dates: list[str]) -> None:
        super().__init__(
            detail,
            code=code,
            dates=dates,
            errors=[{"loc": ["body", "days"], "msg": detail, "type": code}],
        )


class TicketNotFound(NotFound):
    codes = meanings(ticket_not_found="No ticket has this id or number, or the caller may not see it.")

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"Ticket {ticket_id!r} does not exist or is not visible to you.", code="ticket_not_found")


class EnterpriseNotFound(NotFound):
    codes = meanings(enterprise_not_found="No enterprise has this id, or the caller may not see it.")

    def __init__(self, enterprise_id: str) -> None:
        super().__init__(
            f"Enterprise {enterprise_id!r} does not exist or is not visible to you.", code="enterprise_not_found"
        )


class InvalidCreditCode(Unprocessable):
    codes = meanings(invalid_credit_code="The unified social credit code's check character is wrong (GB 32100-2015).")

    def __init__(self, code: str) -> None:
        super().__init__(
            f"{code!r} is not a valid unified social credit code (GB 32100-2015 check character).",
            code="invalid_credit_code",
            errors=[{"loc": ["body", "credit_code"], "msg": "check character mismatch", "type": "invalid_credit_code"}],
        )


class DuplicateCreditCode(Conflict):
    codes = meanings(duplicate_credit_code="An enterprise with this credit code is already registered.")

    def __init__(self, code: str) -> None:
        super().__init__(f"An enterprise with credit code {code} is already registered.", code="duplicate_credit_code")


class CalendarChanging(Conflict):
    codes = meanings(
        calendar_changing="The working-day calendar changed during every attempt; nothing was saved, retry."
    )

    def __init__(self) -> None:
        super().__init__(
            "The working-day calendar changed during each attempt to save this; nothing was saved, retry.",
            code="calendar_changing",
        )


class CatalogUnavailable(UpstreamUnavailable):
    codes = meanings(catalog_unavailable="The catalogue service is unavailable; nothing was saved.")

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The catalogue service is unavailable ({reason}); nothing was saved.", code="catalog_unavailable"
        )


class ItemUnavailable(Unprocessable):
    codes = meanings(item_unavailable="An ordered item is not on the current menu or not published.")
    fields = ItemProblem

    def __init__(self, item_code: str, reason: str) -> None:
        super().__init__(
            f"Item {item_code} cannot be ordered: {reason}.",
            code="item_unavailable",
            item_code=item_code,
            errors=[{"loc": ["body", "items", item_code], "msg": reason, "type": "item_unavailable"}],
        )


class ItemNotEligible(Unprocessable):
    codes = meanings(item_not_eligible="An ordered item is not for enterprises of the caller's size.")
    fields = ItemProblem

    def __init__(self, item_code: str, size: str, eligible: list[str]) -> None:
        super().__init__(
            f"Item {item_code} is only for {', '.join(eligible)} enterprises; yours is {size}.",
            code="item_not_eligible",
            item_code=item_code,
            errors=[{"loc": ["body", "items", item_code], "msg": "size not eligible", "type": "item_not_eligible"}],
        )


class UnknownCode(Unprocessable):
    codes = meanings(unknown_reference="A field names a code that does not exist or is not active.")

    def __init__(self, field: str, value: str) -> None:
        super().__init__(
            f"{field} {value!r} does not exist.",
            code="unknown_reference",
            errors=[{"loc": ["body", field], "msg": "unknown code", "type": "unknown_reference"}],
        )


class InvalidField(Unprocessable):
    codes = meanings(
        invalid_field="A field's value is not allowed in this request; `errors` says which and why.",
        invalid_if_match='`If-Match` is not a version number (`"3"`).',
        duplicate_item="An order names the same item twice.",
        field_forbidden="The caller's role may not set this field.",
    )

    def __init__(self, field: str, detail: str, *, code: str = "invalid_field") -> None:
        super().__init__(detail, code=code, errors=[{"loc": ["body", field], "msg": detail, "type": code}])


class ActionForbiddenProblem(Forbidden):
    codes = meanings(action_forbidden="The caller's role or relation to the ticket may never take this action on it.")
    fields = StateProblem

    def __init__(self, detail: str, *, state: str, action: str) -> None:
        super().__init__(detail, code="action_forbidden", state=state, action=action)


class InvalidTransition(Conflict):
    codes = meanings(
        invalid_transition="The ticket's status does not allow this action now; `state` and `action` say which."
    )
    fields = StateProblem

    def __init__(self, detail: str, *, state: str, action: str) -> None:
        super().__init__(detail, code="invalid_transition", state=state, action=action)


class VersionMismatch(PreconditionFailed):
    codes = meanings(
        version_mismatch="The ticket changed since the version `If-Match` names; `current_version` says where it is."
    )
    fields = VersionMismatchProblem

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"If-Match names version {expected}, but the ticket is at version {actual}; reload and retry.",
            code="version_mismatch",
            current_version=actual,
        )


class AlreadyRated(Conflict):
    codes = meanings(already_rated="This resolution has already been rated.")

    def __init__(self) -> None:
        super().__init__("This resolution has already been rated.", code="already_rated")


class NotRatable(Conflict):
    codes = meanings(
        invalid_transition="The ticket's status does not allow this action now; `state` and `action` say which."
    )
    fields = StateProblem

    def __init__(self, status: str) -> None:
        super().__init__(
            f"A ticket that is {status} cannot be rated; only resolved, explained or closed ones.",
            code="invalid_transition",
            state=status,
            action="feedback",
        )


class RequestInFlight(Conflict):
    codes = meanings(request_in_flight="A request with this `Idempotency-Key` is still running; retry later.")

    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry later.", code="request_in_flight"
        )


class IdempotencyKeyReused(Unprocessable):
    codes = meanings(idempotency_key_reused="This `Idempotency-Key` was used with a different request body.")

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was used with a different request body.",
            code="idempotency_key_reused",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with another payload", "type": "reused"}],
        )


class FeedbackNotFound(NotFound):
    codes = meanings(feedback_not_found="The ticket has no rating of that resolution round.")

    def __init__(self, ticket_id: str, resolution_round: int) -> None:
        super().__init__(
            f"Ticket {ticket_id!r} has no rating of resolution round {resolution_round}.", code="feedback_not_found"
        )


class NotUnsatisfied(Conflict):
    codes = meanings(not_unsatisfied="Only an unsatisfied rating can be ruled unreasonable.")

    def __init__(self, rating: str) -> None:
        super().__init__(
            f"Only an unsatisfied rating can be ruled unreasonable; this one is {rating!r}.", code="not_unsatisfied"
        )


class AlreadyRuledOut(Conflict):
    codes = meanings(already_ruled_out="The rating has already been ruled unreasonable.")

    def __init__(self) -> None:
        super().__init__("This rating has already been ruled unreasonable.", code="already_ruled_out")


class InvalidPeriod(Unprocessable):
    codes = meanings(
        invalid_period="The period asked for is not a valid date range (start after end, out of range, too long)."
    )

    def __init__(self, detail: str, *, field: str, reason: str) -> None:
        super().__init__(
            detail, code="invalid_period", errors=[{"loc": ["query", field], "msg": reason, "type": "invalid_period"}]
        )


class InvalidScheme(Unprocessable):
    codes = meanings(invalid_scheme="The scoring scheme is inconsistent (points, thresholds, floors or weights).")

    def __init__(self, loc: list[str | int], message: str) -> None:
        super().__init__(
            message, code="invalid_scheme", errors=[{"loc": loc, "msg": message, "type": "invalid_scheme"}]
        )


class SchemeNotFound(NotFound):
    codes = meanings(scheme_not_found="No scoring scheme of that version.")

    def __init__(self, version: int) -> None:
        super().__init__(f"Scoring scheme version {version} does not exist.", code="scheme_not_found")


class StatsNotVisible(Forbidden):
    codes = meanings(
        stats_not_visible="The caller's role may not read these statistics (staff: only their own department)."
    )

    def __init__(self, detail: str) -> None:
        super().__init__(detail, code="stats_not_visible")

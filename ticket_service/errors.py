"""Problems the ticket service answers with."""

from __future__ import annotations

from services.errors import Conflict, Forbidden, NotFound, PreconditionFailed, Unprocessable, UpstreamUnavailable


class InvalidProfile(Unprocessable):
    def __init__(self, text: str, reason: str) -> None:
        super().__init__(
            f"SLA profile {text!r} is invalid: {reason}",
            code="invalid_profile",
            errors=[{"loc": ["query", "profile"], "msg": reason, "type": "invalid_profile"}],
        )


class InvalidInstant(Unprocessable):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(
            f"{field}: {reason}",
            code="invalid_instant",
            errors=[{"loc": ["query", field], "msg": reason, "type": "invalid_instant"}],
        )


class InvalidOverlay(Unprocessable):
    def __init__(self, code: str, detail: str, dates: list[str]) -> None:
        super().__init__(
            detail,
            code=code,
            dates=dates,
            errors=[{"loc": ["body", "days"], "msg": detail, "type": code}],
        )


class TicketNotFound(NotFound):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"Ticket {ticket_id!r} does not exist or is not visible to you.", code="ticket_not_found")


class EnterpriseNotFound(NotFound):
    def __init__(self, enterprise_id: str) -> None:
        super().__init__(
            f"Enterprise {enterprise_id!r} does not exist or is not visible to you.", code="enterprise_not_found"
        )


class InvalidCreditCode(Unprocessable):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"{code!r} is not a valid unified social credit code (GB 32100-2015 check character).",
            code="invalid_credit_code",
            errors=[{"loc": ["body", "credit_code"], "msg": "check character mismatch", "type": "invalid_credit_code"}],
        )


class DuplicateCreditCode(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(f"An enterprise with credit code {code} is already registered.", code="duplicate_credit_code")


class CalendarChanging(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "The working-day calendar changed during each attempt to save this; nothing was saved, retry.",
            code="calendar_changing",
        )


class CatalogUnavailable(UpstreamUnavailable):
    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The catalogue service is unavailable ({reason}); nothing was saved.", code="catalog_unavailable"
        )


class ItemUnavailable(Unprocessable):
    def __init__(self, item_code: str, reason: str) -> None:
        super().__init__(
            f"Item {item_code} cannot be ordered: {reason}.",
            code="item_unavailable",
            item_code=item_code,
            errors=[{"loc": ["body", "items", item_code], "msg": reason, "type": "item_unavailable"}],
        )


class ItemNotEligible(Unprocessable):
    def __init__(self, item_code: str, size: str, eligible: list[str]) -> None:
        super().__init__(
            f"Item {item_code} is only for {', '.join(eligible)} enterprises; yours is {size}.",
            code="item_not_eligible",
            item_code=item_code,
            errors=[{"loc": ["body", "items", item_code], "msg": "size not eligible", "type": "item_not_eligible"}],
        )


class UnknownCode(Unprocessable):
    def __init__(self, field: str, value: str) -> None:
        super().__init__(
            f"{field} {value!r} does not exist.",
            code="unknown_reference",
            errors=[{"loc": ["body", field], "msg": "unknown code", "type": "unknown_reference"}],
        )


class InvalidField(Unprocessable):
    def __init__(self, field: str, detail: str, *, code: str = "invalid_field") -> None:
        super().__init__(detail, code=code, errors=[{"loc": ["body", field], "msg": detail, "type": code}])


class ActionForbiddenProblem(Forbidden):
    def __init__(self, detail: str, *, state: str, action: str) -> None:
        super().__init__(detail, code="action_forbidden", state=state, action=action)


class InvalidTransition(Conflict):
    def __init__(self, detail: str, *, state: str, action: str) -> None:
        super().__init__(detail, code="invalid_transition", state=state, action=action)


class VersionMismatch(PreconditionFailed):
    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"If-Match names version {expected}, but the ticket is at version {actual}; reload and retry.",
            code="version_mismatch",
            current_version=actual,
        )


class AlreadyRated(Conflict):
    def __init__(self) -> None:
        super().__init__("This resolution has already been rated.", code="already_rated")


class NotRatable(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(
            f"A ticket that is {status} cannot be rated; only resolved, explained or closed ones.",
            code="invalid_transition",
            state=status,
            action="feedback",
        )


class RequestInFlight(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "A request with this Idempotency-Key is still being processed; retry later.", code="request_in_flight"
        )


class IdempotencyKeyReused(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was used with a different request body.",
            code="idempotency_key_reused",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "reused with another payload", "type": "reused"}],
        )


class FeedbackNotFound(NotFound):
    def __init__(self, ticket_id: str, resolution_round: int) -> None:
        super().__init__(
            f"Ticket {ticket_id!r} has no rating of resolution round {resolution_round}.", code="feedback_not_found"
        )


class NotUnsatisfied(Conflict):
    def __init__(self, rating: str) -> None:
        super().__init__(
            f"Only an unsatisfied rating can be ruled unreasonable; this one is {rating!r}.", code="not_unsatisfied"
        )


class AlreadyRuledOut(Conflict):
    def __init__(self) -> None:
        super().__init__("This rating has already been ruled unreasonable.", code="already_ruled_out")

"""Problems the ticket service answers with."""

from __future__ import annotations

from services.errors import Unprocessable


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

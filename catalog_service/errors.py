"""Problems the catalogue answers with."""

from __future__ import annotations

from services.errors import Conflict, NotFound, Unprocessable


class ResourceNotFound(NotFound):
    def __init__(self, kind: str, code: str) -> None:
        super().__init__(f"{kind} {code!r} does not exist.", code=f"{kind}_not_found")


class DuplicateCode(Conflict):
    def __init__(self, kind: str, code: str) -> None:
        super().__init__(f"A {kind} with code {code!r} already exists.", code="duplicate_code")


class DuplicateName(Conflict):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"A {kind} named {name!r} already exists.", code="duplicate_name")


class UnknownReference(Unprocessable):
    def __init__(self, field: str, codes: list[str]) -> None:
        super().__init__(
            f"{field} names codes that do not exist or are not active: {', '.join(codes)}.",
            code="unknown_reference",
            field=field,
            unknown=codes,
            errors=[{"loc": ["body", field], "msg": "unknown or inactive code", "type": "unknown_reference"}],
        )


class InvalidReference(Unprocessable):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(
            detail,
            code="invalid_reference",
            field=field,
            errors=[{"loc": ["body", field], "msg": detail, "type": "invalid_reference"}],
        )


class InUse(Conflict):
    """Withdrawing what published items still rely on: a conflict with the catalogue's state, not a
    malformed request (the withdrawal has no body)."""

    def __init__(self, kind: str, code: str, detail: str, items: list[str]) -> None:
        super().__init__(detail, code="in_use", kind=kind, resource_code=code, items=items)


class InvalidStatusChange(Conflict):
    def __init__(self, kind: str, code: str, status: str, action: str) -> None:
        super().__init__(
            f"{kind} {code!r} is {status}; it cannot be {action}.",
            code="invalid_state",
            state=status,
            action=action,
        )


class MenuImmutable(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(
            f"Menu edition {code!r} is published and cannot change; create a new edition.",
            code="menu_immutable",
        )

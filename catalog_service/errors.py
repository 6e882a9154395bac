"""Problems the catalogue answers with."""

from __future__ import annotations

from types import MappingProxyType

from pydantic import Field

from services.errors import Conflict, NotFound, ProblemFields, StateProblem, Unprocessable, meanings

KINDS = ("department", "category", "item", "policy", "menu")


class UnknownReferenceProblem(ProblemFields):
    """A field names catalogue codes that do not exist or are not active."""

    field: str = Field(description="The body field that names them.", examples=["co_department_codes"])
    unknown: list[str] = Field(description="The codes that are unknown or inactive.", examples=[["abc"]])


class InvalidReferenceProblem(ProblemFields):
    """A field's reference is not allowed here."""

    field: str = Field(description="The body field at fault.", examples=["lead_department_code"])


class InUseProblem(ProblemFields):
    """What a withdrawal would leave published items without."""

    kind: str = Field(description="What was to be withdrawn.", examples=["department"])
    resource_code: str = Field(description="Its code.", examples=["jxw"])
    items: list[str] = Field(description="The published items that still rely on it.", examples=[["KJ-001"]])


class ResourceNotFound(NotFound):
    codes = MappingProxyType(
        {f"{kind}_not_found": f"No {kind} has this code (or it is not visible to the caller)." for kind in KINDS}
    )

    def __init__(self, kind: str, code: str) -> None:
        super().__init__(f"{kind} {code!r} does not exist.", code=f"{kind}_not_found")


class DuplicateCode(Conflict):
    codes = meanings(duplicate_code="Another entry of this kind already has this code.")

    def __init__(self, kind: str, code: str) -> None:
        super().__init__(f"A {kind} with code {code!r} already exists.", code="duplicate_code")


class DuplicateName(Conflict):
    codes = meanings(duplicate_name="Another entry of this kind already has this name.")

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"A {kind} named {name!r} already exists.", code="duplicate_name")


class UnknownReference(Unprocessable):
    codes = meanings(unknown_reference="A field names a code that does not exist or is not active.")
    fields = UnknownReferenceProblem

    def __init__(self, field: str, codes: list[str]) -> None:
        super().__init__(
            f"{field} names codes that do not exist or are not active: {', '.join(codes)}.",
            code="unknown_reference",
            field=field,
            unknown=codes,
            errors=[{"loc": ["body", field], "msg": "unknown or inactive code", "type": "unknown_reference"}],
        )


class InvalidReference(Unprocessable):
    codes = meanings(invalid_reference="A field's reference is not allowed here (e.g. a co-department that leads).")
    fields = InvalidReferenceProblem

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

    codes = meanings(in_use="Published items still rely on it: withdraw or change them first; `items` lists them.")
    fields = InUseProblem

    def __init__(self, kind: str, code: str, detail: str, items: list[str]) -> None:
        super().__init__(detail, code="in_use", kind=kind, resource_code=code, items=items)


class InvalidStatusChange(Conflict):
    codes = meanings(invalid_state="The resource's status does not allow this action; `state` and `action` say which.")
    fields = StateProblem

    def __init__(self, kind: str, code: str, status: str, action: str) -> None:
        super().__init__(
            f"{kind} {code!r} is {status}; it cannot be {action}.",
            code="invalid_state",
            state=status,
            action=action,
        )


class MenuImmutable(Conflict):
    codes = meanings(menu_immutable="A published menu edition never changes; create a new edition.")

    def __init__(self, code: str) -> None:
        super().__init__(
            f"Menu edition {code!r} is published and cannot change; create a new edition.",
            code="menu_immutable",
        )

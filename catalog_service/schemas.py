"""Request and response bodies of the catalogue API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.text import TextInput
from services.workdays import SlaProfile

T = TypeVar("T")

EnterpriseSize = Literal["large", "medium", "small", "micro"]
ALL_SIZES: list[EnterpriseSize] = ["large", "medium", "small", "micro"]
ItemStatus = Literal["draft", "published", "withdrawn"]
ActiveStatus = Literal["active", "withdrawn"]
PolicyLevel = Literal["national", "provincial", "municipal"]

DEPARTMENT_CODE_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"
ITEM_CODE_PATTERN = r"^[A-Z][A-Z0-9-]{1,31}$"
MENU_CODE_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z-]{1,31}$"

DepartmentCode = Annotated[str, StringConstraints(pattern=DEPARTMENT_CODE_PATTERN)]
CategoryCode = Annotated[str, StringConstraints(pattern=DEPARTMENT_CODE_PATTERN)]
ItemCode = Annotated[str, StringConstraints(pattern=ITEM_CODE_PATTERN)]
PolicyCode = Annotated[str, StringConstraints(pattern=ITEM_CODE_PATTERN)]
MenuCode = Annotated[str, StringConstraints(pattern=MENU_CODE_PATTERN)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
Phone = Annotated[str, StringConstraints(pattern=r"^[0-9+() -]{0,32}$")]
Material = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _unique(values: list[T]) -> list[T]:
    if len(set(values)) != len(values):
        raise ValueError("values must be unique")
    return values


def _valid_profile(text: str) -> str:
    return str(SlaProfile.parse(text))


SlaProfileText = Annotated[
    str,
    StringConstraints(max_length=16),
    AfterValidator(_valid_profile),
    Field(
        description="accept-resolve-final working days, e.g. `1-3-5`",
        examples=["1-3-5"],
    ),
]


class _Input(TextInput):
    model_config = ConfigDict(extra="forbid")


# Departments


class DepartmentCreate(_Input):
    code: DepartmentCode = Field(examples=["jxw"])
    name: Name = Field(examples=["镇江市经济和信息化委员会"])
    short_name: ShortText = Field("", examples=["市经信委"])
    phone: Phone = Field("", examples=["0511-84426001"])


class DepartmentUpdate(_Input):
    name: Name | None = None
    short_name: ShortText | None = None
    phone: Phone | None = None


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    short_name: str
    phone: str
    status: ActiveStatus
    version: int
    created_at: datetime
    updated_at: datetime


# Categories


class CategoryCreate(_Input):
    code: CategoryCode = Field(examples=["green-energy"])
    name: Name = Field(examples=["绿色节能"])
    description: LongText = ""
    sort_order: int = Field(0, ge=0, le=10_000)
    default_co_department_codes: Annotated[list[DepartmentCode], Field(max_length=10), AfterValidator(_unique)] = Field(
        default_factory=list
    )


class CategoryUpdate(_Input):
    name: Name | None = None
    description: LongText | None = None
    sort_order: int | None = Field(None, ge=0, le=10_000)
    default_co_department_codes: (
        Annotated[list[DepartmentCode], Field(max_length=10), AfterValidator(_unique)] | None
    ) = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str
    sort_order: int
    default_co_department_codes: list[str]
    status: ActiveStatus
    version: int
    created_at: datetime
    updated_at: datetime


# Policies


class PolicyCreate(_Input):
    code: PolicyCode = Field(examples=["POL-MUN-2016-01"])
    title: Title
    level: PolicyLevel
    issuer: ShortText = ""
    document_number: ShortText = ""
    issued_on: date
    summary: LongText = ""
    status: Literal["draft", "published"] = "published"


class PolicyUpdate(_Input):
    title: Title | None = None
    level: PolicyLevel | None = None
    issuer: ShortText | None = None
    document_number: ShortText | None = None
    issued_on: date | None = None
    summary: LongText | None = None


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    title: str
    level: PolicyLevel
    issuer: str
    document_number: str
    issued_on: date
    summary: str
    status: ItemStatus
    version: int
    created_at: datetime
    updated_at: datetime


# Service items

SizeList = Annotated[list[EnterpriseSize], Field(min_length=1, max_length=4), AfterValidator(_unique)]
CoDepartments = Annotated[list[DepartmentCode], Field(max_length=10), AfterValidator(_unique)]
Materials = Annotated[list[Material], Field(max_length=20)]
PolicyCodes = Annotated[list[PolicyCode], Field(max_length=10), AfterValidator(_unique)]


class ItemCreate(_Input):
    code: ItemCode = Field(examples=["LS-001"])
    title: Title = Field(examples=["绿色节能技术改造补贴"])
    description: LongText = ""
    category_code: CategoryCode = Field(examples=["green-energy"])
    lead_department_code: DepartmentCode = Field(examples=["jxw"])
    co_department_codes: CoDepartments = Field(default_factory=list)
    eligible_sizes: SizeList = Field(default_factory=lambda: list(ALL_SIZES))
    required_materials: Materials = Field(default_factory=list)
    policy_codes: PolicyCodes = Field(default_factory=list)
    sla_profile: SlaProfileText = "1-3-5"
    status: Literal["draft", "published"] = "draft"


class ItemUpdate(_Input):
    title: Title | None = None
    description: LongText | None = None
    category_code: CategoryCode | None = None
    lead_department_code: DepartmentCode | None = None
    co_department_codes: CoDepartments | None = None
    eligible_sizes: SizeList | None = None
    required_materials: Materials | None = None
    policy_codes: PolicyCodes | None = None
    sla_profile: SlaProfileText | None = None


class ItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    title: str
    description: str
    category_code: str
    lead_department_code: str
    co_department_codes: list[str]
    eligible_sizes: list[EnterpriseSize]
    required_materials: list[str]
    policy_codes: list[str]
    sla_profile: str
    status: ItemStatus
    version: int
    created_at: datetime
    updated_at: datetime


# Menu editions


def _not_reserved(code: str) -> str:
    if code.lower() == "current":
        raise ValueError("'current' is reserved for the live edition")
    return code


class MenuCreate(_Input):
    code: Annotated[MenuCode, AfterValidator(_not_reserved)] = Field(examples=["2016-01"])
    title: Title = Field(examples=["镇江市涉企服务菜单（第一批）"])
    description: LongText = ""
    item_codes: Annotated[list[ItemCode], Field(min_length=1, max_length=500), AfterValidator(_unique)]


class MenuUpdate(_Input):
    title: Title | None = None
    description: LongText | None = None
    item_codes: Annotated[list[ItemCode], Field(min_length=1, max_length=500), AfterValidator(_unique)] | None = None


class MenuPublish(_Input):
    published_on: date | None = Field(None, description="Publication date; today if omitted.")


class MenuRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    title: str
    description: str
    item_codes: list[str]
    status: ItemStatus
    published_on: date | None
    published_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class MenuDetail(MenuRead):
    items: list[ItemRead]

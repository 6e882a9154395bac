"""Request and response bodies of the catalogue API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.text import TextInput
from services.workdays import SLA_PROFILE_SCHEMA, SlaProfile

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


# The JSON Schema states what `_unique` checks.
UNIQUE = AfterValidator(_unique)
UNIQUE_ITEMS = Field(json_schema_extra={"uniqueItems": True})


def _valid_profile(text: str) -> str:
    return str(SlaProfile.parse(text))


SlaProfileText = Annotated[
    str,
    StringConstraints(max_length=16),
    AfterValidator(_valid_profile),
    Field(
        description="accept-resolve-final working days, each 1–60 and none less than the one before, e.g. `1-3-5`",
        examples=["1-3-5"],
        json_schema_extra=SLA_PROFILE_SCHEMA,
    ),
]

CODE_DESCRIPTION = "Stable code, never reused; lower-case letters, digits and `-`, 2–32 characters."
UPPER_CODE_DESCRIPTION = "Stable code, never reused; upper-case letters, digits and `-`, 2–32 characters."
STATUS_DESCRIPTION = "draft: admins only see it; published: anyone sees it; withdrawn: kept for history, hidden."
ACTIVE_DESCRIPTION = "active: in use; withdrawn: kept for history, hidden from everyone but admins."
VERSION_DESCRIPTION = "Incremented by every change."
CREATED_DESCRIPTION = "When the record was created (RFC 3339)."
UPDATED_DESCRIPTION = "When the record last changed (RFC 3339)."
UNCHANGED = " Omitted or null: unchanged."


class _Input(TextInput):
    model_config = ConfigDict(extra="forbid")


# Departments


class DepartmentCreate(_Input):
    """A new municipal department (委办局) that can own or co-handle service items."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"code": "dsj", "name": "镇江市大数据管理局", "short_name": "市大数据局", "phone": "0511-85021234"}
            ]
        }
    )

    code: DepartmentCode = Field(description=CODE_DESCRIPTION, examples=["jxw"])
    name: Name = Field(description="Full official name, unique.", examples=["镇江市经济和信息化委员会"])
    short_name: ShortText = Field("", description="The short name used in lists.", examples=["市经信委"])
    phone: Phone = Field("", description="The department's public service phone.", examples=["0511-84426001"])


class DepartmentUpdate(_Input):
    """Changes to a department; only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "0511-84426002"}]})

    name: Name | None = Field(None, description="Full official name, unique." + UNCHANGED)
    short_name: ShortText | None = Field(None, description="The short name used in lists." + UNCHANGED)
    phone: Phone | None = Field(None, description="The department's public service phone." + UNCHANGED)


class DepartmentRead(BaseModel):
    """A municipal department."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="The department's code.", examples=["jxw"])
    name: str = Field(description="Full official name.", examples=["镇江市经济和信息化委员会"])
    short_name: str = Field(description="The short name used in lists; may be empty.", examples=["市经信委"])
    phone: str = Field(description="Public service phone; may be empty.", examples=["0511-84426001"])
    status: ActiveStatus = Field(description=ACTIVE_DESCRIPTION)
    version: int = Field(description=VERSION_DESCRIPTION)
    created_at: datetime = Field(description=CREATED_DESCRIPTION)
    updated_at: datetime = Field(description=UPDATED_DESCRIPTION)


# Categories

DEFAULT_CO_DESCRIPTION = (
    "Departments that co-handle a free request of this category when it goes to joint review; unique, at most 10."
)


class CategoryCreate(_Input):
    """A new category of the service menu (服务类别)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "green-energy",
                    "name": "绿色节能",
                    "description": "节能改造、绿色工厂创建等方面的服务事项",
                    "sort_order": 30,
                    "default_co_department_codes": ["fgw", "sthjj"],
                }
            ]
        }
    )

    code: CategoryCode = Field(description=CODE_DESCRIPTION, examples=["green-energy"])
    name: Name = Field(description="The category's name, unique.", examples=["绿色节能"])
    description: LongText = Field("", description="What the category covers.")
    sort_order: int = Field(0, ge=0, le=10_000, description="Position in the menu, ascending.")
    default_co_department_codes: Annotated[list[DepartmentCode], Field(max_length=10), UNIQUE, UNIQUE_ITEMS] = Field(
        default_factory=list, description=DEFAULT_CO_DESCRIPTION
    )


class CategoryUpdate(_Input):
    """Changes to a category; only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"sort_order": 40}]})

    name: Name | None = Field(None, description="The category's name, unique." + UNCHANGED)
    description: LongText | None = Field(None, description="What the category covers." + UNCHANGED)
    sort_order: int | None = Field(None, ge=0, le=10_000, description="Position in the menu, ascending." + UNCHANGED)
    default_co_department_codes: Annotated[list[DepartmentCode], Field(max_length=10), UNIQUE, UNIQUE_ITEMS] | None = (
        Field(None, description=DEFAULT_CO_DESCRIPTION + UNCHANGED)
    )


class CategoryRead(BaseModel):
    """A category of the service menu."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="The category's code.", examples=["green-energy"])
    name: str = Field(description="The category's name.", examples=["绿色节能"])
    description: str = Field(description="What the category covers; may be empty.")
    sort_order: int = Field(description="Position in the menu, ascending.")
    default_co_department_codes: list[str] = Field(description=DEFAULT_CO_DESCRIPTION)
    status: ActiveStatus = Field(description=ACTIVE_DESCRIPTION)
    version: int = Field(description=VERSION_DESCRIPTION)
    created_at: datetime = Field(description=CREATED_DESCRIPTION)
    updated_at: datetime = Field(description=UPDATED_DESCRIPTION)


# Policies

LEVEL_DESCRIPTION = "Who issued it: national, provincial (江苏省) or municipal (镇江市)."


class PolicyCreate(_Input):
    """A new policy document that service items cite as their basis."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "POL-MUN-2016-01",
                    "title": "镇江市关于进一步优化涉企服务的实施意见",
                    "level": "municipal",
                    "issuer": "镇江市人民政府",
                    "document_number": "镇政发〔2016〕12号",
                    "issued_on": "2016-03-15",
                    "summary": "建立965808企业服务热线，推行涉企服务“1-3-5”办理时限。",
                    "status": "published",
                }
            ]
        }
    )

    code: PolicyCode = Field(description=UPPER_CODE_DESCRIPTION, examples=["POL-MUN-2016-01"])
    title: Title = Field(description="The document's title.", examples=["镇江市关于进一步优化涉企服务的实施意见"])
    level: PolicyLevel = Field(description=LEVEL_DESCRIPTION)
    issuer: ShortText = Field("", description="The issuing authority.", examples=["镇江市人民政府"])
    document_number: ShortText = Field(
        "", description="The official document number (文号).", examples=["镇政发〔2016〕12号"]
    )
    issued_on: date = Field(description="The date of issue.")
    summary: LongText = Field("", description="What the policy provides.")
    status: Literal["draft", "published"] = Field(
        "published", description="published (default) announces it to the enterprises at once; draft keeps it hidden."
    )


class PolicyUpdate(_Input):
    """Changes to a policy that is not withdrawn; only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"summary": "明确涉企服务事项的受理、办结和答复时限。"}]})

    title: Title | None = Field(None, description="The document's title." + UNCHANGED)
    level: PolicyLevel | None = Field(None, description=LEVEL_DESCRIPTION + UNCHANGED)
    issuer: ShortText | None = Field(None, description="The issuing authority." + UNCHANGED)
    document_number: ShortText | None = Field(None, description="The official document number (文号)." + UNCHANGED)
    issued_on: date | None = Field(None, description="The date of issue." + UNCHANGED)
    summary: LongText | None = Field(None, description="What the policy provides." + UNCHANGED)


class PolicyRead(BaseModel):
    """A policy document."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="The policy's code.", examples=["POL-MUN-2016-01"])
    title: str = Field(description="The document's title.")
    level: PolicyLevel = Field(description=LEVEL_DESCRIPTION)
    issuer: str = Field(description="The issuing authority; may be empty.")
    document_number: str = Field(description="The official document number (文号); may be empty.")
    issued_on: date = Field(description="The date of issue.")
    summary: str = Field(description="What the policy provides; may be empty.")
    status: ItemStatus = Field(description=STATUS_DESCRIPTION)
    version: int = Field(description=VERSION_DESCRIPTION)
    created_at: datetime = Field(description=CREATED_DESCRIPTION)
    updated_at: datetime = Field(description=UPDATED_DESCRIPTION)


# Service items

SizeList = Annotated[list[EnterpriseSize], Field(min_length=1, max_length=4), UNIQUE, UNIQUE_ITEMS]
CoDepartments = Annotated[list[DepartmentCode], Field(max_length=10), UNIQUE, UNIQUE_ITEMS]
Materials = Annotated[list[Material], Field(max_length=20)]
PolicyCodes = Annotated[list[PolicyCode], Field(max_length=10), UNIQUE, UNIQUE_ITEMS]

ITEM_TITLE_DESCRIPTION = "The item's title as the menu shows it."
CATEGORY_DESCRIPTION = "The item's category; it must be active."
LEAD_DESCRIPTION = "The department that handles the item's tickets; it must be active."
CO_DESCRIPTION = "Departments that co-handle it; active, unique, at most 10, never the lead department."
SIZES_DESCRIPTION = "Enterprise sizes that may order the item; unique, 1–4."
MATERIALS_DESCRIPTION = "Documents the enterprise prepares (申请材料), at most 20."
POLICIES_DESCRIPTION = "Policies the item is based on; existing (draft or published), unique, at most 10."
SLA_DESCRIPTION = "Working days to accept, resolve and give the final answer, each 1–60, non-decreasing: `1-3-5`."


class ItemCreate(_Input):
    """A new service item (服务事项) of the menu."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "LS-001",
                    "title": "绿色节能技术改造补贴",
                    "description": "对企业实施的节能技术改造项目，按节能量给予资金补贴。",
                    "category_code": "green-energy",
                    "lead_department_code": "jxw",
                    "co_department_codes": ["czj"],
                    "eligible_sizes": ["large", "medium", "small"],
                    "required_materials": ["项目申请表", "节能量审核报告"],
                    "policy_codes": ["POL-MUN-2016-01"],
                    "sla_profile": "1-3-5",
                    "status": "draft",
                }
            ]
        }
    )

    code: ItemCode = Field(description=UPPER_CODE_DESCRIPTION, examples=["LS-001"])
    title: Title = Field(description=ITEM_TITLE_DESCRIPTION, examples=["绿色节能技术改造补贴"])
    description: LongText = Field("", description="What the service is and who it is for.")
    category_code: CategoryCode = Field(description=CATEGORY_DESCRIPTION, examples=["green-energy"])
    lead_department_code: DepartmentCode = Field(description=LEAD_DESCRIPTION, examples=["jxw"])
    co_department_codes: CoDepartments = Field(default_factory=list, description=CO_DESCRIPTION)
    eligible_sizes: SizeList = Field(
        default_factory=lambda: list(ALL_SIZES), description=SIZES_DESCRIPTION + " Default: every size."
    )
    required_materials: Materials = Field(default_factory=list, description=MATERIALS_DESCRIPTION)
    policy_codes: PolicyCodes = Field(default_factory=list, description=POLICIES_DESCRIPTION)
    sla_profile: SlaProfileText = Field("1-3-5", description=SLA_DESCRIPTION)
    status: Literal["draft", "published"] = Field(
        "draft", description="draft (default) keeps it hidden; published lets enterprises order it from a menu."
    )


class ItemUpdate(_Input):
    """Changes to an item that is not withdrawn; only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"sla_profile": "1-2-3", "co_department_codes": []}]})

    title: Title | None = Field(None, description=ITEM_TITLE_DESCRIPTION + UNCHANGED)
    description: LongText | None = Field(None, description="What the service is and who it is for." + UNCHANGED)
    category_code: CategoryCode | None = Field(None, description=CATEGORY_DESCRIPTION + UNCHANGED)
    lead_department_code: DepartmentCode | None = Field(None, description=LEAD_DESCRIPTION + UNCHANGED)
    co_department_codes: CoDepartments | None = Field(None, description=CO_DESCRIPTION + UNCHANGED)
    eligible_sizes: SizeList | None = Field(None, description=SIZES_DESCRIPTION + UNCHANGED)
    required_materials: Materials | None = Field(None, description=MATERIALS_DESCRIPTION + UNCHANGED)
    policy_codes: PolicyCodes | None = Field(None, description=POLICIES_DESCRIPTION + UNCHANGED)
    sla_profile: SlaProfileText | None = Field(None, description=SLA_DESCRIPTION + UNCHANGED)


class ItemRead(BaseModel):
    """A service item: what an enterprise can order, who handles it and within which deadlines."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="The item's code.", examples=["LS-001"])
    title: str = Field(description=ITEM_TITLE_DESCRIPTION, examples=["绿色节能技术改造补贴"])
    description: str = Field(description="What the service is and who it is for; may be empty.")
    category_code: str = Field(description="The item's category.", examples=["green-energy"])
    lead_department_code: str = Field(description="The department that handles its tickets.", examples=["jxw"])
    co_department_codes: list[str] = Field(description="Departments that co-handle it.")
    eligible_sizes: list[EnterpriseSize] = Field(description="Enterprise sizes that may order it.")
    required_materials: list[str] = Field(description=MATERIALS_DESCRIPTION)
    policy_codes: list[str] = Field(description="Policies the item is based on.")
    sla_profile: str = Field(description=SLA_DESCRIPTION, examples=["1-3-5"])
    status: ItemStatus = Field(description=STATUS_DESCRIPTION)
    version: int = Field(description=VERSION_DESCRIPTION)
    created_at: datetime = Field(description=CREATED_DESCRIPTION)
    updated_at: datetime = Field(description=UPDATED_DESCRIPTION)


# Menu editions


def _not_reserved(code: str) -> str:
    if code.lower() == "current":
        raise ValueError("'current' is reserved for the live edition")
    return code


MENU_ITEMS_DESCRIPTION = "The edition's items in menu order; existing, unique, 1–500 (published ones to publish it)."


class MenuCreate(_Input):
    """A new edition (批次) of the service menu, as a draft."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "2016-01",
                    "title": "镇江市涉企服务菜单（第一批）",
                    "description": "首批公布的涉企服务事项",
                    "item_codes": ["LS-001", "LS-002"],
                }
            ]
        }
    )

    code: Annotated[MenuCode, AfterValidator(_not_reserved)] = Field(
        description="Letters, digits and `-`, 2–32 characters; `current` is reserved.",
        examples=["2016-01"],
        json_schema_extra={"pattern": "^(?![Cc][Uu][Rr][Rr][Ee][Nn][Tt]$)" + MENU_CODE_PATTERN[1:]},
    )
    title: Title = Field(description="The edition's title.", examples=["镇江市涉企服务菜单（第一批）"])
    description: LongText = Field("", description="What the edition brings.")
    item_codes: Annotated[list[ItemCode], Field(min_length=1, max_length=500), UNIQUE, UNIQUE_ITEMS] = Field(
        description=MENU_ITEMS_DESCRIPTION
    )


class MenuUpdate(_Input):
    """Changes to a draft edition; only the fields sent change."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"item_codes": ["LS-001", "LS-002", "LS-003"]}]})

    title: Title | None = Field(None, description="The edition's title." + UNCHANGED)
    description: LongText | None = Field(None, description="What the edition brings." + UNCHANGED)
    item_codes: Annotated[list[ItemCode], Field(min_length=1, max_length=500), UNIQUE, UNIQUE_ITEMS] | None = Field(
        None, description=MENU_ITEMS_DESCRIPTION + UNCHANGED
    )


class MenuPublish(_Input):
    """Publishing a draft edition: it becomes the current menu if it is the latest published."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"published_on": "2016-05-01"}]})

    published_on: date | None = Field(None, description="Publication date; today (Asia/Shanghai) if omitted.")


class MenuRead(BaseModel):
    """An edition of the service menu."""

    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="The edition's code.", examples=["2016-01"])
    title: str = Field(description="The edition's title.")
    description: str = Field(description="What the edition brings; may be empty.")
    item_codes: list[str] = Field(description="The edition's items in menu order.")
    status: ItemStatus = Field(description=STATUS_DESCRIPTION)
    published_on: date | None = Field(description="The publication date; null while a draft.")
    published_at: datetime | None = Field(description="When it was published; null while a draft.")
    version: int = Field(description=VERSION_DESCRIPTION)
    created_at: datetime = Field(description=CREATED_DESCRIPTION)
    updated_at: datetime = Field(description=UPDATED_DESCRIPTION)


class MenuDetail(MenuRead):
    """An edition with its items (those the caller may see)."""

    items: list[ItemRead] = Field(description="The edition's items the caller may see, in menu order.")

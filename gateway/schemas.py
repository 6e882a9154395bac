"""Request and response bodies of the gateway's own API: tokens and accounts."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from pydantic.config import JsonDict

from services.text import TextInput

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


class TokenRead(BaseModel):
    """An OAuth2 bearer token (RFC 6749 §5.1) to send as `Authorization: Bearer <access_token>`."""

    access_token: str = Field(description="A signed JWT naming the caller, its role and its department or enterprise.")
    token_type: Literal["bearer"] = Field("bearer", description="Always `bearer`.")
    expires_in: int = Field(description="Seconds until the token expires.")


AccountRole = Literal["enterprise", "staff", "dispatcher", "supervisor", "admin"]


class AccountRead(BaseModel):
    """A person's account (never its password)."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="Opaque account id.")
    username: str = Field(description="The login name.", examples=["staff-jxw"])
    display_name: str = Field(description="The name shown to others.", examples=["市经信委 经办人"])
    role: AccountRole = Field(description="What the account may do (see the API's role rules).")
    department_code: str | None = Field(description="A staff account's department; null for other roles.")
    enterprise_id: str | None = Field(description="An enterprise account's enterprise; null for other roles.")
    is_active: bool = Field(description="False once the account is disabled: it can no longer log in.")


class MeRead(BaseModel):
    """Who the caller is, as its token states it."""

    subject: str = Field(description="The username, or the integration client's id.")
    role: Literal["enterprise", "staff", "dispatcher", "supervisor", "admin", "hotline", "integration"] = Field(
        description="The caller's role."
    )
    department_code: str | None = Field(description="A staff member's department; null otherwise.")
    enterprise_id: str | None = Field(description="An enterprise account's enterprise; null otherwise.")
    scopes: list[str] = Field(description="OAuth2 scopes granted to an integration client; empty for people.")


def _linked(role: JsonDict, *, department: bool, enterprise: bool) -> JsonDict:
    """JSON Schema for `role`: which of `department_code` and `enterprise_id` it names (required) or not (null)."""
    required: list[JsonValue] = [
        name for name, wanted in (("department_code", department), ("enterprise_id", enterprise)) if wanted
    ]
    return {
        "if": {"properties": {"role": role}, "required": ["role"]},
        "then": {
            "required": required,
            "properties": {
                "department_code": {"type": "string"} if department else {"type": "null"},
                "enterprise_id": {"type": "string", "minLength": 1} if enterprise else {"type": "null"},
            },
        },
    }


class AccountCreate(TextInput):
    """A new account. A staff account names its department, an enterprise account its enterprise, and the
    other roles neither; a dispatcher may create enterprise accounts only."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            # The links that `accounts._check_links` requires of each role.
            "allOf": [
                _linked({"const": "staff"}, department=True, enterprise=False),
                _linked({"const": "enterprise"}, department=False, enterprise=True),
                _linked({"enum": ["dispatcher", "supervisor", "admin"]}, department=False, enterprise=False),
            ],
            "examples": [
                {
                    "username": "enterprise-3",
                    "password": "Zhenjiang-2026!",
                    "role": "enterprise",
                    "display_name": "江苏金山湖新材料股份有限公司",
                    "enterprise_id": "902760da-23bd-5288-8d0e-eb867bddb10d",
                }
            ],
        },
    )

    username: str = Field(
        pattern=USERNAME_PATTERN,
        description="3–64 characters: lower-case letters, digits, `.`, `_` and `-`, starting with a letter or digit.",
        examples=["enterprise-3"],
    )
    password: str = Field(min_length=10, max_length=128, description="10–128 characters.")
    role: AccountRole = Field(description="The account's role.")
    display_name: str = Field("", max_length=100, description="The name shown to others.", examples=["张经理"])
    department_code: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]{1,31}$", description="Staff only: the department they work for."
    )
    enterprise_id: str | None = Field(None, max_length=36, description="Enterprise accounts only: their enterprise.")


class AccountRoleChange(TextInput):
    """An account's new role. A staff role names its department, an enterprise role its enterprise, the
    other roles neither; the change raises the account's token version, so its earlier tokens stop working."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "allOf": [
                _linked({"const": "staff"}, department=True, enterprise=False),
                _linked({"const": "enterprise"}, department=False, enterprise=True),
                _linked({"enum": ["dispatcher", "supervisor", "admin"]}, department=False, enterprise=False),
            ],
            "examples": [{"role": "staff", "department_code": "jxw"}],
        },
    )

    role: AccountRole = Field(description="The account's new role.")
    department_code: str | None = Field(
        None, pattern=r"^[a-z][a-z0-9-]{1,31}$", description="Staff only: the department they work for."
    )
    enterprise_id: str | None = Field(None, max_length=36, description="Enterprise accounts only: their enterprise.")

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.text import TextInput

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class AccountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    username: str
    display_name: str
    role: str
    department_code: str | None
    enterprise_id: str | None
    is_active: bool


class MeRead(BaseModel):
    subject: str
    role: str
    department_code: str | None
    enterprise_id: str | None
    scopes: list[str]


AccountRole = Literal["enterprise", "staff", "dispatcher", "supervisor", "admin"]


class AccountCreate(TextInput):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN, examples=["enterprise-3"])
    password: str = Field(min_length=10, max_length=128)
    role: AccountRole
    display_name: str = Field("", max_length=100)
    department_code: str | None = Field(None, pattern=r"^[a-z][a-z0-9-]{1,31}$", description="Staff only.")
    enterprise_id: str | None = Field(None, max_length=36, description="Enterprise accounts only.")


class AccountRoleChange(TextInput):
    model_config = ConfigDict(extra="forbid")

    role: AccountRole
    department_code: str | None = Field(None, pattern=r"^[a-z][a-z0-9-]{1,31}$", description="Staff only.")
    enterprise_id: str | None = Field(None, max_length=36, description="Enterprise accounts only.")

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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

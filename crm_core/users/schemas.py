from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from crm_core.apitypes import BodyId, text
from crm_core.apitypes import name as name_text

Role = Literal["admin", "manager", "operator"]
Language = Literal["en", "ro", "ru"]
Extension = text(32)


class ColleagueOut(BaseModel):
    """What every signed-in user may see of a colleague (for assignment)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: str
    team_id: int | None
    extension: str | None
    is_active: bool


class UserOut(ColleagueOut):
    email: str | None
    language: str
    timezone: str | None = Field(None, description="IANA zone; null: the company's")
    created_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: text(80, 1)
    password: text(200, 8)
    role: Role = "operator"
    team_id: BodyId | None = None
    extension: Extension | None = None
    full_name: text(200) = ""
    email: EmailStr | None = None
    language: Language = "en"
    timezone: text(64) | None = Field(None, description="IANA zone, e.g. Europe/Bucharest")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    team_id: BodyId | None = None
    extension: Extension | None = None
    full_name: text(200) | None = None
    email: EmailStr | None = None
    language: Language | None = None
    is_active: bool | None = None
    password: text(200, 8) | None = None
    timezone: text(64) | None = Field(None, description="null: the company's zone")


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    manager_id: int | None


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: name_text(120, 1)
    manager_id: BodyId | None = None


class TeamUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: name_text(120, 1) | None = None
    manager_id: BodyId | None = Field(None, description="null removes the manager")

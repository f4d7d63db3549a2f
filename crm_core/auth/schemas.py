from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class LoginForm(BaseModel):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class MeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int | None
    username: str
    full_name: str
    role: str
    team_id: int | None
    extension: str | None
    language: str
    csrf_token: str | None = None

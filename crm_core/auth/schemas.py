from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from crm_core.apitypes import text


class LoginForm(BaseModel):
    username: text(80, 1)
    password: text(200, 1)


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


class SessionOut(BaseModel):
    """One of the user's browser sessions (``cookie``) or API bearer tokens (``bearer``)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    label: str
    address: str
    user_agent: str
    created_at: datetime
    expires_at: datetime
    current: bool = False

from __future__ import annotations

from pydantic import BaseModel, Field


class SurveyOut(BaseModel):
    id: int
    client_id: int
    phone: str = Field(description="E.164 the survey was sent to")
    source: str = Field(description="call | visit | order")
    call_id: int | None
    operator_user_id: int | None
    team_id: int | None
    status: str = Field(description="open | answered | expired")
    rating: int | None
    reply: str
    send_at: str
    answered_at: str | None
    low_rating_task_id: int | None


class CsatFigures(BaseModel):
    responses: int
    average: float | None
    csat: float | None = Field(description="share of 4 and 5 ratings, in percent")


class CsatOperator(CsatFigures):
    user_id: int | None
    username: str | None
    full_name: str | None
    team_id: int | None


class CsatTeam(CsatFigures):
    team_id: int | None
    name: str | None


class CsatOut(BaseModel):
    period: str
    since: str
    overall: CsatFigures
    operators: list[CsatOperator]
    teams: list[CsatTeam]

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import BodyId, Moment, text

Kind = Literal["task", "event"]
Priority = Literal["low", "normal", "high", "urgent"]
Status = Literal["open", "in_progress", "done", "cancelled"]


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    event_type: str
    title: str
    description: str
    client_id: int | None
    assignee_id: int | None
    team_id: int | None
    creator_id: int | None
    due_at: datetime | None
    remind_at: datetime | None
    starts_at: datetime | None
    ends_at: datetime | None
    location: str
    priority: str
    status: str
    source: str
    call_id: str | None
    created_at: datetime
    completed_at: datetime | None
    overdue: bool = Field(False, description="open or in progress and due in the past (derived)")
    custom: dict[str, Any] = Field(default_factory=dict)
    display_title: str = Field(
        "",
        description="the title as the signed-in user reads it: one the system wrote (a missed "
        "call's callback) worded in their language and time zone, unless a person edited it; "
        "otherwise the title itself",
    )
    display_description: str = Field("", description="the description, as display_title")


class TaskPage(BaseModel):
    items: list[TaskOut]
    total: int


class TaskCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: text(250, 1)
    description: text(100_000) = ""
    client_id: BodyId | None = None
    assignee_id: BodyId | None = None
    team_id: BodyId | None = None
    due_at: Moment | None = None
    remind_at: Moment | None = None
    kind: Kind = "task"
    event_type: text(40) = Field("", description="events: meeting, appointment, call, ...")
    priority: Priority = "normal"
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    location: text(250) = ""
    custom: dict[str, Any] = Field(default_factory=dict)


class TaskUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: text(250, 1) | None = None
    description: text(100_000) | None = None
    client_id: BodyId | None = None
    assignee_id: BodyId | None = None
    team_id: BodyId | None = None
    due_at: Moment | None = None
    remind_at: Moment | None = None
    kind: Kind | None = None
    event_type: text(40) | None = None
    priority: Priority | None = None
    status: Status | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    location: text(250) | None = None
    custom: dict[str, Any] | None = None


class Assign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: BodyId | None = Field(description="null leaves the task unassigned")

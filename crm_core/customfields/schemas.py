from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import text

Entity = Literal["client", "task", "interaction"]
Kind = Literal["text", "number", "date", "bool", "choice"]
LabelLanguage = Literal["", "en", "ro", "ru"]


class FieldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    key: str
    label: str
    kind: str
    choices: list[str]
    required: bool
    searchable: bool
    position: int


class FieldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity: Entity = "client"
    key: text(60, 1) = Field(description="lowercase letters, digits, _; used in the API")
    label: text(120, 1)
    kind: Kind
    choices: list[text(120)] = Field(default_factory=list, max_length=200)
    required: bool = False
    searchable: bool = True
    position: int | None = Field(None, ge=0, le=100_000, description="omitted: last")


class FieldUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: text(120, 1) | None = None
    choices: list[text(120)] | None = Field(None, max_length=200)
    required: bool | None = None
    searchable: bool | None = None
    position: int | None = Field(None, ge=0, le=100_000)


class LabelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    field: str
    language: str
    label: str


class LabelSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entity: Entity
    field: text(60, 1)
    language: LabelLanguage = Field("", description="'' renames the label in every language")
    label: text(120, 1)


ChoiceLabels = dict[Literal["en", "ro", "ru"], text(120)]


class Move(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["up", "down"]


class ChoiceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    list_name: str
    code: str
    label: str = Field(description="In the caller's language")
    position: int
    active: bool
    labels: dict[str, str] = Field(default_factory=dict, description="Per language: en, ro, ru")


class ChoiceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: text(40, 1)
    label: text(120, 1)
    position: int | None = Field(None, ge=0, le=100_000)
    labels: ChoiceLabels = Field(default_factory=dict, description="Per language: en, ro, ru")


class ChoiceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: text(120, 1) | None = None
    position: int | None = Field(None, ge=0, le=100_000)
    active: bool | None = None
    labels: ChoiceLabels | None = None

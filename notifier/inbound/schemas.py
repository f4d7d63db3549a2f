from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import BodyId


class InboundOut(BaseModel):
    """One SMS someone sent us."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    from_: str = Field(alias="from", description="E.164 when the number could be read")
    to: str
    body: str
    received_at: str
    client_id: int | None
    outcome: str


class UnknownInbox(BaseModel):
    total: int
    items: list[InboundOut]


class FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: BodyId

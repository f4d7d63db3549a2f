from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import text as bounded
from notifier.sms_segments.schemas import SegmentsOut


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: bounded(250) = ""
    body: bounded(20_000, 1)
    transliterate: bool = Field(
        False, description="Store Romanian diacritics as plain letters (GSM-7: fewer segments)"
    )


class TemplateOut(BaseModel):
    """A template as it is used now (the admin's version, else the built-in one)."""

    key: str
    language: str
    subject: str
    body: str
    custom: bool = Field(description="an admin's version replaces the built-in text")
    preview: str | None = Field(None, description="SMS templates only: rendered with sample data")
    segments: SegmentsOut | None = Field(None, description="SMS templates only: of the preview")


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: bounded(80, 1)
    language: bounded(8, 1)
    subject: bounded(250) = ""
    body: bounded(20_000, 1)
    client_id: int | None = Field(None, ge=1, description="Whose data; none: sample data")


class PreviewOut(BaseModel):
    subject: str
    body: str
    segments: SegmentsOut | None = Field(None, description="SMS templates only")

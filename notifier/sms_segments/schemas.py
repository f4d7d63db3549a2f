from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from crm_core.apitypes import text as bounded


class SegmentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: bounded(10_000)
    transliterate: bool = False


class SegmentsOut(BaseModel):
    """What an SMS text costs: its encoding and the segments it is billed as."""

    model_config = ConfigDict(from_attributes=True)

    encoding: Literal["GSM-7", "UCS-2"]
    segments: int
    characters: int
    units: int
    per_segment: int
    text: str

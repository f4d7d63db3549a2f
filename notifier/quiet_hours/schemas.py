from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm_core.apitypes import text as bounded


class QuietHoursIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_hour: int = Field(ge=0, le=23, description="Local hour the quiet hours start")
    end_hour: int = Field(ge=0, le=23, description="Local hour they end; equal to start: off")
    timezone: bounded(64) = Field(
        "", description="Zone for recipients whose own is unknown; '' = the company's"
    )


class QuietHoursOut(BaseModel):
    start_hour: int
    end_hour: int
    timezone: str = Field(description="As set; '' = the company's")
    zone: str = Field(description="The zone in effect for recipients of unknown zone")
    overridden: bool = Field(description="false: the hours come from the settings")
    active_now: bool = Field(description="Quiet hours are on now in ``zone``")
    next_departure: datetime = Field(description="When a message may leave next (in ``zone``)")
    settings_start_hour: int
    settings_end_hour: int

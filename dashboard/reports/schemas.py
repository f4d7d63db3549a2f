from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frequency: Literal["none", "daily", "weekly"]


class SubscriptionOut(BaseModel):
    frequency: Literal["none", "daily", "weekly"]

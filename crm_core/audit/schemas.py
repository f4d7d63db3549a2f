from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    actor: str | None = None
    action: str
    entity: str
    entity_id: str
    changes: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int

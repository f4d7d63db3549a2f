from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class BackupRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    file_name: str
    size: int | None
    status: str
    stage: str
    progress: int
    encrypted: bool
    schema_revision: str
    rows: int | None
    files: int | None
    verified_at: datetime | None
    verification: str
    verification_detail: str
    error: str


class BackupOverview(BaseModel):
    runs: list[BackupRunOut]
    last_good: BackupRunOut | None
    running: BackupRunOut | None
    next_run_at: datetime | None
    directory: str
    encrypted: bool


class RunStarted(BaseModel):
    run_id: int
    status: str

"""The interface of long-running parts (AMI listener, outbox dispatcher, call simulator)."""

from __future__ import annotations

from typing import Protocol


class BackgroundService(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

"""The interface of long-running parts (AMI listener, outbox dispatcher, call simulator)."""

from __future__ import annotations

from typing import Protocol


class BackgroundService(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


#: How long (seconds) a thread may hold the GIL while another waits for it. CPython's default is
#: 5 ms: the event loop that forwards a popup would wait up to 5 ms behind a worker thread writing
#: the call log or serving a page. 0.5 ms bounds that wait at a cost of a few more switches.
GIL_SWITCH_INTERVAL = 0.0005


def prefer_latency() -> None:
    """Tune this process for the live paths (popups, the wall): called by the processes that
    run an event loop beside worker threads (web processes, ``callcard cti``)."""
    import sys

    sys.setswitchinterval(GIL_SWITCH_INTERVAL)

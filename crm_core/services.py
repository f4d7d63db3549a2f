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


_frozen = False


def started_up() -> None:
    """Called by a live process once it has loaded what it runs on (modules, models, templates,
    settings, the extension directory).

    Those objects live as long as the process. Python's full collections walk every tracked
    object and stop the event loop while they run: with a web or CTI process's start-up heap
    that is 60-140 ms now and then, the whole tail of the popup latency (measured with a
    ``gc.callbacks`` probe, docs/benchmarks.md). ``gc.freeze`` moves them out of the
    collector's sight. Once per process: a second app built in the same process (tests build
    hundreds) must stay collectable, or every engine it made would stay connected.
    """
    import gc

    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()

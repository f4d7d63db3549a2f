"""Every recorded scenario, end to end: replay server -> TCP -> listener -> tracker -> popups ->
bus -> hub -> each operator's websocket, and -> call log. Checked against the ground truth.

For each call of each recording (tests/ami_harness.py reads the expectations from the JSON, nothing
here knows a particular scenario):

- every operator whose phone rang for an inbound call got ``call.ringing`` for it, with the
  caller's number, and nobody else did;
- the operator who answered last got ``call.answered`` with ``by_me: true``; those who rang and
  did not answer got a final ``call.dismissed``; everyone involved got exactly one ``call.ended``
  with the right disposition;
- outbound and internal calls pop nothing up;
- the call log has exactly one row per call with the right direction, extensions, answerer and
  disposition, and a missed or abandoned inbound call has exactly one callback task;
- the reconnect scenario (10) is logged once, even though an observer connection reports it too.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from tests.conftest import LiveServer, Users, free_port
from tests.cti.ami_harness import expected_calls, run_trace, trace_files

SCENARIOS = [p for p in trace_files() if expected_calls(p)]
EXTENSIONS = ("101", "102", "103")


class NullBus:
    """For an observer connection's listener: its popups would be duplicates (in production the
    Redis lock keeps a second listener off); its call log writes are what we check."""

    def publish_sync(self, message) -> None:
        return None


@pytest.fixture
def server(sqlite_database):
    from callcard.app import create_app
    from dashboard.hub import hub

    hub.sticky.clear()  # the hub is process-wide: no popup of an earlier test may be replayed
    live = LiveServer(create_app(), free_port())
    live.start()
    yield live
    live.stop()


async def _read_all(ws, into: list[dict], quiet: float) -> None:
    while True:
        try:
            raw = await asyncio.wait_for(ws.recv(), quiet)
        except TimeoutError:
            return
        message = json.loads(raw)
        if message["type"].startswith("call."):
            into.append(message)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[p.stem for p in SCENARIOS])
async def test_popups_and_call_log_match_the_ground_truth(server, scenario: Path):
    from crm_core.bus import get_bus
    from crm_core.database import session_scope
    from crm_core.tasks.models import Task
    from cti.calllog.models import Call
    from cti.popups import CallPopups

    users = Users()
    ext_user = {ext: users.add(f"op{ext}", extension=ext) for ext in EXTENSIONS}
    sockets = {
        ext: await connect(f"{server.ws_url}/ws?token={users.token(f'op{ext}')}")
        for ext in EXTENSIONS
    }
    for ws in sockets.values():
        assert json.loads(await ws.recv())["type"] == "hello"

    made: list[CallPopups] = []
    runs = json.loads(scenario.read_text()).get("connections", [])
    has_main_run = any(c.get("label") != "reference" for c in runs)

    def handlers(label: str):
        observer = label == "reference" and has_main_run
        popups = CallPopups(NullBus() if observer else get_bus())
        made.append(popups)
        return popups.on_event, None

    await run_trace(scenario, handlers=handlers, speed=50.0, settle=1.0)
    for popups in made:
        await popups.drain()
        popups.close()
    got: dict[str, list[dict]] = {}
    for ext, ws in sockets.items():
        got[ext] = []
        await _read_all(ws, got[ext], quiet=0.4)
        await ws.close()

    by_call: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for ext, messages in got.items():
        for m in messages:
            by_call[m["call_id"]][ext].append(m)

    expected = expected_calls(scenario)
    assert set(by_call) <= {e.call_id for e in expected}, "popups for a call that does not exist"
    for exp in expected:
        where = f"{scenario.stem} call {exp.call_id}"
        heard = by_call.get(exp.call_id, {})
        if exp.direction != "inbound":
            assert not heard, f"{where}: {exp.direction} call popped up: {dict(heard)}"
            continue
        involved = set(exp.rang) | set(exp.answered)
        assert set(heard) == involved, f"{where}: heard by {sorted(heard)}, not {sorted(involved)}"
        winner = exp.answered[-1] if exp.answered else None
        for ext in involved:
            msgs = heard[ext]
            types = [m["type"] for m in msgs]
            label = f"{where} ext {ext}: {types}"
            assert "call.ringing" in types, label
            ringing = next(m for m in msgs if m["type"] == "call.ringing")
            assert ringing["extension"] == ext and ringing["withheld"] == exp.withheld, label
            assert ringing["number"] == exp.remote_number, label
            assert ringing["known"] is False and ringing["card"] is None, label
            assert types.count("call.ended") == 1 and types[-1] == "call.ended", label
            assert msgs[-1]["disposition"] == exp.disposition, label
            answered = [m for m in msgs if m["type"] == "call.answered"]
            if ext == winner:
                assert answered and answered[-1]["by_me"] is True, label
            elif ext in exp.answered:  # answered, then transferred the caller away
                assert any(m["by_me"] for m in answered), label
                assert any(
                    m["type"] == "call.dismissed" and m["reason"] == "transferred_away"
                    for m in msgs
                ), label
            else:
                assert "call.dismissed" in types, label
                assert not any(m["by_me"] for m in answered), label
                if winner:
                    assert any(m["reason"] == "answered_elsewhere" for m in msgs if "reason" in m)

    with session_scope() as db:
        calls = {c.linkedid: c for c in db.scalars(select(Call))}
        assert sorted(calls) == sorted(e.call_id for e in expected), scenario.stem
        for exp in expected:
            call = calls[exp.call_id]
            where = f"{scenario.stem} call {exp.call_id}"
            assert call.direction == exp.direction, where
            assert call.rang == exp.rang, where
            assert call.answered_extension == (exp.answered[-1] if exp.answered else None), where
            assert call.disposition == exp.disposition, where
            assert call.withheld == exp.withheld, where
            if exp.answered:
                assert call.answered_user_id == ext_user[exp.answered[-1]].id, where
            tasks = db.scalar(
                select(func.count(Task.id)).where(
                    Task.call_id == exp.call_id, Task.source == "missed_call"
                )
            )
            wants_callback = (
                exp.direction == "inbound"
                and exp.disposition in ("missed", "abandoned", "busy")
                and not exp.withheld
            )
            assert tasks == (1 if wants_callback else 0), where

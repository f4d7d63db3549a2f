"""Every recorded scenario in ../shared/ami-traces, replayed over TCP into the real listener.

The replay server plays the recorded bytes (sped up, with the recorded event times in
``Timestamp`` headers), the listener parses and tracks them, and the tracked calls must match the
scenario's ground truth exactly: caller number, extensions that rang, who answered, disposition,
direction, transfers; ringing operators are told when their phone stops; each call ends once.
Scenario 10 (connection dropped while ringing, answered during the gap) must give one answered
call, not two. No code here is specific to one recording.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.cti.ami_harness import (
    TraceRun,
    expected_calls,
    expected_presence,
    run_trace,
    trace_files,
)

TRACE_FILES = trace_files()
TRACE_PARAMS = [pytest.param(path, id=path.name) for path in TRACE_FILES]
#: how far a timing may be from what the phones and the carrier did (the newer layout)
PHONES_TOLERANCE_S = 0.5


def test_recordings_are_there():
    # the ground-truth test below must not pass by finding nothing to check
    assert len(TRACE_FILES) >= 10, TRACE_FILES


def _check_run(path: Path, run: TraceRun) -> None:
    where = f"{path.name} [{'+'.join(run.labels)}]"
    expected = expected_calls(path)
    got = {c.call_id: c for c in run.ended}
    assert not run.live, f"{where}: calls never ended: {[c.summary() for c in run.live]}"
    assert sorted(got) == sorted(e.call_id for e in expected), where
    ended = Counter(call_id for kind, call_id, _ in run.events if kind == "ended")
    assert all(n == 1 for n in ended.values()), f"{where}: a call ended twice: {ended}"
    for exp in expected:
        call = got[exp.call_id]
        label = f"{where} call {exp.call_id}"
        assert call.direction == exp.direction, label
        assert call.withheld == exp.withheld, label
        assert call.remote_number == exp.remote_number, label
        assert call.rang == exp.rang, label
        assert call.answered == exp.answered, label
        assert call.answered_by == (exp.answered[-1] if exp.answered else None), label
        assert call.disposition == exp.disposition, label
        if exp.did is not None:
            assert call.did == exp.did, label
        assert call.queue == exp.queue, label
        assert [(t["kind"], t["to"]) for t in call.transfers] == [
            (t["kind"], t["to"]) for t in exp.transfers
        ], label
        assert call.forwarded_to == exp.forwarded_to, label
        # popups: every operator whose phone rang is told it rang, and told when it stopped
        mine = [(kind, ext) for kind, cid, ext in run.events if cid == exp.call_id]
        for ext in exp.rang:
            assert ("ringing", ext) in mine, f"{label}: no ringing event for {ext}"
        ringing_now: set[str] = set()
        for kind, ext in mine:
            if kind == "ringing":
                ringing_now.add(ext)
            elif kind in ("ring_stopped", "answered"):
                ringing_now.discard(ext)
        assert not ringing_now, f"{label}: popups never closed for {ringing_now}"
        for ext in exp.answered:
            assert ("answered", ext) in mine, f"{label}: no answered event for {ext}"
        assert mine[-1] == ("ended", None), label
        if call.answered_at is not None and call.talk_s is not None:
            # the two add up: talk runs from the answer to the end
            talk = (call.ended_at - call.answered_at).total_seconds()
            assert call.talk_s == pytest.approx(talk, abs=0.001), label
        if run.complete:
            for truth, got_s in (
                (exp.ring_s, call.ring_s),
                (exp.wait_s, call.wait_s),
                (exp.talk_s, call.talk_s),
            ):
                if truth is not None:
                    assert got_s == pytest.approx(truth, abs=PHONES_TOLERANCE_S), label
            # the recorded times travel in Timestamp headers: timings are the real ones
            if exp.ring_to_answer_s is not None:
                assert call.ring_s == pytest.approx(exp.ring_to_answer_s, abs=0.25), label
            if exp.answer_to_end_s is not None:
                talk = (call.ended_at - call.answered_at).total_seconds()
                assert talk == pytest.approx(exp.answer_to_end_s, abs=0.25), label
            assert not call.partial, label


@pytest.mark.parametrize("path", TRACE_PARAMS)
async def test_trace_matches_ground_truth(path: Path):
    runs = await run_trace(path)
    assert runs, f"{path.name}: nothing to replay"
    for run in runs:
        _check_run(path, run)
        if run.login_refused_in_recording:
            # Asterisk refused the recorded login and closed: the listener says so and retries
            assert run.status["login_failures"] >= 1
            assert run.server_login_failures >= 1
        else:
            assert run.status["login_failures"] == 0
            assert run.status["logins"] == len(run.labels)
        # operator presence at the end matches the phones' last device state
        final = dict(run.presence)
        for ext, state in expected_presence(path).items():
            assert final.get(ext) == state, f"{path.name}: presence of {ext}"


async def test_reconnect_scenario_gives_one_answered_call():
    """Scenario 10: the listener lost the answer events; resync must still report it once."""
    path = next(p for p in TRACE_FILES if p.name.startswith("10-"))
    runs = await run_trace(path)
    reconnect = next(r for r in runs if len(r.labels) > 1)
    assert reconnect.status["logins"] == 2 and reconnect.status["disconnects"] == 1
    assert len(reconnect.ended) == 1
    call = reconnect.ended[0]
    assert call.answered_by == "101" and call.disposition == "answered"
    assert [k for k, _cid, _e in reconnect.events].count("ended") == 1


async def test_reconnect_recording_without_an_observer_stream(tmp_path):
    """A future recording of a reconnect may lack the ``reference`` observer: the expectations
    then come from the intended ground truth and the replay must still match them."""
    import json

    source = next(p for p in TRACE_FILES if p.name.startswith("10-"))
    meta = json.loads(source.read_text())
    meta["connections"] = [c for c in meta["connections"] if c.get("label") != "reference"]
    for conn in meta["connections"]:
        conn["transcript"] = str(source.parent / conn["transcript"])
    path = tmp_path / "10-without-reference.json"
    path.write_text(json.dumps(meta))
    (expected,) = expected_calls(path)
    assert expected.answered == ["101"] and expected.disposition == "answered"
    (run,) = await run_trace(path)
    _check_run(path, run)

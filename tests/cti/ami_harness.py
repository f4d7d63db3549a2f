"""Replay recorded AMI scenarios over real TCP into the real listener, and what to expect.

``run_trace(json_path)`` starts an :class:`~cti.simulator.server.AmiReplayServer` per run of the scenario
(a run is the connections a listener sees in turn: ``main``, or ``conn1`` then ``conn2``; a
``reference`` observer connection is a run of its own), connects an
:class:`~cti.listener.AmiListener` to it and returns what the tracker reported.

``expected_calls(json_path)`` turns the scenario's JSON (``ground_truth`` + the capture driver's
``facts``) into the calls a correct CTI must report. Nothing here knows a particular scenario:
a new recording dropped into tests/data/ami or ../shared/ami-traces is checked the same way.

Other parts' tests (popups, call log) pass ``handlers`` to hook their own tracker callbacks.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callcard.settings import Settings
from crm_core.phones import is_withheld, try_e164
from cti.listener import AmiListener
from cti.simulator.server import AmiReplayServer
from cti.simulator.transcripts import load_scenario
from cti.tracker.call import TrackedCall
from tests.conftest import AMI_TRACES, SHARED_AMI_TRACES

TRACES = AMI_TRACES
#: the region the recordings' national numbers belong to (the PBXs were set up in Romania)
DEFAULT_REGION = "RO"


def _recordings(pattern: str) -> list[Path]:
    """The project's recordings matching ``pattern`` (top folder and one level down), plus
    those in ../shared/ami-traces the project has no copy of, where that folder exists."""
    found: dict[str, Path] = {}
    for folder in (SHARED_AMI_TRACES, AMI_TRACES):  # the project's copy wins
        if folder.is_dir():
            for path in [*folder.glob(pattern), *folder.glob(f"*/{pattern}")]:
                found[path.relative_to(folder).as_posix()] = path
    return [found[key] for key in sorted(found, key=lambda k: (k.count("/"), k))]


def trace_files() -> list[Path]:
    """Every scenario JSON of the recordings (Local-channel lab, PJSIP, live PBX)."""
    return _recordings("*.json")


def transcript_files() -> list[Path]:
    """Every AMI transcript of the recordings."""
    return _recordings("*.ami")


@dataclass
class TraceRun:
    scenario: str
    labels: list[str]
    ended: list[TrackedCall] = field(default_factory=list)  # in the order they ended
    events: list[tuple[str, str, str | None]] = field(default_factory=list)  # kind, call, ext
    presence: list[tuple[str, str]] = field(default_factory=list)
    live: list[TrackedCall] = field(default_factory=list)  # still open at the end
    status: dict[str, Any] = field(default_factory=dict)
    server_logins: int = 0
    server_login_failures: int = 0
    login_refused_in_recording: bool = False

    @property
    def complete(self) -> bool:
        """The listener saw the whole recording on one connection (timings are comparable)."""
        return len(self.labels) == 1


Handlers = tuple[
    Callable[[str, TrackedCall, str | None], None] | None, Callable[[str, str], None] | None
]


def ami_settings(port: int, **overrides: Any) -> Settings:
    values = {
        "ami_host": "127.0.0.1",
        "ami_port": port,
        "ami_username": "crm",
        "ami_secret": "secret",
        **overrides,
    }
    return Settings(**values)


async def run_trace(
    json_path: str | Path,
    *,
    speed: float = 25.0,
    handlers: Callable[[str], Handlers] | None = None,
    settle: float = 3.0,
) -> list[TraceRun]:
    """Replay every run of a scenario into a fresh listener; see the module docstring."""
    json_path = Path(json_path)
    results = []
    for scripts in load_scenario(json_path):
        labels = [s.label for s in scripts]
        run = TraceRun(json_path.stem, labels)
        run.login_refused_in_recording = any(not s.login_ok for s in scripts)
        extra_event, extra_presence = handlers("+".join(labels)) if handlers else (None, None)

        def on_event(kind, call, ext, run=run, extra=extra_event):
            run.events.append((kind, call.call_id, ext))
            if kind == "ended":
                run.ended.append(call)
            if extra is not None:
                extra(kind, call, ext)

        def on_presence(ext, state, run=run, extra=extra_presence):
            run.presence.append((ext, state))
            if extra is not None:
                extra(ext, state)

        server = AmiReplayServer(scripts, speed=speed, timestamps=True, drop_linger=0.3)
        await server.start()
        listener = AmiListener(
            ami_settings(server.port),
            on_event=on_event,
            on_presence=on_presence,
            reconnect_min=0.1,
            reconnect_max=0.5,
        )
        await listener.start()
        try:
            await asyncio.wait_for(server.finished.wait(), 120)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + settle
            # let the listener drain what was sent
            while loop.time() < deadline and (
                listener.tracker.calls or listener.tracker.events_seen < server.events_sent
            ):
                await asyncio.sleep(0.02)
        finally:
            await listener.stop()
            await server.stop()
        run.live = list(listener.tracker.calls.values())
        run.status = listener.status()
        run.server_logins = server.logins
        run.server_login_failures = server.login_failures
        results.append(run)
    return results


# ------------------------------------------------------------------------------------------
# expectations


@dataclass
class ExpectedCall:
    call_id: str
    direction: str
    remote_number: str | None
    withheld: bool
    rang: list[str]
    answered: list[str]
    disposition: str
    did: str | None
    queue: str | None
    transfers: list[dict[str, str | None]]  # kind, to
    ring_to_answer_s: float | None
    answer_to_end_s: float | None
    forwarded_to: str | None = None  # E.164 of an outside number the call was forwarded to
    ring_s: float | None = None  # ground truth from the phones (the newer layout)
    talk_s: float | None = None
    wait_s: float | None = None


_EXT = re.compile(r"^\d{2,6}$")
_WITHHELD_WORDS = re.compile(r"withh|clir|prohib|restricted|anonymous", re.IGNORECASE)
_DEVICE_PRESENCE = {
    "NOT_INUSE": "available",
    "INUSE": "in_call",
    "BUSY": "in_call",
    "ONHOLD": "in_call",
    "RINGING": "ringing",
    "UNAVAILABLE": "offline",
}


def expected_presence(json_path: str | Path) -> dict[str, str]:
    """Each phone's presence at the end, from the device events the capture driver listed."""
    meta = json.loads(Path(json_path).read_text())
    out: dict[str, str] = {}
    for conn in meta.get("connections", []):
        for ev in conn.get("observed", {}).get("pjsip_status_events", []):
            if ev.get("event") != "DeviceStateChange":
                continue
            m = re.match(r"^PJSIP/(\d{2,6})$", ev.get("Device", ""))
            state = _DEVICE_PRESENCE.get(ev.get("State", ""))
            if m and state:
                out[m.group(1)] = state
    return out


def _extension(text: Any) -> str | None:
    token = str(text).strip().split(" ", 1)[0].rstrip(",")
    return token if _EXT.match(token) else None


def _says_withheld(record: dict) -> bool:
    """A ground-truth/facts record that marks the caller ID as withheld (CLIR)."""
    for key, value in record.items():
        k = key.lower()
        if any(w in k for w in ("withheld", "clir", "private", "anonymous")) and value is True:
            return True
        if "pres" in k and isinstance(value, str) and re.search(r"prohib|restrict", value, re.I):
            return True
    return False


def _transfer_kind(method: str | None) -> str | None:
    if not method:
        return None
    m = method.lower()
    if "blind" in m or "refer" in m:
        return "blind"
    if "redirect" in m:
        return "redirect"
    if "att" in m or "atxfer" in m:
        return "attended"
    return m


def _facts_by_linkedid(meta: dict) -> dict[str, dict]:
    conns = meta.get("connections", [])
    reference = [c for c in conns if c.get("label") == "reference"]
    sources = reference or conns
    merged: dict[str, dict] = {}
    for conn in sources:
        for call in conn.get("observed", {}).get("calls_by_linkedid", []):
            lid = call["linkedid"]
            facts = dict(call.get("facts", {}))
            facts["_transfers"] = call.get("transfers", [])
            if lid in merged and not facts.get("partial"):
                merged[lid] = facts
            merged.setdefault(lid, facts)
    return merged


def expected_calls(json_path: str | Path) -> list[ExpectedCall]:
    """The calls a correct CTI reports for this scenario, from its JSON.

    Two layouts: the newer one (live PBX recordings) names each call's Linkedid in
    ``ground_truth.calls`` with what the phones and the carrier did; the older one pairs the
    intended ground truth with the capture driver's per-Linkedid ``facts``."""
    meta = json.loads(Path(json_path).read_text())
    truth = meta.get("ground_truth", {}).get("calls", [])
    if truth and all(call.get("linkedid") for call in truth):
        return [_expected_from_the_phones(call) for call in truth]
    facts = _facts_by_linkedid(meta)
    reference_seen = any(c.get("label") == "reference" for c in meta.get("connections", []))
    out = []
    for index, (lid, f) in enumerate(facts.items()):
        gt = next(
            (
                g
                for g in truth
                if f.get("caller_number")
                and f.get("caller_number")
                in (g.get("caller_number_as_dialed"), g.get("caller_number_as_sent"))
            ),
            truth[index] if index < len(truth) else {},
        )
        direction = f.get("direction") or str(gt.get("direction", "inbound")).split(" ")[0]
        rang = [e for e in (_extension(x) for x in f.get("rang", [])) if e]
        answered = [e for e in (_extension(x) for x in f.get("answered_by", [])) if e]
        if f.get("partial") or (f.get("ended_t") is None and not reference_seen):
            # no connection saw the whole call: the intended ground truth says what happened
            rang = [e for e in (_extension(x) for x in gt.get("rang", [])) if e] or rang
            answered = re.findall(
                r"(?<![\d+])\d{2,6}(?![\d.]| ?s\b)", str(gt.get("answered_by") or "")
            )
            f = {**f, "missed": gt.get("missed", f.get("missed"))}
        if direction == "inbound":
            number = f.get("caller_number")
            withheld = (
                _says_withheld(gt)
                or _says_withheld(f)
                or (number is not None and is_withheld(number) and number != "<unknown>")
                # a one-call scenario about a withheld caller may say so only in words
                or (
                    len(truth) == 1
                    and bool(_WITHHELD_WORDS.search(meta.get("title", "") + json.dumps(gt)))
                )
            )
        else:
            number = f.get("remote_number") or gt.get("called_number_as_dialed")
            withheld = False
        if number in (None, "<unknown>") or withheld:
            number = None
        queue = f.get("queue") or {}
        out.append(
            ExpectedCall(
                call_id=lid,
                direction=direction,
                remote_number=number,
                withheld=withheld,
                rang=rang,
                answered=answered,
                disposition=_driver_disposition(f),
                did=f.get("did"),
                queue=queue.get("queue") if queue else None,
                transfers=_driver_transfers(gt, f, rang, answered),
                ring_to_answer_s=f.get("ring_to_answer_s"),
                answer_to_end_s=f.get("answer_to_end_s"),
            )
        )
    return out


def _driver_disposition(f: dict) -> str:
    """The disposition the capture driver's facts mean (older layout)."""
    statuses = {str(d.get("status", "")).upper() for d in f.get("dial_results", []) or []}
    if not f.get("missed"):
        return "answered"
    if f.get("queue"):
        return "abandoned"
    if statuses and statuses <= {"BUSY"}:
        return "busy"
    return "missed"


def _driver_transfers(
    gt: dict, f: dict, rang: list[str], answered: list[str]
) -> list[dict[str, str | None]]:
    """The transfer the intended ground truth or the driver's facts name (older layout)."""
    kind = _transfer_kind(gt.get("transfer_method"))
    ftransfer = f.get("transfer") or {}
    if not isinstance(ftransfer, dict):
        ftransfer = {"kind": str(ftransfer)}
    if not kind and ftransfer:
        kind = _transfer_kind(ftransfer.get("kind") or ftransfer.get("type") or "blind")
    if not kind:
        return []
    target = (
        _extension(str(gt.get("transfer_target", "")).split("@")[0])
        or _extension(str(ftransfer.get("to") or ftransfer.get("target") or ""))
        or (answered[-1] if len(answered) > 1 else None)
        or (rang[-1] if len(rang) > 1 else None)
    )
    return [{"kind": kind, "to": target}]


def _first_word(value: Any, default: str) -> str:
    """``"answered (by the forward destination)"`` -> ``"answered"``."""
    words = str(value or "").split()
    return words[0] if words else default


def _expected_from_the_phones(gt: dict) -> ExpectedCall:
    """One call of the newer layout: the ground truth names everything the CTI must report."""
    direction = _first_word(gt.get("direction"), "inbound")
    withheld = _says_withheld(gt)
    if direction == "inbound":
        number = gt.get("caller_number_as_sent") or gt.get("caller_number_as_dialed")
    elif direction == "outbound":
        number = gt.get("called_number_as_dialed") or gt.get("called_number")
    else:
        number = None
    if withheld or (number is not None and is_withheld(number)):
        number = None
    forward = gt.get("forwarded_to") or {}
    forwarded_to = None
    if forward.get("number"):
        forwarded_to = try_e164(str(forward["number"]), DEFAULT_REGION)
    queue = gt.get("queue")
    return ExpectedCall(
        call_id=gt["linkedid"],
        direction=direction,
        remote_number=number,
        withheld=withheld,
        rang=[e for e in (_extension(x) for x in gt.get("rang", [])) if e],
        answered=[e for e in (_extension(x) for x in gt.get("answered", [])) if e],
        disposition=_first_word(
            gt.get("expected_disposition"), "missed" if gt.get("missed") else "answered"
        ),
        did=gt.get("did"),
        queue=(queue.get("queue") if isinstance(queue, dict) else queue) or None,
        transfers=[
            {"kind": _transfer_kind(t.get("kind")), "to": _extension(t.get("to", ""))}
            for t in gt.get("transfers", [])
        ],
        ring_to_answer_s=None,
        answer_to_end_s=None,
        forwarded_to=forwarded_to,
        ring_s=gt.get("ring_s"),
        talk_s=gt.get("talk_s"),
        wait_s=gt.get("wait_s"),
    )

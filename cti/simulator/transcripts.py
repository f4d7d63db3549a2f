"""Recorded AMI transcripts (``.ami`` files with their ``.json``), ready to be served.

Only the event blocks of a recording are replayed, with their recorded times. A list action's
answer the recording got (``CoreShowChannels``, ``QueueStatus``) is kept whole, so the server can
hold a snapshot taken right after login until the client asks for it (scenario 10: a reconnect).
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from cti.ami import BANNER_PREFIX, AmiMessage, FrameParser
from cti.simulator.wire import BANNER

#: events the server sends on its own at login: the recording's copies are not replayed
_LOGIN_NOISE = ("FullyBooted", "SuccessfulAuth")
_ID_KEYS = re.compile(rb"^(\w*(?:Uniqueid|Linkedid|UniqueID|LinkedID)): (\S+)", re.MULTILINE)


@dataclass
class ScriptItem:
    """One thing to send: a recorded event, or a recorded answer to a list action."""

    t: float  # seconds after the recorded TCP connect
    raw: bytes  # the exact recorded bytes of the block(s), terminator included
    messages: list[AmiMessage]
    action: str | None = None  # list answers: the action (lower case), e.g. coreshowchannels
    action_id: str | None = None  # the recorded ActionID (replaced by the client's)
    leading: bool = False  # a snapshot taken right after login


@dataclass
class ConnectionScript:
    """One recorded AMI connection, ready to be served to one TCP client."""

    label: str
    transcript: str
    banner: str = BANNER
    login_ok: bool = True
    login_t: float = 0.0
    items: list[ScriptItem] = field(default_factory=list)
    end_t: float = 0.0
    connected_at: float | None = None  # recorded wall clock of the TCP connect (epoch seconds)


def _blocks(data: bytes) -> tuple[str | None, list[tuple[int, bytes]]]:
    """Banner and ``(end_offset, raw_block)`` pairs of a transcript."""
    banner = None
    pos = 0
    if data.startswith(BANNER_PREFIX.encode()):
        end = data.index(b"\r\n") + 2 if b"\r\n" in data else len(data)
        banner = data[: end - 2].decode("utf-8", "replace")
        pos = end
    out = []
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            if data[pos:].strip():
                out.append((len(data), data[pos:] + b"\r\n\r\n"))
            break
        out.append((end + 4, data[pos : end + 4]))
        pos = end + 4
    return banner, out


def _arrival_clock(recv_timing: Sequence[Sequence[float]] | None) -> Callable[[int], float]:
    """When the byte before ``end_offset`` arrived, from ``[t, offset, length]`` per recv."""
    starts = [int(r[1]) for r in recv_timing or ()]
    times = [float(r[0]) for r in recv_timing or ()]

    def time_of(end_offset: int) -> float:
        if not starts:
            return 0.0
        i = bisect.bisect_right(starts, end_offset - 1) - 1
        return times[max(i, 0)]

    return time_of


class _ScriptBuilder:
    """Sorts a recording's blocks into events to replay and list answers to hold."""

    def __init__(self, script: ConnectionScript) -> None:
        self.script = script
        self.open_lists: dict[str, ScriptItem] = {}  # ActionID -> list answer being collected
        self.seen_call_event = False

    def add(self, t: float, raw: bytes, msg: AmiMessage) -> None:
        action_id = msg.get("actionid")
        if "response" in msg and "event" not in msg:  # OriginateResponse has both
            self._response(t, raw, msg, action_id)
        elif action_id and action_id in self.open_lists:
            self._list_item(t, raw, msg, self.open_lists[action_id])
        elif self.seen_call_event or msg.get("event") not in _LOGIN_NOISE:
            self.seen_call_event = True
            self.script.items.append(ScriptItem(t, raw, [msg]))

    def _response(self, t: float, raw: bytes, msg: AmiMessage, action_id: str | None) -> None:
        if "authentication" in msg.get("message", "").lower():
            self.script.login_ok = msg["response"].lower() == "success"
            self.script.login_t = t
        elif msg.get("eventlist", "").lower() == "start" and action_id:
            self.open_lists[action_id] = ScriptItem(
                t, raw, [msg], action_id=action_id, leading=not self.seen_call_event
            )
        # other responses answered the recording driver's own actions

    def _list_item(self, t: float, raw: bytes, msg: AmiMessage, item: ScriptItem) -> None:
        item.raw += raw
        item.messages.append(msg)
        name = msg.get("event", "")
        if msg.get("eventlist", "").lower() == "complete" or name.endswith("Complete"):
            item.action = (name[: -len("Complete")] or name).lower()
            item.t = t
            del self.open_lists[item.action_id or ""]
            self.script.items.append(item)


def load_transcript(
    path: str | Path, recv_timing: Sequence[Sequence[float]] | None = None, label: str = "main"
) -> ConnectionScript:
    """Parse an ``.ami`` recording into a :class:`ConnectionScript`.

    ``recv_timing`` (``[t, offset, length]`` per recv, from the JSON) gives each block the time
    its last byte arrived; without it everything is due at once.
    """
    path = Path(path)
    banner, blocks = _blocks(path.read_bytes())
    time_of = _arrival_clock(recv_timing)
    script = ConnectionScript(label=label, transcript=path.name, banner=banner or BANNER)
    builder = _ScriptBuilder(script)
    for end, raw in blocks:
        messages = FrameParser().feed(raw)
        if messages:
            builder.add(time_of(end), raw, messages[0])
    script.items.sort(key=lambda i: i.t)
    script.end_t = float(recv_timing[-1][0]) if recv_timing else 0.0
    return script


def load_scenario(json_path: str | Path) -> list[list[ConnectionScript]]:
    """The runs of a recorded scenario: each run is a list of connections served in turn.

    A connection labelled ``reference`` (an observer that stayed logged in) is a run of its
    own; all other connections form one run, in their recorded order (``conn1``, ``conn2``).
    """
    json_path = Path(json_path)
    meta = json.loads(json_path.read_text())
    sequence: list[ConnectionScript] = []
    runs: list[list[ConnectionScript]] = []
    for conn in meta.get("connections", []):
        script = load_transcript(
            json_path.parent / conn["transcript"], conn.get("recv_timing"), conn.get("label", "")
        )
        script.connected_at = _epoch(conn.get("connected_at"))
        if conn.get("label") == "reference":
            runs.append([script])
        else:
            sequence.append(script)
    if sequence:
        runs.insert(0, sequence)
    return runs


def scripts_for(paths: Iterable[str | Path]) -> list[ConnectionScript]:
    """Scripts for transcript files as given on the command line (``.ami`` or ``.json``)."""
    out: list[ConnectionScript] = []
    for raw in paths:
        path = Path(raw)
        if path.suffix == ".json":
            out.extend(load_scenario(path)[0])
            continue
        timing, label, connected_at = _recorded_connection(path)
        script = load_transcript(path, timing, label)
        script.connected_at = connected_at
        out.append(script)
    return out


def _recorded_connection(path: Path) -> tuple[list | None, str, float | None]:
    """Pacing, label and connect time of an ``.ami`` file, from a scenario JSON beside it."""
    timing, label, connected_at = None, "main", None
    for candidate in path.parent.glob("*.json"):
        try:
            meta = json.loads(candidate.read_text())
        except (OSError, ValueError):
            continue
        for conn in meta.get("connections", []) if isinstance(meta, dict) else []:
            if conn.get("transcript") == path.name:
                timing, label = conn.get("recv_timing"), conn.get("label", "main")
                connected_at = _epoch(conn.get("connected_at"))
    return timing, label, connected_at


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def renumbered(script: ConnectionScript, round_no: int) -> ConnectionScript:
    """A copy whose Uniqueids/Linkedids are new, so a looped recording is a new call."""

    def fix(raw: bytes) -> bytes:
        return _ID_KEYS.sub(lambda m: m.group(1) + b": r%d-" % round_no + m.group(2), raw)

    items = []
    for item in script.items:
        raw = fix(item.raw)
        messages = FrameParser().feed(raw)
        items.append(ScriptItem(item.t, raw, messages, item.action, item.action_id, item.leading))
    return replace(script, items=items, connected_at=None)


def recorded_queue_members(scripts: Sequence[ConnectionScript]) -> dict[str, list[str]]:
    """The queues (and their member interfaces) the recordings' ``QueueStatus`` answers showed."""
    members: dict[str, list[str]] = {}
    for script in scripts:
        for item in script.items:
            if item.action != "queuestatus":
                continue
            for msg in item.messages:
                queue = msg.get("queue")
                if msg.get("event") == "QueueParams" and queue:
                    members.setdefault(queue, [])
                elif msg.get("event") == "QueueMember" and queue:
                    name = msg.get("stateinterface") or msg.get("location") or msg.get("name", "")
                    if name and name not in members.setdefault(queue, []):
                        members[queue].append(name)
    return members

"""The AMI replay server: a real TCP server that speaks AMI like Asterisk.

Used by the tests, the benchmarks and the demo (``callcard ami-replay``). It

* greets with the Asterisk banner and answers ``Login`` (configured credentials; anything else
  gets Asterisk's ``Authentication failed`` and the socket is closed, as Asterisk does), ``Ping``,
  ``Logoff``, ``CoreShowChannels`` and ``QueueStatus`` (from the calls live on the server now),
  ``Originate`` (queued, then the events of an outbound call, or busy/no answer/error when
  configured so);
* replays recorded transcripts (``.ami`` files with their ``.json``): only the event blocks, with
  the recorded pacing (``recv_timing``) divided by ``speed``. A snapshot the recording took
  right after its login (scenario 10: ``CoreShowChannels`` after a reconnect) is held until the
  client asks for it and is sent with the client's ActionID. Each recorded connection is served
  to one TCP connection in turn; the server drops a connection when its recording ends and more
  follow, as the recording did;
* generates realistic synthetic calls (direct answered/missed/busy, queue ringall answered or
  abandoned) at a given rate, with caller numbers drawn from a list;
* offers fault hooks for tests: :meth:`AmiReplayServer.drop_connections`,
  :meth:`AmiReplayServer.stop_answering_ping`, ``garbage`` between events.

Every event updates the server's own channel table, so snapshots always match what was sent.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import logging
import os
import random
import re
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cti.ami import BANNER_PREFIX, ActionParser, AmiMessage, FrameParser

log = logging.getLogger("callcard.cti.replay")

BANNER = "Asterisk Call Manager/11.0.0"
#: actions our listener sends right after login: a recorded answer to them is held for it
RESYNC_ACTIONS = ("coreshowchannels", "queuestatus")
_LOGIN_NOISE = ("FullyBooted", "SuccessfulAuth")
_ID_KEYS = re.compile(rb"^(\w*(?:Uniqueid|Linkedid|UniqueID|LinkedID)): (\S+)", re.MULTILINE)


# ---------------------------------------------------------------------------------------------
# recorded transcripts


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

    @property
    def events(self) -> int:
        return sum(len(i.messages) for i in self.items if i.action is None)


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


def load_transcript(
    path: str | Path, recv_timing: Sequence[Sequence[float]] | None = None, label: str = "main"
) -> ConnectionScript:
    """Parse an ``.ami`` recording into a :class:`ConnectionScript`.

    ``recv_timing`` (``[t, offset, length]`` per recv, from the JSON) gives each block the time
    its last byte arrived; without it everything is due at once.
    """
    path = Path(path)
    data = path.read_bytes()
    banner, blocks = _blocks(data)
    starts = [int(r[1]) for r in recv_timing or ()]
    times = [float(r[0]) for r in recv_timing or ()]

    def time_of(end_offset: int) -> float:
        if not starts:
            return 0.0
        i = bisect.bisect_right(starts, end_offset - 1) - 1
        return times[max(i, 0)]

    script = ConnectionScript(label=label, transcript=path.name, banner=banner or BANNER)
    open_lists: dict[str, ScriptItem] = {}
    seen_call_event = False
    for end, raw in blocks:
        parser = FrameParser()
        messages = parser.feed(raw)
        if not messages:
            continue
        msg = messages[0]
        t = time_of(end)
        action_id = msg.get("actionid")
        if "response" in msg and "event" not in msg:  # OriginateResponse has both
            message = msg.get("message", "")
            if "authentication" in message.lower():
                script.login_ok = msg["response"].lower() == "success"
                script.login_t = t
            elif msg.get("eventlist", "").lower() == "start" and action_id:
                open_lists[action_id] = ScriptItem(
                    t, raw, [msg], action_id=action_id, leading=not seen_call_event
                )
            continue  # other responses answered the recording driver's own actions
        if action_id and action_id in open_lists:
            item = open_lists[action_id]
            item.raw += raw
            item.messages.append(msg)
            name = msg.get("event", "")
            if msg.get("eventlist", "").lower() == "complete" or name.endswith("Complete"):
                item.action = (name[: -len("Complete")] or name).lower()
                item.t = t
                del open_lists[action_id]
                script.items.append(item)
            continue
        if not seen_call_event and msg.get("event") in _LOGIN_NOISE:
            continue  # the server sends its own at login
        seen_call_event = True
        script.items.append(ScriptItem(t, raw, [msg]))
    script.items.sort(key=lambda i: i.t)
    script.end_t = times[-1] if times else 0.0
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
        timing = None
        label = "main"
        connected_at = None
        for candidate in path.parent.glob("*.json"):
            try:
                meta = json.loads(candidate.read_text())
            except (OSError, ValueError):
                continue
            for conn in meta.get("connections", []) if isinstance(meta, dict) else []:
                if conn.get("transcript") == path.name:
                    timing, label = conn.get("recv_timing"), conn.get("label", "main")
                    connected_at = _epoch(conn.get("connected_at"))
        script = load_transcript(path, timing, label)
        script.connected_at = connected_at
        out.append(script)
    return out


# ---------------------------------------------------------------------------------------------
# synthetic calls


def _epoch(text: str | None) -> float | None:
    if not text:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def _hex8(n: int) -> str:
    return f"{n:08x}"


@dataclass
class SyntheticConfig:
    """What the generator builds calls from."""

    numbers: list[str] = field(default_factory=lambda: ["+40721234567", "0744333444"])
    unknown_share: float = 0.3  # share of calls from random numbers not in ``numbers``
    extensions: list[str] = field(default_factory=lambda: ["101", "102", "103"])
    queue: str = "support"
    queue_members: list[str] = field(default_factory=lambda: ["101", "102"])
    did_base: str = "0213100"
    queue_did: str = "0213100200"
    withheld_share: float = 0.03
    #: scenario weights
    mix: dict[str, float] = field(
        default_factory=lambda: {
            "direct_answered": 0.35,
            "direct_missed": 0.12,
            "direct_busy": 0.05,
            "queue_answered": 0.35,
            "queue_abandoned": 0.13,
        }
    )
    ring_s: tuple[float, float] = (1.0, 6.0)
    talk_s: tuple[float, float] = (5.0, 60.0)
    names: list[str] = field(
        default_factory=lambda: ["Ion Popescu", "Elena Matei", "Ștefan Rusu", "Анна Смирнова", ""]
    )


class CallFactory:
    """Builds the AMI event timeline of one call as ``[(seconds_after_start, fields), ...]``.

    Channel names, field sets and event order follow the PJSIP recordings in
    ../shared/ami-traces/pjsip (trunk leg ``PJSIP/trunk-…``, operator legs ``PJSIP/10x-…``).
    """

    def __init__(self, config: SyntheticConfig | None = None, seed: int | None = None):
        self.config = config or SyntheticConfig()
        self.random = random.Random(seed)
        self._seq = 0
        self._chan = 0
        self._epoch = int(time.time())

    # -- ids
    def _uid(self) -> str:
        self._seq += 1
        return f"{self._epoch}.{self._seq}"

    def _channel(self, tech_name: str, linkedid: str | None, **fields: str) -> dict[str, str]:
        self._chan += 1
        uid = self._uid()
        return {
            "Channel": f"{tech_name}-{_hex8(self._chan)}",
            "ChannelState": "0",
            "ChannelStateDesc": "Down",
            "CallerIDNum": "<unknown>",
            "CallerIDName": "<unknown>",
            "ConnectedLineNum": "<unknown>",
            "ConnectedLineName": "<unknown>",
            "Language": "en",
            "AccountCode": "",
            "Context": "internal",
            "Exten": "s",
            "Priority": "1",
            "Uniqueid": uid,
            "Linkedid": linkedid or uid,
            **fields,
        }

    @staticmethod
    def _ev(name: str, chan: dict[str, str], **extra: str) -> dict[str, str]:
        return {"Event": name, "Privilege": "call,all", **chan, **extra}

    @staticmethod
    def _dest(chan: dict[str, str]) -> dict[str, str]:
        return {"Dest" + k: v for k, v in chan.items()}

    @staticmethod
    def _state(chan: dict[str, str], code: str, desc: str) -> None:
        chan["ChannelState"] = code
        chan["ChannelStateDesc"] = desc

    def pick_caller(self) -> tuple[str, str]:
        c = self.config
        r = self.random.random()
        if r < c.withheld_share:
            return "anonymous", "Anonymous"
        if c.numbers and r >= c.withheld_share + c.unknown_share:
            return self.random.choice(c.numbers), self.random.choice(c.names)
        # an unknown caller: a Romanian mobile (07xx) or a Bucharest landline (021)
        prefix = self.random.choice(["+4072", "+4074", "+4075", "+4076", "+4021"])
        return f"{prefix}{self.random.randint(1_000_000, 9_999_999)}", ""

    def make(self, kind: str | None = None, **kw: Any) -> tuple[str, list[tuple[float, dict]]]:
        """One call: ``(linkedid, timeline)``. ``kind`` defaults to a weighted random pick."""
        c = self.config
        if kind is None:
            kinds, weights = zip(*c.mix.items(), strict=True)
            kind = self.random.choices(kinds, weights)[0]
        number, name = kw.pop("number", None) or self.pick_caller()
        ring = kw.pop("ring_s", None) or round(self.random.uniform(*c.ring_s), 3)
        talk = kw.pop("talk_s", None) or round(self.random.uniform(*c.talk_s), 3)
        if kind.startswith("queue"):
            return self._queue_call(number, name, ring, talk, answered=kind == "queue_answered")
        ext = kw.pop("extension", None) or self.random.choice(c.extensions)
        return self._direct_call(number, name, ext, ring, talk, kind.removeprefix("direct_"))

    # -- scenarios
    def _trunk(self, number: str, name: str, did: str) -> dict[str, str]:
        return self._channel(
            "PJSIP/trunk",
            None,
            ChannelState="4",
            ChannelStateDesc="Ring",
            CallerIDNum=number,
            CallerIDName=name or "<unknown>",
            Context="from-pstn",
            Exten=did,
        )

    def _operator_leg(self, ext: str, linkedid: str, number: str, name: str) -> dict[str, str]:
        return self._channel(
            f"PJSIP/{ext}",
            linkedid,
            CallerIDNum=ext,
            CallerIDName=f"Operator {ext}",
            ConnectedLineNum=number,
            ConnectedLineName=name or "<unknown>",
        )

    def _intro(self, trunk: dict[str, str], number: str) -> list[tuple[float, dict]]:
        pres = "prohib_not_screened" if number == "anonymous" else "allowed_not_screened"
        return [
            (0.0, self._ev("Newchannel", trunk)),
            (
                0.001,
                self._ev(
                    "Newexten",
                    trunk,
                    Extension=trunk["Exten"],
                    Application="NoOp",
                    AppData="Inbound",
                ),
            ),
            (0.002, self._ev("VarSet", trunk, Variable="CALLER_PRES", Value=pres)),
        ]

    def _direct_call(
        self, number: str, name: str, ext: str, ring: float, talk: float, outcome: str
    ) -> tuple[str, list[tuple[float, dict]]]:
        did = f"{self.config.did_base}{ext}"
        trunk = self._trunk(number, name, did)
        lid = trunk["Linkedid"]
        op = self._operator_leg(ext, lid, number, name)
        tl = self._intro(trunk, number)
        t = 0.003
        tl.append((t, self._ev("Newchannel", op)))
        tl.append((t, self._ev("DialBegin", trunk, **self._dest(op), DialString=ext)))
        self._state(op, "5", "Ringing")
        tl.append((t + 0.01, self._ev("Newstate", op)))
        tl.append(
            (
                t + 0.01,
                {
                    "Event": "DeviceStateChange",
                    "Privilege": "call,all",
                    "Device": f"PJSIP/{ext}",
                    "State": "RINGING",
                },
            )
        )
        t += ring
        if outcome == "answered":
            self._state(op, "6", "Up")
            tl.append((t, self._ev("Newstate", op)))
            tl.append((t, self._ev("DialEnd", trunk, **self._dest(op), DialStatus="ANSWER")))
            self._state(trunk, "6", "Up")
            tl.append((t, self._ev("Newstate", trunk)))
            bridge = f"b{lid}"
            tl.append(
                (t + 0.001, self._ev("BridgeEnter", op, BridgeUniqueid=bridge, BridgeType="basic"))
            )
            tl.append(
                (
                    t + 0.001,
                    self._ev("BridgeEnter", trunk, BridgeUniqueid=bridge, BridgeType="basic"),
                )
            )
            tl.append(
                (
                    t + 0.002,
                    {
                        "Event": "DeviceStateChange",
                        "Privilege": "call,all",
                        "Device": f"PJSIP/{ext}",
                        "State": "INUSE",
                    },
                )
            )
            t += talk
            tl.append((t, self._ev("BridgeLeave", trunk, BridgeUniqueid=bridge)))
            tl.append((t, self._ev("BridgeLeave", op, BridgeUniqueid=bridge)))
            tl.append(
                (
                    t + 0.001,
                    self._ev("Hangup", trunk, Cause="16", **{"Cause-txt": "Normal Clearing"}),
                )
            )
            tl.append(
                (t + 0.002, self._ev("Hangup", op, Cause="16", **{"Cause-txt": "Normal Clearing"}))
            )
        elif outcome == "busy":
            tl.append((t, self._ev("DialEnd", trunk, **self._dest(op), DialStatus="BUSY")))
            tl.append((t + 0.001, self._ev("Hangup", op, Cause="17", **{"Cause-txt": "User busy"})))
            tl.append(
                (t + 0.002, self._ev("Hangup", trunk, Cause="17", **{"Cause-txt": "User busy"}))
            )
        else:  # missed: the caller gives up
            tl.append((t, self._ev("DialEnd", trunk, **self._dest(op), DialStatus="CANCEL")))
            tl.append(
                (
                    t + 0.001,
                    self._ev(
                        "Hangup", trunk, Cause="127", **{"Cause-txt": "Interworking, unspecified"}
                    ),
                )
            )
            tl.append(
                (
                    t + 0.002,
                    self._ev(
                        "Hangup", op, Cause="127", **{"Cause-txt": "Interworking, unspecified"}
                    ),
                )
            )
        tl.append(
            (
                t + 0.003,
                {
                    "Event": "DeviceStateChange",
                    "Privilege": "call,all",
                    "Device": f"PJSIP/{ext}",
                    "State": "NOT_INUSE",
                },
            )
        )
        return lid, tl

    def _queue_call(
        self, number: str, name: str, ring: float, talk: float, answered: bool
    ) -> tuple[str, list[tuple[float, dict]]]:
        c = self.config
        trunk = self._trunk(number, name, c.queue_did)
        lid = trunk["Linkedid"]
        tl = self._intro(trunk, number)
        self._state(trunk, "6", "Up")
        tl.append((0.003, self._ev("Newstate", trunk)))
        tl.append(
            (0.004, self._ev("QueueCallerJoin", trunk, Queue=c.queue, Position="1", Count="1"))
        )
        legs = []
        t = 0.005
        for ext in c.queue_members:
            op = self._operator_leg(ext, lid, number, name)
            legs.append((ext, op))
            member = {
                "Queue": c.queue,
                "Interface": f"PJSIP/{ext}",
                "MemberName": f"Operator {ext}",
            }
            tl.append((t, self._ev("Newchannel", op)))
            tl.append((t, self._ev("AgentCalled", trunk, **self._dest(op), **member)))
            tl.append(
                (t, self._ev("DialBegin", trunk, **self._dest(op), DialString=f"PJSIP/{ext}"))
            )
        for _ext, op in legs:
            self._state(op, "5", "Ringing")
            tl.append((t + 0.01, self._ev("Newstate", op)))
        t += ring
        if answered:
            winner_ext, winner = self.random.choice(legs)
            self._state(winner, "6", "Up")
            tl.append((t, self._ev("Newstate", winner)))
            tl.append((t, self._ev("DialEnd", trunk, **self._dest(winner), DialStatus="ANSWER")))
            for _ext, op in legs:
                if op is winner:
                    continue
                tl.append(
                    (t + 0.001, self._ev("DialEnd", trunk, **self._dest(op), DialStatus="CANCEL"))
                )
                tl.append(
                    (t + 0.001, self._ev("DialEnd", trunk, **self._dest(op), DialStatus="CANCEL"))
                )
                tl.append(
                    (
                        t + 0.002,
                        self._ev("Hangup", op, Cause="26", **{"Cause-txt": "Answered elsewhere"}),
                    )
                )
            member = {
                "Queue": c.queue,
                "Interface": f"PJSIP/{winner_ext}",
                "MemberName": f"Operator {winner_ext}",
            }
            tl.append(
                (
                    t + 0.003,
                    self._ev("QueueCallerLeave", trunk, Queue=c.queue, Position="1", Count="0"),
                )
            )
            tl.append(
                (
                    t + 0.003,
                    self._ev(
                        "AgentConnect",
                        trunk,
                        **self._dest(winner),
                        **member,
                        HoldTime=str(int(ring)),
                        RingTime=str(int(ring)),
                    ),
                )
            )
            bridge = f"b{lid}"
            tl.append((t + 0.004, self._ev("BridgeEnter", winner, BridgeUniqueid=bridge)))
            tl.append((t + 0.004, self._ev("BridgeEnter", trunk, BridgeUniqueid=bridge)))
            t += talk
            tl.append((t, self._ev("BridgeLeave", trunk, BridgeUniqueid=bridge)))
            tl.append(
                (t, self._ev("Hangup", trunk, Cause="16", **{"Cause-txt": "Normal Clearing"}))
            )
            tl.append(
                (
                    t + 0.001,
                    self._ev(
                        "AgentComplete",
                        trunk,
                        **self._dest(winner),
                        **member,
                        HoldTime=str(int(ring)),
                        TalkTime=str(int(talk)),
                        Reason="caller",
                    ),
                )
            )
            tl.append(
                (
                    t + 0.002,
                    self._ev("Hangup", winner, Cause="16", **{"Cause-txt": "Normal Clearing"}),
                )
            )
        else:
            for _ext, op in legs:
                tl.append((t, self._ev("DialEnd", trunk, **self._dest(op), DialStatus="CANCEL")))
                tl.append(
                    (t + 0.001, self._ev("Hangup", op, Cause="0", **{"Cause-txt": "Unknown"}))
                )
            tl.append(
                (
                    t + 0.002,
                    self._ev(
                        "QueueCallerAbandon",
                        trunk,
                        Queue=c.queue,
                        Position="1",
                        OriginalPosition="1",
                        HoldTime=str(int(ring)),
                    ),
                )
            )
            tl.append(
                (
                    t + 0.002,
                    self._ev("QueueCallerLeave", trunk, Queue=c.queue, Position="1", Count="0"),
                )
            )
            tl.append(
                (
                    t + 0.003,
                    self._ev("Hangup", trunk, Cause="16", **{"Cause-txt": "Normal Clearing"}),
                )
            )
        return lid, tl

    def originate(
        self, action: AmiMessage, mode: str = "answer", ring: float = 1.0, talk: float = 5.0
    ) -> tuple[str | None, list[tuple[float, dict]]]:
        """Events of an ``Originate``: the operator's phone rings first, then the number."""
        channel = action.get("channel", "")
        m = re.match(r"^(\w+)/(\d+)(@[^/]*)?$", channel)
        if not m:
            return None, []
        tech, ext, at = m.group(1), m.group(2), m.group(3) or ""
        exten = action.get("exten", "")
        context = action.get("context", "")
        action_id = action.get("actionid", "")
        name = f"{tech}/{ext}{at}"
        op = self._channel(name, None, CallerIDNum=ext, CallerIDName=f"Operator {ext}")
        if tech.lower() == "local":
            op["Channel"] += ";1"
        lid = op["Linkedid"]
        tl: list[tuple[float, dict]] = [(0.0, self._ev("Newchannel", op))]
        tl.append(
            (
                0.001,
                {
                    "Event": "DialBegin",
                    "Privilege": "call,all",
                    **self._dest(op),
                    "DialString": f"{ext}{at}",
                },
            )
        )
        self._state(op, "5", "Ringing")
        tl.append((0.01, self._ev("Newstate", op)))
        result = {
            "Event": "OriginateResponse",
            "Privilege": "call,all",
            "ActionID": action_id,
            "Channel": op["Channel"],
            "Context": context,
            "Exten": exten,
            "Application": "",
            "Data": "",
            "CallerIDNum": "<unknown>",
            "CallerIDName": "<unknown>",
        }
        if mode in ("busy", "noanswer"):
            status, reason, cause = (
                ("BUSY", "5", "17") if mode == "busy" else ("NOANSWER", "3", "19")
            )
            t = 0.05 if mode == "busy" else ring
            tl.append(
                (
                    t,
                    {
                        "Event": "DialEnd",
                        "Privilege": "call,all",
                        **self._dest(op),
                        "DialStatus": status,
                    },
                )
            )
            tl.append((t + 0.001, self._ev("Hangup", op, Cause=cause)))
            tl.append(
                (
                    t + 0.002,
                    {
                        **result,
                        "Response": "Failure",
                        "Channel": name,
                        "Reason": reason,
                        "Uniqueid": "<unknown>",
                    },
                )
            )
            return lid, tl
        t = ring
        self._state(op, "6", "Up")
        tl.append((t, self._ev("Newstate", op)))
        tl.append(
            (
                t,
                {
                    "Event": "DialEnd",
                    "Privilege": "call,all",
                    **self._dest(op),
                    "DialStatus": "ANSWER",
                },
            )
        )
        tl.append(
            (
                t + 0.001,
                {**result, "Response": "Success", "Reason": "4", "Uniqueid": op["Uniqueid"]},
            )
        )
        op.update(Context=context, Exten=exten)
        tl.append(
            (
                t + 0.002,
                self._ev(
                    "Newexten",
                    op,
                    Extension=exten,
                    Application="Dial",
                    AppData=f"PJSIP/{exten}@trunk",
                ),
            )
        )
        far = self._channel("PJSIP/trunk", lid, Context="from-pstn")
        tl.append((t + 0.003, self._ev("Newchannel", far)))
        far.update(CallerIDNum=exten)
        tl.append((t + 0.003, self._ev("NewCallerid", far)))
        tl.append(
            (t + 0.004, self._ev("DialBegin", op, **self._dest(far), DialString=f"{exten}@trunk"))
        )
        self._state(far, "5", "Ringing")
        tl.append((t + 0.01, self._ev("Newstate", far)))
        t += 2.0
        self._state(far, "6", "Up")
        tl.append((t, self._ev("Newstate", far)))
        tl.append((t, self._ev("DialEnd", op, **self._dest(far), DialStatus="ANSWER")))
        bridge = f"b{lid}"
        tl.append((t + 0.001, self._ev("BridgeEnter", far, BridgeUniqueid=bridge)))
        tl.append((t + 0.001, self._ev("BridgeEnter", op, BridgeUniqueid=bridge)))
        t += talk
        tl.append((t, self._ev("Hangup", far, Cause="16")))
        tl.append((t + 0.001, self._ev("Hangup", op, Cause="16")))
        return lid, tl


def render(fields: dict[str, str], extra: dict[str, str] | None = None) -> bytes:
    """AMI bytes of one message (``Event``/``Response`` first, as Asterisk writes them)."""
    lines = [f"{k}: {v}" for k, v in fields.items()]
    if extra:
        lines[1:1] = [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def synthetic_stream(
    calls: int,
    seed: int = 1,
    config: SyntheticConfig | None = None,
    factory: CallFactory | None = None,
) -> bytes:
    """The bytes of ``calls`` synthetic calls one after another (for benchmarks).

    Pass the same ``factory`` for successive batches so Linkedids never repeat.
    """
    factory = factory or CallFactory(config, seed=seed)
    out = bytearray()
    for _ in range(calls):
        _lid, timeline = factory.make()
        timeline.sort(key=lambda p: p[0])
        for _t, fields in timeline:
            out += render(fields)
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# the server


class _Session:
    def __init__(self, server: AmiReplayServer, reader, writer):
        self.server = server
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.muted = False  # half-open simulation: nothing in, nothing out
        self.player: asyncio.Task | None = None
        self.script: ConnectionScript | None = None
        self.requested: dict[str, deque[str]] = {}  # action -> ActionIDs waiting for a recording
        self.snapshots: dict[str, deque[ScriptItem]] = {}  # recorded login snapshots not sent yet
        self.request_event = asyncio.Event()
        self.closed = False

    def send(self, data: bytes) -> None:
        if self.closed or self.muted or self.writer.is_closing():
            return
        self.writer.write(data)

    def abort(self) -> None:
        self.closed = True
        transport = self.writer.transport
        if transport is not None:
            transport.abort()


class AmiReplayServer:
    """See the module docstring. Start with ``await server.start()``; ``server.port`` is bound."""

    def __init__(
        self,
        scripts: Sequence[ConnectionScript] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "crm",
        secret: str = "secret",
        speed: float = 1.0,
        loop: bool = False,
        timestamps: bool = False,
        synthetic_rate: float = 0.0,
        synthetic_calls: int | None = None,
        synthetic: SyntheticConfig | None = None,
        originate_mode: str = "answer",
        garbage: float = 0.0,
        seed: int | None = None,
        resync_wait: float = 3.0,
        drop_linger: float = 0.3,
    ) -> None:
        self.drop_linger = drop_linger
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.speed = speed
        self.loop = loop
        self.timestamps = timestamps
        self.synthetic_rate = synthetic_rate
        self.synthetic_calls = synthetic_calls
        self.factory = CallFactory(synthetic, seed=seed)
        self.originate_mode = originate_mode  # answer | busy | noanswer | error
        self.garbage = garbage  # probability of junk before each event
        self.random = random.Random(seed)
        self.resync_wait = resync_wait
        self._all_scripts = list(scripts)
        self._scripts: deque[ConnectionScript] = deque(scripts)
        self._round = 0
        self.sessions: set[_Session] = set()
        self.channels: dict[str, dict[str, str]] = {}  # live channels, by Uniqueid
        self._created: dict[str, float] = {}
        self.queue_entries: dict[str, dict[str, str]] = {}  # Uniqueid -> QueueEntry fields
        self.queue_members: dict[str, list[str]] = {
            self.factory.config.queue: [f"PJSIP/{e}" for e in self.factory.config.queue_members]
        }
        if scripts:
            # a recording's PBX has the queues its own QueueStatus answers showed, if any
            self.queue_members = _recorded_queue_members(scripts)
        self.events_sent = 0
        self.calls_started = 0
        self.logins = 0
        self.login_failures = 0
        self.finished = asyncio.Event()  # all scripts played (and synthetic quota reached)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._generator: asyncio.Task | None = None
        self._t0 = time.monotonic()

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> AmiReplayServer:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.synthetic_rate > 0:
            self._generator = asyncio.ensure_future(self._generate())
        elif not self._scripts:
            self.finished.set()
        log.info("AMI replay server on %s:%s", self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._generator is not None:
            self._generator.cancel()
        for task in list(self._tasks):
            task.cancel()
        for session in list(self.sessions):
            session.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> AmiReplayServer:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    # ------------------------------------------------------------------ fault hooks
    def drop_connections(self) -> int:
        """Cut every client connection now (no Logoff), like a network failure."""
        count = 0
        for session in list(self.sessions):
            session.abort()
            count += 1
        return count

    def stop_answering_ping(self) -> None:
        """Current connections go silent both ways (half-open TCP); new ones work normally."""
        for session in self.sessions:
            session.muted = True

    # ------------------------------------------------------------------ sending events
    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _junk(self) -> bytes:
        kind = self.random.random()
        if kind < 0.4:
            body = bytes(b for b in os.urandom(self.random.randint(1, 80)) if b not in (10, 13))
            return body + b"\r\n"
        if kind < 0.7:
            return b"this is not AMI \xc3\x28 \xff\xfe\r\n\r\n"
        if kind < 0.9:
            return b"Key without event: 1\r\nAnother: 2\r\n\r\n"
        return b"X-Oversized: " + b"A" * 100_000 + b"\r\n\r\n"

    def _track(self, msg: dict[str, str] | AmiMessage) -> None:
        """Keep the live channel table in step with what is sent."""
        m = msg if isinstance(msg, AmiMessage) else {k.lower(): v for k, v in msg.items()}
        event = m.get("event", "")
        uid = m.get("uniqueid")
        if event == "Newchannel" and uid:
            self.channels[uid] = {
                "Channel": m.get("channel", ""),
                "Uniqueid": uid,
                "Linkedid": m.get("linkedid", uid),
                "Context": m.get("context", ""),
                "Extension": m.get("exten", ""),
                "Priority": m.get("priority", "1"),
                "ChannelState": m.get("channelstate", "0"),
                "ChannelStateDesc": m.get("channelstatedesc", "Down"),
                "Application": "",
                "ApplicationData": "",
                "CallerIDNum": m.get("calleridnum", ""),
                "CallerIDName": m.get("calleridname", ""),
                "ConnectedLineNum": m.get("connectedlinenum", ""),
                "ConnectedLineName": m.get("connectedlinename", ""),
                "Language": "en",
                "AccountCode": "",
                "BridgeId": "",
            }
            self._created[uid] = time.monotonic()
            return
        chan = self.channels.get(uid) if uid else None
        if chan is None:
            return
        if event == "Hangup":
            self.channels.pop(uid, None)
            self._created.pop(uid, None)
            self.queue_entries.pop(uid, None)
            return
        for key, ckey in (
            ("channelstate", "ChannelState"),
            ("channelstatedesc", "ChannelStateDesc"),
            ("calleridnum", "CallerIDNum"),
            ("calleridname", "CallerIDName"),
            ("connectedlinenum", "ConnectedLineNum"),
            ("connectedlinename", "ConnectedLineName"),
            ("context", "Context"),
            ("exten", "Extension"),
        ):
            if key in m:
                chan[ckey] = m[key]
        if event == "Newexten":
            chan["Application"] = m.get("application", "")
            chan["ApplicationData"] = m.get("appdata", "")
        elif event == "BridgeEnter":
            chan["BridgeId"] = m.get("bridgeuniqueid", "")
        elif event == "BridgeLeave":
            chan["BridgeId"] = ""
        elif event == "QueueCallerJoin":
            self.queue_entries[uid] = {
                "Queue": m.get("queue", ""),
                "Position": m.get("position", "1"),
                "Uniqueid": uid,
                "CallerIDNum": m.get("calleridnum", ""),
                "CallerIDName": m.get("calleridname", ""),
                "joined": str(time.monotonic()),
            }
        elif event in ("QueueCallerLeave", "QueueCallerAbandon"):
            self.queue_entries.pop(uid, None)

    def _track_snapshot(self, item: ScriptItem) -> None:
        """A recorded CoreShowChannels answer tells the server what is live (reconnect gap)."""
        if item.action != "coreshowchannels":
            return
        for msg in item.messages:
            if msg.get("event") == "CoreShowChannel" and msg.get("uniqueid"):
                uid = msg["uniqueid"]
                self.channels[uid] = {
                    _canon(k): v for k, v in msg.items() if k not in ("event", "actionid")
                }
                self._created.setdefault(uid, time.monotonic() - _hms(msg.get("duration", "")))

    def _stamp(self, at: float | None = None) -> dict[str, str] | None:
        """``Timestamp`` header (Asterisk's ``timestampevents=yes``), if enabled.

        Recorded events get their recorded wall-clock time, so timings measured from a sped-up
        replay are the real ones.
        """
        if not self.timestamps:
            return None
        return {"Timestamp": f"{time.time() if at is None else at:.6f}"}

    def broadcast(self, fields: dict[str, str]) -> None:
        """Send one event to every logged-in client (as Asterisk does)."""
        self._track(fields)
        data = render(fields, self._stamp())
        self.events_sent += 1
        for session in self.sessions:
            if session.authenticated:
                if self.garbage and self.random.random() < self.garbage:
                    session.send(self._junk())
                session.send(data)

    async def play_call(self, timeline: list[tuple[float, dict]]) -> None:
        """Send a call's events at their times (divided by ``speed``)."""
        timeline = sorted(timeline, key=lambda p: p[0])
        start = time.monotonic()
        for t, fields in timeline:
            delay = start + t / self.speed - time.monotonic() if self.speed else 0
            if delay > 0:
                await asyncio.sleep(delay)
            self.broadcast(fields)

    def start_call(self, kind: str | None = None, **kw: Any) -> str:
        """Start one synthetic call now; returns its Linkedid."""
        linkedid, timeline = self.factory.make(kind, **kw)
        self.calls_started += 1
        self._spawn(self.play_call(timeline))
        return linkedid

    async def _generate(self) -> None:
        """Synthetic calls at ``synthetic_rate`` calls/s (Poisson arrivals)."""
        started = 0
        while self.synthetic_calls is None or started < self.synthetic_calls:
            # a simulator makes calls for someone: wait until a client is logged in
            while not any(s.authenticated for s in self.sessions):
                await asyncio.sleep(0.05)
            self.start_call()
            started += 1
            await asyncio.sleep(self.random.expovariate(self.synthetic_rate))
        while self._tasks:
            await asyncio.sleep(0.05)
        self.finished.set()

    # ------------------------------------------------------------------ connections
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(self, reader, writer)
        self.sessions.add(session)
        parser = ActionParser()
        try:
            writer.write(f"{BANNER}\r\n".encode())
            while not session.closed:
                data = await reader.read(65536)
                if not data:
                    break
                if session.muted:
                    continue
                for action in parser.feed(data):
                    await self._action(session, action)
                    if session.closed:
                        break
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            session.closed = True
            self.sessions.discard(session)
            if session.player is not None and not session.player.done():
                session.player.cancel()
            if not writer.is_closing():
                writer.close()

    def _respond(self, session: _Session, action: AmiMessage, fields: dict[str, str]) -> None:
        out = {"Response": fields.pop("Response", "Success")}
        if "actionid" in action:
            out["ActionID"] = action["actionid"]
        out.update(fields)
        session.send(render(out))

    async def _action(self, session: _Session, action: AmiMessage) -> None:
        name = action.get("action", "").strip().lower()
        if name == "login":
            await self._login(session, action)
            return
        if name == "logoff":
            self._respond(
                session, action, {"Response": "Goodbye", "Message": "Thanks for all the fish."}
            )
            await session.writer.drain()
            session.writer.close()
            session.closed = True
            return
        if not session.authenticated:
            self._respond(session, action, {"Response": "Error", "Message": "Permission denied"})
            return
        if name == "ping":
            self._respond(session, action, {"Ping": "Pong", "Timestamp": f"{time.time():.6f}"})
        elif name in RESYNC_ACTIONS:
            if not self._answer_from_recording(session, name, action):
                self._answer_live(session, name, action)
        elif name == "originate":
            self._originate(session, action)
        else:
            self._respond(
                session, action, {"Response": "Error", "Message": "Invalid/unknown command"}
            )

    async def _login(self, session: _Session, action: AmiMessage) -> None:
        script = None
        if self._scripts:
            script = self._scripts.popleft()
        elif self.loop and self._all_scripts:
            self._round += 1
            self._scripts.extend(_renumbered(s, self._round) for s in self._all_scripts)
            script = self._scripts.popleft()
        ok = action.get("username") == self.username and action.get("secret") == self.secret
        if script is not None and not script.login_ok:
            ok = False  # the recording is of a refused login
        if not ok:
            self.login_failures += 1
            self._respond(
                session, action, {"Response": "Error", "Message": "Authentication failed"}
            )
            await session.writer.drain()
            # Asterisk closes the socket (FIN, not a reset: the client reads the answer first)
            session.closed = True
            session.writer.close()
            if script is not None and not self._scripts:
                self.finished.set()
            return
        self.logins += 1
        session.authenticated = True
        self._respond(session, action, {"Message": "Authentication accepted"})
        session.send(
            render(
                {
                    "Event": "FullyBooted",
                    "Privilege": "system,all",
                    "Uptime": str(int(time.monotonic() - self._t0)),
                    "LastReload": str(int(time.monotonic() - self._t0)),
                    "Status": "Fully Booted",
                }
            )
        )
        if script is not None:
            session.script = script
            for item in script.items:
                if item.leading and item.action in RESYNC_ACTIONS:
                    session.snapshots.setdefault(item.action, deque()).append(item)
            session.player = self._spawn(self._play_script(session, script))

    # ------------------------------------------------------------------ transcripts
    async def _play_script(self, session: _Session, script: ConnectionScript) -> None:
        start = time.monotonic() - script.login_t / (self.speed or 1)
        shift = 0.0
        try:
            for item in script.items:
                if self.speed:
                    delay = start + shift + item.t / self.speed - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                if session.closed:
                    return
                if item.action is not None:
                    if item in session.snapshots.get(item.action, ()):
                        shift += await self._hold_for_request(session, item)
                    continue
                msg = item.messages[0]
                self._track(msg)
                self.events_sent += 1
                if self.garbage and self.random.random() < self.garbage:
                    session.send(self._junk())
                at = script.connected_at + item.t if script.connected_at is not None else None
                session.send(_with_stamp(item.raw, self._stamp(at)))
            await session.writer.drain()
            if self.speed:
                delay = start + shift + script.end_t / self.speed - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            if not self._scripts and not self.loop and self.synthetic_rate <= 0:
                self.finished.set()
        if (self._scripts or self.loop) and not session.closed:
            # the recording ended with a dropped connection: let the client read what was
            # sent, then cut it (no Logoff), as the recording did
            await asyncio.sleep(self.drop_linger)
            log.info("recording %s ended; dropping the connection as it did", script.transcript)
            session.abort()

    async def _hold_for_request(self, session: _Session, item: ScriptItem) -> float:
        """Wait (bounded) until the client asks for this snapshot; send it with its ActionID."""
        action = item.action or ""
        started = time.monotonic()
        deadline = started + self.resync_wait
        while not session.requested.get(action):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or session.closed:
                session.snapshots[action].remove(item)
                return time.monotonic() - started
            session.request_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.request_event.wait(), remaining)
        action_id = session.requested[action].popleft()
        session.snapshots[action].remove(item)
        self._track_snapshot(item)
        raw = _restamp(item.raw, item.action_id, action_id)
        script = session.script
        if self.timestamps and script is not None and script.connected_at is not None:
            stamp = self._stamp(script.connected_at + item.t)
            raw = b"".join(
                _with_stamp(block + b"\r\n\r\n", stamp)
                if block.startswith(b"Event:")
                else block + b"\r\n\r\n"
                for block in raw.split(b"\r\n\r\n")
                if block
            )
        session.send(raw)
        return time.monotonic() - started

    def _answer_from_recording(self, session: _Session, name: str, action: AmiMessage) -> bool:
        if not session.snapshots.get(name):
            return False
        session.requested.setdefault(name, deque()).append(action.get("actionid", ""))
        session.request_event.set()
        return True

    def _answer_live(self, session: _Session, name: str, action: AmiMessage) -> None:
        aid = {"ActionID": action["actionid"]} if "actionid" in action else {}
        out = bytearray()
        if name == "coreshowchannels":
            out += render(
                {
                    "Response": "Success",
                    **aid,
                    "EventList": "start",
                    "Message": "Channels will follow",
                }
            )
            now = time.monotonic()
            for uid, chan in self.channels.items():
                age = int(now - self._created.get(uid, now))
                item = {"Event": "CoreShowChannel", **aid, **chan}
                item["Duration"] = f"{age // 3600:02d}:{age // 60 % 60:02d}:{age % 60:02d}"
                out += render(item)
            out += render(
                {
                    "Event": "CoreShowChannelsComplete",
                    **aid,
                    "EventList": "Complete",
                    "ListItems": str(len(self.channels)),
                }
            )
        else:
            out += render(
                {
                    "Response": "Success",
                    **aid,
                    "EventList": "start",
                    "Message": "Queue status will follow",
                }
            )
            count = 0
            now = time.monotonic()
            for queue, members in self.queue_members.items():
                waiting = [e for e in self.queue_entries.values() if e["Queue"] == queue]
                out += render(
                    {
                        "Event": "QueueParams",
                        **aid,
                        "Queue": queue,
                        "Max": "0",
                        "Strategy": "ringall",
                        "Calls": str(len(waiting)),
                    }
                )
                count += 1
                for member in members:
                    out += render(
                        {
                            "Event": "QueueMember",
                            **aid,
                            "Queue": queue,
                            "Name": member,
                            "Location": member,
                            "StateInterface": member,
                            "Status": "1",
                            "Paused": "0",
                        }
                    )
                    count += 1
                for pos, entry in enumerate(waiting, 1):
                    wait = int(now - float(entry.get("joined", now)))
                    out += render(
                        {
                            "Event": "QueueEntry",
                            **aid,
                            "Queue": queue,
                            "Position": str(pos),
                            "Uniqueid": entry["Uniqueid"],
                            "CallerIDNum": entry["CallerIDNum"],
                            "CallerIDName": entry["CallerIDName"],
                            "Wait": str(wait),
                        }
                    )
                    count += 1
            out += render(
                {
                    "Event": "QueueStatusComplete",
                    **aid,
                    "EventList": "Complete",
                    "ListItems": str(count),
                }
            )
        session.send(bytes(out))

    def _originate(self, session: _Session, action: AmiMessage) -> None:
        mode = self.originate_mode
        linkedid, timeline = (None, [])
        if mode != "error":
            linkedid, timeline = self.factory.originate(action, mode)
        if not timeline:
            self._respond(session, action, {"Response": "Error", "Message": "Originate failed"})
            return
        self._respond(session, action, {"Message": "Originate successfully queued"})
        self.calls_started += 1
        self._spawn(self.play_call(timeline))


def _recorded_queue_members(scripts: Sequence[ConnectionScript]) -> dict[str, list[str]]:
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


def _canon(key: str) -> str:
    special = {
        "bridgeid": "BridgeId",
        "calleridnum": "CallerIDNum",
        "calleridname": "CallerIDName",
        "connectedlinenum": "ConnectedLineNum",
        "connectedlinename": "ConnectedLineName",
        "channelstate": "ChannelState",
        "channelstatedesc": "ChannelStateDesc",
        "uniqueid": "Uniqueid",
        "linkedid": "Linkedid",
        "applicationdata": "ApplicationData",
        "accountcode": "AccountCode",
    }
    return special.get(key, key[:1].upper() + key[1:])


def _hms(text: str) -> float:
    try:
        h, m, s = (int(x) for x in text.split(":"))
        return h * 3600 + m * 60 + s
    except ValueError:
        return 0.0


def _restamp(raw: bytes, old: str | None, new: str) -> bytes:
    if not old:
        return raw
    return raw.replace(f"ActionID: {old}\r\n".encode(), f"ActionID: {new}\r\n".encode())


def _with_stamp(raw: bytes, stamp: dict[str, str] | None) -> bytes:
    if not stamp:
        return raw
    first, sep, rest = raw.partition(b"\r\n")
    extra = "".join(f"{k}: {v}\r\n" for k, v in stamp.items()).encode()
    return first + sep + extra + rest


def _renumbered(script: ConnectionScript, round_no: int) -> ConnectionScript:
    """A copy whose Uniqueids/Linkedids are new, so a looped recording is a new call."""

    def fix(raw: bytes) -> bytes:
        return _ID_KEYS.sub(lambda m: m.group(1) + b": r%d-" % round_no + m.group(2), raw)

    items = []
    for item in script.items:
        raw = fix(item.raw)
        messages = FrameParser().feed(raw)
        items.append(ScriptItem(item.t, raw, messages, item.action, item.action_id, item.leading))
    return ConnectionScript(
        script.label,
        script.transcript,
        script.banner,
        script.login_ok,
        script.login_t,
        items,
        script.end_t,
    )


async def serve(
    transcripts: Sequence[str | Path],
    port: int,
    speed: float,
    loop: bool,
    synthetic: int,
    numbers: list[str] | None,
    username: str,
    secret: str,
    host: str = "127.0.0.1",
    synthetic_calls: int | None = None,
) -> None:
    """Run the replay server until interrupted (the ``callcard ami-replay`` command)."""
    config = SyntheticConfig()
    if numbers:
        config.numbers = numbers
    server = AmiReplayServer(
        scripts_for(transcripts),
        host=host,
        port=port,
        username=username,
        secret=secret,
        speed=speed,
        loop=loop,
        synthetic_rate=synthetic,
        synthetic_calls=synthetic_calls,
        synthetic=config,
    )
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()

"""Made-up inbound calls: the AMI events of direct and queue calls, as a PBX sends them.

Kinds: ``direct_answered``, ``direct_missed`` (the caller gives up), ``direct_busy`` (the
operator declines: the phone rings, then answers busy), ``direct_in_use`` (the phone is in
another call: Dial ends BUSY at once, Hangup cause 17), ``queue_answered`` (ringall: the
members rung ring together, one answers), ``queue_abandoned``. Which phones are free is the
server's business (:mod:`cti.simulator.phones`); the factory builds what it is told.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from cti.simulator.legs import NORMAL_CLEARING, USER_BUSY, Legs, Timeline
from cti.simulator.wire import render

_GAVE_UP = ("127", "Interworking, unspecified")
_ANSWERED_ELSEWHERE = ("26", "Answered elsewhere")


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


class CallFactory(Legs):
    """Builds the AMI event timeline of one call as ``[(seconds_after_start, fields), ...]``."""

    def __init__(self, config: SyntheticConfig | None = None, seed: int | None = None):
        super().__init__()
        self.config = config or SyntheticConfig()
        self.random = random.Random(seed)

    def pick_kind(self) -> str:
        """A call kind drawn from the configured mix."""
        kinds, weights = zip(*self.config.mix.items(), strict=True)
        return self.random.choices(kinds, weights)[0]

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

    def pick_extension(self) -> str:
        """The operator a direct caller dials."""
        return self.random.choice(self.config.extensions)

    def make(self, kind: str | None = None, **kw: Any) -> tuple[str, Timeline]:
        """One call: ``(linkedid, timeline)``. ``kind`` defaults to a weighted random pick.

        Options: ``number=(number, name)``, ``ring_s``, ``talk_s``, ``extension`` (direct
        calls), ``members`` (the queue members rung; default all of the configured ones).
        """
        kind = kind or self.pick_kind()
        number, name = kw.pop("number", None) or self.pick_caller()
        ring = kw.pop("ring_s", None) or round(self.random.uniform(*self.config.ring_s), 3)
        talk = kw.pop("talk_s", None) or round(self.random.uniform(*self.config.talk_s), 3)
        if kind.startswith("queue"):
            members = kw.pop("members", None)
            if members is None:
                members = self.config.queue_members
            return self._queue_call(number, name, ring, talk, kind == "queue_answered", members)
        ext = kw.pop("extension", None) or self.pick_extension()
        return self._direct_call(number, name, ext, ring, talk, kind.removeprefix("direct_"))

    # -- the legs every inbound call has
    def _trunk(self, number: str, name: str, did: str) -> dict[str, str]:
        return self.channel(
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
        return self.channel(
            f"PJSIP/{ext}",
            linkedid,
            CallerIDNum=ext,
            CallerIDName=f"Operator {ext}",
            ConnectedLineNum=number,
            ConnectedLineName=name or "<unknown>",
        )

    def _intro(self, trunk: dict[str, str], number: str) -> Timeline:
        pres = "prohib_not_screened" if number == "anonymous" else "allowed_not_screened"
        inbound = {"Extension": trunk["Exten"], "Application": "NoOp", "AppData": "Inbound"}
        return [
            (0.0, self.event("Newchannel", trunk)),
            (0.001, self.event("Newexten", trunk, **inbound)),
            (0.002, self.event("VarSet", trunk, Variable="CALLER_PRES", Value=pres)),
        ]

    # -- direct calls: the trunk dials one phone
    def _direct_call(
        self, number: str, name: str, ext: str, ring: float, talk: float, outcome: str
    ) -> tuple[str, Timeline]:
        trunk = self._trunk(number, name, f"{self.config.did_base}{ext}")
        lid = trunk["Linkedid"]
        op = self._operator_leg(ext, lid, number, name)
        tl = self._intro(trunk, number)
        t = 0.003
        tl.append((t, self.event("Newchannel", op)))
        tl.append((t, self.event("DialBegin", trunk, **self.dest(op), DialString=ext)))
        if outcome == "in_use":
            # the phone is in another call: no ringing, its device state does not change
            self._busy_here(tl, t + 0.05, trunk, op)
            return lid, tl
        self.set_state(op, "5", "Ringing")
        tl.append((t + 0.01, self.event("Newstate", op)))
        tl.append((t + 0.01, self.device_state(ext, "RINGING")))
        t += ring
        if outcome == "answered":
            t = self._direct_talk(tl, t, trunk, op, ext, talk)
        elif outcome == "busy":
            self._busy_here(tl, t, trunk, op)
        else:
            self._caller_gives_up(tl, t, trunk, op)
        tl.append((t + 0.003, self.device_state(ext, "NOT_INUSE")))
        return lid, tl

    def _direct_talk(
        self, tl: Timeline, t: float, trunk: dict, op: dict, ext: str, talk: float
    ) -> float:
        """The operator answers at ``t`` and both talk for ``talk`` s; returns the hangup time."""
        self.set_state(op, "6", "Up")
        tl.append((t, self.event("Newstate", op)))
        tl.append((t, self.event("DialEnd", trunk, **self.dest(op), DialStatus="ANSWER")))
        self.set_state(trunk, "6", "Up")
        tl.append((t, self.event("Newstate", trunk)))
        bridge = {"BridgeUniqueid": f"b{trunk['Linkedid']}"}
        tl.append((t + 0.001, self.event("BridgeEnter", op, **bridge, BridgeType="basic")))
        tl.append((t + 0.001, self.event("BridgeEnter", trunk, **bridge, BridgeType="basic")))
        tl.append((t + 0.002, self.device_state(ext, "INUSE")))
        t += talk
        tl.append((t, self.event("BridgeLeave", trunk, **bridge)))
        tl.append((t, self.event("BridgeLeave", op, **bridge)))
        tl.append((t + 0.001, self.hangup(trunk, NORMAL_CLEARING)))
        tl.append((t + 0.002, self.hangup(op, NORMAL_CLEARING)))
        return t

    def _busy_here(self, tl: Timeline, t: float, trunk: dict, op: dict) -> None:
        """The phone answers busy (SIP 486): DialEnd BUSY, both legs hang up with cause 17."""
        tl.append((t, self.event("DialEnd", trunk, **self.dest(op), DialStatus="BUSY")))
        tl.append((t + 0.001, self.hangup(op, USER_BUSY)))
        tl.append((t + 0.002, self.hangup(trunk, USER_BUSY)))

    def _caller_gives_up(self, tl: Timeline, t: float, trunk: dict, op: dict) -> None:
        tl.append((t, self.event("DialEnd", trunk, **self.dest(op), DialStatus="CANCEL")))
        tl.append((t + 0.001, self.hangup(trunk, _GAVE_UP)))
        tl.append((t + 0.002, self.hangup(op, _GAVE_UP)))

    # -- queue calls: ringall over the members rung
    def _queue_call(
        self,
        number: str,
        name: str,
        ring: float,
        talk: float,
        answered: bool,
        members: list[str],
    ) -> tuple[str, Timeline]:
        """Without a member to ring the caller waits in the queue, then gives up."""
        queue = self.config.queue
        trunk = self._trunk(number, name, self.config.queue_did)
        tl = self._intro(trunk, number)
        self.set_state(trunk, "6", "Up")
        tl.append((0.003, self.event("Newstate", trunk)))
        join = {"Queue": queue, "Position": "1", "Count": "1"}
        tl.append((0.004, self.event("QueueCallerJoin", trunk, **join)))
        legs = self._ring_members(tl, 0.005, trunk, number, name, members)
        t = 0.005 + ring
        if answered and legs:
            winner_ext, winner = self.random.choice(legs)
            self._member_picks_up(tl, t, trunk, winner, legs)
            self._member_talks(tl, t, trunk, winner_ext, winner, ring, talk)
        else:
            self._queue_abandoned(tl, t, trunk, legs, ring)
        return trunk["Linkedid"], tl

    def _member(self, ext: str) -> dict[str, str]:
        return {
            "Queue": self.config.queue,
            "Interface": f"PJSIP/{ext}",
            "MemberName": f"Operator {ext}",
        }

    def _ring_members(
        self, tl: Timeline, t: float, trunk: dict, number: str, name: str, members: list[str]
    ) -> list[tuple[str, dict]]:
        legs = []
        for ext in members:
            op = self._operator_leg(ext, trunk["Linkedid"], number, name)
            legs.append((ext, op))
            tl.append((t, self.event("Newchannel", op)))
            tl.append((t, self.event("AgentCalled", trunk, **self.dest(op), **self._member(ext))))
            dial = {"DialString": f"PJSIP/{ext}"}
            tl.append((t, self.event("DialBegin", trunk, **self.dest(op), **dial)))
        for _ext, op in legs:
            self.set_state(op, "5", "Ringing")
            tl.append((t + 0.01, self.event("Newstate", op)))
        return legs

    def _member_picks_up(
        self, tl: Timeline, t: float, trunk: dict, winner: dict, legs: list[tuple[str, dict]]
    ) -> None:
        """The winner answers; the other phones stop ringing (Asterisk repeats their DialEnd)."""
        self.set_state(winner, "6", "Up")
        tl.append((t, self.event("Newstate", winner)))
        tl.append((t, self.event("DialEnd", trunk, **self.dest(winner), DialStatus="ANSWER")))
        for _ext, op in legs:
            if op is winner:
                continue
            cancel = self.event("DialEnd", trunk, **self.dest(op), DialStatus="CANCEL")
            tl.append((t + 0.001, cancel))
            tl.append((t + 0.001, dict(cancel)))
            tl.append((t + 0.002, self.hangup(op, _ANSWERED_ELSEWHERE)))

    def _member_talks(
        self, tl: Timeline, t: float, trunk: dict, ext: str, op: dict, ring: float, talk: float
    ) -> None:
        queue, member, peer = self.config.queue, self._member(ext), self.dest(op)
        leave = {"Queue": queue, "Position": "1", "Count": "0"}
        tl.append((t + 0.003, self.event("QueueCallerLeave", trunk, **leave)))
        held = {"HoldTime": str(int(ring))}
        connect = self.event(
            "AgentConnect", trunk, **peer, **member, **held, RingTime=held["HoldTime"]
        )
        tl.append((t + 0.003, connect))
        bridge = {"BridgeUniqueid": f"b{trunk['Linkedid']}"}
        tl.append((t + 0.004, self.event("BridgeEnter", op, **bridge)))
        tl.append((t + 0.004, self.event("BridgeEnter", trunk, **bridge)))
        t += talk
        tl.append((t, self.event("BridgeLeave", trunk, **bridge)))
        tl.append((t, self.hangup(trunk, NORMAL_CLEARING)))
        done = {**held, "TalkTime": str(int(talk)), "Reason": "caller"}
        tl.append((t + 0.001, self.event("AgentComplete", trunk, **peer, **member, **done)))
        tl.append((t + 0.002, self.hangup(op, NORMAL_CLEARING)))

    def _queue_abandoned(
        self, tl: Timeline, t: float, trunk: dict, legs: list[tuple[str, dict]], ring: float
    ) -> None:
        for _ext, op in legs:
            tl.append((t, self.event("DialEnd", trunk, **self.dest(op), DialStatus="CANCEL")))
            tl.append((t + 0.001, self.hangup(op, ("0", "Unknown"))))
        queue = self.config.queue
        held = {"OriginalPosition": "1", "HoldTime": str(int(ring))}
        tl.append(
            (t + 0.002, self.event("QueueCallerAbandon", trunk, Queue=queue, Position="1", **held))
        )
        leave = {"Queue": queue, "Position": "1", "Count": "0"}
        tl.append((t + 0.002, self.event("QueueCallerLeave", trunk, **leave)))
        tl.append((t + 0.003, self.hangup(trunk, NORMAL_CLEARING)))


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

"""Click-to-call: the AMI events of an ``Originate``, as Asterisk sends them.

The operator's phone rings first; when it answers, the PBX dials the number through the trunk.
A busy phone (in another call, or the server told to answer busy) refuses with DialEnd BUSY,
Hangup cause 17 and ``OriginateResponse`` Failure reason 5; an unanswered one with NOANSWER,
cause 19, reason 3.
"""

from __future__ import annotations

import re

from cti.ami import AmiMessage
from cti.simulator.legs import Legs, Timeline

#: ``Channel`` of an Originate that rings an operator's phone: tech, extension, @context
_PHONE_CHANNEL = re.compile(r"^(\w+)/(\d+)(@[^/]*)?$")
#: mode -> DialStatus, OriginateResponse Reason, Hangup cause
_REFUSALS = {"busy": ("BUSY", "5", "17"), "noanswer": ("NOANSWER", "3", "19")}


def originated_extension(action: AmiMessage) -> str | None:
    """The operator's extension an Originate rings first (``PJSIP/101``), if it names one."""
    m = _PHONE_CHANNEL.match(action.get("channel", ""))
    return m.group(2) if m else None


def originate_call(
    legs: Legs, action: AmiMessage, mode: str = "answer", ring: float = 1.0, talk: float = 5.0
) -> tuple[str | None, Timeline]:
    """Events of an ``Originate`` (``mode``: ``answer``, ``busy``, ``noanswer``).

    ``(None, [])`` when the Channel is not a phone the PBX could ring.
    """
    m = _PHONE_CHANNEL.match(action.get("channel", ""))
    if not m:
        return None, []
    tech, ext, at = m.group(1), m.group(2), m.group(3) or ""
    name = f"{tech}/{ext}{at}"
    op = legs.channel(name, None, CallerIDNum=ext, CallerIDName=f"Operator {ext}")
    if tech.lower() == "local":
        op["Channel"] += ";1"
    tl: Timeline = [(0.0, legs.event("Newchannel", op))]
    dial = {"Event": "DialBegin", "Privilege": "call,all", **legs.dest(op)}
    tl.append((0.001, {**dial, "DialString": f"{ext}{at}"}))
    legs.set_state(op, "5", "Ringing")
    tl.append((0.01, legs.event("Newstate", op)))
    result = {
        "Event": "OriginateResponse",
        "Privilege": "call,all",
        "ActionID": action.get("actionid", ""),
        "Channel": op["Channel"],
        "Context": action.get("context", ""),
        "Exten": action.get("exten", ""),
        "Application": "",
        "Data": "",
        "CallerIDNum": "<unknown>",
        "CallerIDName": "<unknown>",
    }
    if mode in _REFUSALS:
        _phone_refuses(legs, tl, op, result, mode, 0.05 if mode == "busy" else ring, name)
    else:
        _phone_answers(legs, tl, ring, op, result, talk)
    return op["Linkedid"], tl


def _phone_refuses(
    legs: Legs, tl: Timeline, op: dict, result: dict, mode: str, t: float, name: str
) -> None:
    status, reason, cause = _REFUSALS[mode]
    end = {"Event": "DialEnd", "Privilege": "call,all", **legs.dest(op), "DialStatus": status}
    tl.append((t, end))
    tl.append((t + 0.001, legs.event("Hangup", op, Cause=cause)))
    failure = {"Response": "Failure", "Channel": name, "Reason": reason, "Uniqueid": "<unknown>"}
    tl.append((t + 0.002, {**result, **failure}))


def _phone_answers(legs: Legs, tl: Timeline, t: float, op: dict, result: dict, talk: float) -> None:
    """The operator picks up at ``t``; the PBX then dials the number and they talk."""
    legs.set_state(op, "6", "Up")
    tl.append((t, legs.event("Newstate", op)))
    end = {"Event": "DialEnd", "Privilege": "call,all", **legs.dest(op), "DialStatus": "ANSWER"}
    tl.append((t, end))
    success = {"Response": "Success", "Reason": "4", "Uniqueid": op["Uniqueid"]}
    tl.append((t + 0.001, {**result, **success}))
    exten = result["Exten"]
    op.update(Context=result["Context"], Exten=exten)
    dial = {"Extension": exten, "Application": "Dial", "AppData": f"PJSIP/{exten}@trunk"}
    tl.append((t + 0.002, legs.event("Newexten", op, **dial)))
    far = legs.channel("PJSIP/trunk", op["Linkedid"], Context="from-pstn")
    tl.append((t + 0.003, legs.event("Newchannel", far)))
    far.update(CallerIDNum=exten)
    tl.append((t + 0.003, legs.event("NewCallerid", far)))
    begin = legs.event("DialBegin", op, **legs.dest(far), DialString=f"{exten}@trunk")
    tl.append((t + 0.004, begin))
    legs.set_state(far, "5", "Ringing")
    tl.append((t + 0.01, legs.event("Newstate", far)))
    t += 2.0
    legs.set_state(far, "6", "Up")
    tl.append((t, legs.event("Newstate", far)))
    tl.append((t, legs.event("DialEnd", op, **legs.dest(far), DialStatus="ANSWER")))
    bridge = {"BridgeUniqueid": f"b{op['Linkedid']}"}
    tl.append((t + 0.001, legs.event("BridgeEnter", far, **bridge)))
    tl.append((t + 0.001, legs.event("BridgeEnter", op, **bridge)))
    t += talk
    tl.append((t, legs.event("Hangup", far, Cause="16")))
    tl.append((t + 0.001, legs.event("Hangup", op, Cause="16")))

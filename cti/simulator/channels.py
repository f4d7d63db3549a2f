"""The channels live on the simulated PBX, and its answers to ``CoreShowChannels`` and
``QueueStatus`` built from them (so a snapshot always matches the events sent)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from cti.ami import AmiMessage
from cti.simulator.transcripts import ScriptItem
from cti.simulator.wire import render

#: event field (lower case) -> CoreShowChannel field it updates
_CHANNEL_FIELDS = {
    "channelstate": "ChannelState",
    "channelstatedesc": "ChannelStateDesc",
    "calleridnum": "CallerIDNum",
    "calleridname": "CallerIDName",
    "connectedlinenum": "ConnectedLineNum",
    "connectedlinename": "ConnectedLineName",
    "context": "Context",
    "exten": "Extension",
}
#: recorded CoreShowChannel keys (lower case) whose CamelCase is not just a capital first letter
_CAMEL = {
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


class LiveChannels:
    """The live channel table (by Uniqueid) and the callers waiting in queues."""

    def __init__(self) -> None:
        self.channels: dict[str, dict[str, str]] = {}
        self.created: dict[str, float] = {}  # Uniqueid -> monotonic time it appeared
        self.queue_entries: dict[str, dict[str, str]] = {}  # Uniqueid -> QueueEntry fields

    def track(self, msg: Mapping[str, str]) -> None:
        """Keep the table in step with an event sent (fields in any case)."""
        m = msg if isinstance(msg, AmiMessage) else {k.lower(): v for k, v in msg.items()}
        event = m.get("event", "")
        uid = m.get("uniqueid")
        if event == "Newchannel" and uid:
            self._open(uid, m)
            return
        chan = self.channels.get(uid) if uid else None
        if chan is None or uid is None:
            return
        if event == "Hangup":
            self.channels.pop(uid, None)
            self.created.pop(uid, None)
            self.queue_entries.pop(uid, None)
            return
        for key, ckey in _CHANNEL_FIELDS.items():
            if key in m:
                chan[ckey] = m[key]
        self._follow(event, uid, chan, m)

    def _open(self, uid: str, m: Mapping[str, str]) -> None:
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
        self.created[uid] = time.monotonic()

    def _follow(self, event: str, uid: str, chan: dict[str, str], m: Mapping[str, str]) -> None:
        """What the event says about the channel's dialplan step, bridge or queue wait."""
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

    def track_snapshot(self, item: ScriptItem) -> None:
        """A recorded CoreShowChannels answer tells what is live (a reconnect's gap)."""
        if item.action != "coreshowchannels":
            return
        for msg in item.messages:
            if msg.get("event") == "CoreShowChannel" and msg.get("uniqueid"):
                uid = msg["uniqueid"]
                self.channels[uid] = {
                    _camel(k): v for k, v in msg.items() if k not in ("event", "actionid")
                }
                self.created.setdefault(uid, time.monotonic() - _hms(msg.get("duration", "")))

    def core_show_channels(self, action_id: dict[str, str]) -> bytes:
        """The answer to ``CoreShowChannels``: one ``CoreShowChannel`` per live channel."""
        out = bytearray(_list_start(action_id, "Channels will follow"))
        now = time.monotonic()
        for uid, chan in self.channels.items():
            age = int(now - self.created.get(uid, now))
            item = {"Event": "CoreShowChannel", **action_id, **chan}
            item["Duration"] = f"{age // 3600:02d}:{age // 60 % 60:02d}:{age % 60:02d}"
            out += render(item)
        out += _list_end("CoreShowChannelsComplete", action_id, len(self.channels))
        return bytes(out)

    def queue_status(
        self,
        queue_members: dict[str, list[str]],
        member_status: Callable[[str], str],
        action_id: dict[str, str],
    ) -> bytes:
        """The answer to ``QueueStatus``: each queue, its members and the callers waiting.

        ``member_status`` gives a member interface's ``Status`` (AST_DEVICE_* code).
        """
        out = bytearray(_list_start(action_id, "Queue status will follow"))
        count = 0
        for queue, members in queue_members.items():
            waiting = [e for e in self.queue_entries.values() if e["Queue"] == queue]
            out += render(
                {
                    "Event": "QueueParams",
                    **action_id,
                    "Queue": queue,
                    "Max": "0",
                    "Strategy": "ringall",
                    "Calls": str(len(waiting)),
                }
            )
            for member in members:
                out += _queue_member(queue, member, member_status(member), action_id)
            out += self._queue_entries(queue, waiting, action_id)
            count += 1 + len(members) + len(waiting)
        out += _list_end("QueueStatusComplete", action_id, count)
        return bytes(out)

    @staticmethod
    def _queue_entries(queue: str, waiting: list[dict[str, str]], action_id: dict) -> bytes:
        out = bytearray()
        now = time.monotonic()
        for pos, entry in enumerate(waiting, 1):
            out += render(
                {
                    "Event": "QueueEntry",
                    **action_id,
                    "Queue": queue,
                    "Position": str(pos),
                    "Uniqueid": entry["Uniqueid"],
                    "CallerIDNum": entry["CallerIDNum"],
                    "CallerIDName": entry["CallerIDName"],
                    "Wait": str(int(now - float(entry.get("joined", now)))),
                }
            )
        return bytes(out)


def _queue_member(queue: str, member: str, status: str, action_id: dict[str, str]) -> bytes:
    return render(
        {
            "Event": "QueueMember",
            **action_id,
            "Queue": queue,
            "Name": member,
            "Location": member,
            "StateInterface": member,
            "Status": status,
            "Paused": "0",
        }
    )


def _list_start(action_id: dict[str, str], message: str) -> bytes:
    return render({"Response": "Success", **action_id, "EventList": "start", "Message": message})


def _list_end(event: str, action_id: dict[str, str], items: int) -> bytes:
    return render({"Event": event, **action_id, "EventList": "Complete", "ListItems": str(items)})


def _camel(key: str) -> str:
    return _CAMEL.get(key, key[:1].upper() + key[1:])


def _hms(text: str) -> float:
    try:
        h, m, s = (int(x) for x in text.split(":"))
        return h * 3600 + m * 60 + s
    except ValueError:
        return 0.0

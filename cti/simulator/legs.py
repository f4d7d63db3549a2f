"""Channels and the AMI events about them, as a PJSIP Asterisk writes them.

Channel names, field sets and event order follow the PJSIP recordings in tests/data/ami/pjsip
(trunk leg ``PJSIP/trunk-…``, operator legs ``PJSIP/10x-…``).
"""

from __future__ import annotations

import time

#: ``[(seconds_after_the_call_started, event_fields), ...]``: one call's events
Timeline = list[tuple[float, dict]]

NORMAL_CLEARING = ("16", "Normal Clearing")
USER_BUSY = ("17", "User busy")


class Legs:
    """Makes channels with fresh Uniqueids and the events that describe them."""

    def __init__(self) -> None:
        self._seq = 0
        self._chan = 0
        self._epoch = int(time.time())

    def _uid(self) -> str:
        self._seq += 1
        return f"{self._epoch}.{self._seq}"

    def channel(self, tech_name: str, linkedid: str | None, **fields: str) -> dict[str, str]:
        """A new channel's fields (``linkedid`` None: the channel starts a call of its own)."""
        self._chan += 1
        uid = self._uid()
        return {
            "Channel": f"{tech_name}-{self._chan:08x}",
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
    def event(name: str, chan: dict[str, str], **extra: str) -> dict[str, str]:
        return {"Event": name, "Privilege": "call,all", **chan, **extra}

    @staticmethod
    def dest(chan: dict[str, str]) -> dict[str, str]:
        """The channel's fields as the ``Dest…`` side of a Dial event."""
        return {"Dest" + k: v for k, v in chan.items()}

    @staticmethod
    def set_state(chan: dict[str, str], code: str, desc: str) -> None:
        chan["ChannelState"] = code
        chan["ChannelStateDesc"] = desc

    @classmethod
    def hangup(cls, chan: dict[str, str], cause: tuple[str, str]) -> dict[str, str]:
        return cls.event("Hangup", chan, Cause=cause[0], **{"Cause-txt": cause[1]})

    @staticmethod
    def device_state(ext: str, state: str) -> dict[str, str]:
        return {
            "Event": "DeviceStateChange",
            "Privilege": "call,all",
            "Device": f"PJSIP/{ext}",
            "State": state,
        }

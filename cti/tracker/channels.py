"""Channel naming: which extension (operator phone) or trunk a channel name, device or queue
interface stands for, and the small readers of AMI fields the tracker shares."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from crm_core.phones import try_e164
from cti.ami import AmiMessage
from cti.tracker.call import TrackedCall

_UNKNOWN = {"", "<unknown>", "unknown"}
_NUMBER = re.compile(r"^\+?\d{3,}$")
PRES_PROHIBITED = re.compile(r"prohib|restrict", re.IGNORECASE)


def known(value: str | None) -> str | None:
    """The value, or None for what Asterisk writes when it does not know (``<unknown>``)."""
    if value is None:
        return None
    value = value.strip()
    return None if value.lower() in _UNKNOWN else value


class Channel:
    __slots__ = ("uniqueid", "name", "linkedid", "extension", "external", "up", "bridge")

    def __init__(
        self, uniqueid: str, name: str, linkedid: str, extension: str | None, external: bool
    ):
        self.uniqueid = uniqueid
        self.name = name
        self.linkedid = linkedid
        self.extension = extension
        self.external = external  # a trunk / outside party, not an operator phone
        self.up = False
        self.bridge: str | None = None


class CallState:
    __slots__ = ("call", "channels", "legs", "pending_transfer", "consult", "ring_ending")

    def __init__(self, call: TrackedCall):
        self.call = call
        self.channels: dict[str, Channel] = {}  # live channels by Uniqueid
        self.legs: dict[str, str] = {}  # dialed channel Uniqueid -> extension
        self.pending_transfer: dict[str, Any] | None = None
        self.consult: set[str] = set()  # extensions rung for a consultation (attended transfer)
        # extensions whose ringing ends with the call's next outcome, not at once: a ring
        # group's losers get their CANCEL just before the winner's ANSWER, and a picked-up
        # phone's leg hangs up just before the pickup's ANSWER; told at the answer, they learn
        # it was answered elsewhere (see LiveCalls._ring_ends_with_the_outcome)
        self.ring_ending: set[str] = set()


class ExtensionMatcher:
    """Extension of a channel name, device or queue interface, from ``settings.extension_pattern``."""

    def __init__(self, pattern: str, trunk_contexts: Iterable[str], trunk_prefixes: Iterable[str]):
        self.pattern = re.compile(pattern)
        self.trunk_contexts = {c.lower() for c in trunk_contexts}
        self.trunk_prefixes = tuple(trunk_prefixes)
        # Local/<exten>@<context>-<8 hex>;<1|2>; the context itself may contain dashes
        self._local = re.compile(r"^Local/[^@]*@(.+?)(?:-[0-9a-fA-F]{8}(?:;\d+)?)?$", re.IGNORECASE)

    def _local_context(self, name: str) -> str | None:
        m = self._local.match(name.rstrip("-"))
        return m.group(1).lower() if m else None

    def channel(self, name: str | None) -> str | None:
        """``PJSIP/101-0000001`` -> ``101``; trunks and unknown channels -> None."""
        if not name or (self.trunk_prefixes and name.startswith(self.trunk_prefixes)):
            return None
        m = self.pattern.match(name)
        if not m:
            return None
        ctx = self._local_context(name)
        if ctx is not None and ctx in self.trunk_contexts:
            return None
        return next((g for g in m.groups() if g), None) or m.group(0)

    def interface(self, name: str | None) -> str | None:
        """``PJSIP/101`` or ``Local/101@agents`` (queue Interface, device) -> ``101``."""
        if not name:
            return None
        return self.channel(name if name.endswith("-") else name + "-")

    def is_trunk(self, name: str, context: str | None) -> bool:
        if self.trunk_prefixes and name.startswith(self.trunk_prefixes):
            return True
        if context and context.lower() in self.trunk_contexts:
            return True
        ctx = self._local_context(name)
        return ctx is not None and ctx in self.trunk_contexts


def lowered(event: Mapping[str, str]) -> Mapping[str, str]:
    if type(event) is AmiMessage:
        return event
    return {str(k).lower(): v for k, v in event.items()}


@lru_cache(maxsize=4096)
def e164(number: str, region: str | None) -> str | None:
    """``try_e164`` with a bounded cache: the same callers call again and again."""
    return try_e164(number, region)


def presentation_restricted(value: str) -> bool:
    if PRES_PROHIBITED.search(value):
        return True
    head = value.split(" ", 1)[0]
    if head.isdigit():
        return (int(head) & 0x60) == 0x20
    return False


def duration(item: Mapping[str, str]) -> float:
    text = item.get("duration") or item.get("seconds") or ""
    if ":" in text:
        total = 0.0
        for part in text.split(":"):
            total = total * 60 + (float(part) if part.replace(".", "", 1).isdigit() else 0)
        return total
    try:
        return float(text)
    except ValueError:
        return 0.0


def digits_only(value: str | None) -> str | None:
    if value and value.strip().isdigit():
        return value.strip()
    return None


def dialed_number(event: Mapping[str, str], source: Channel | None) -> str | None:
    candidates = []
    dialstring = event.get("dialstring", "")
    if dialstring:
        candidates.append(dialstring.split("@", 1)[0].rsplit("/", 1)[-1])
    candidates.append(event.get("destcalleridnum", ""))
    candidates.append(event.get("exten", ""))
    for candidate in candidates:
        candidate = candidate.strip()
        if _NUMBER.match(candidate):
            return candidate
    return None

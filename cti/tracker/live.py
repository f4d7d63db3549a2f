"""The live calls and their state transitions (ring, answer, transfer, end), shared by the
AMI event handlers (:mod:`cti.tracker.ami_events`) and the resync after a login
(:mod:`cti.tracker.resync`)."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from crm_core.phones import is_withheld
from cti.tracker.call import TrackedCall, utcnow
from cti.tracker.channels import CallState, Channel, ExtensionMatcher, e164, known

log = logging.getLogger("callcard.cti.tracker")

CallListener = Callable[[str, TrackedCall, str | None], None]


class LiveCalls:
    """Live calls by Linkedid and live channels by Uniqueid; reports changes to ``on_event``."""

    def __init__(
        self,
        settings: Any,
        on_event: CallListener | None = None,
        clock: Callable[[], datetime] = utcnow,
        keep_ended: int = 5000,
    ):
        self.settings = settings
        self.matcher = ExtensionMatcher(
            settings.extension_pattern, settings.trunk_contexts, settings.trunk_prefixes
        )
        self.region = getattr(settings, "default_region", None)
        self.on_event = on_event or (lambda kind, call, ext: None)
        self.clock = clock
        self.calls: dict[str, TrackedCall] = {}  # live calls by Linkedid
        self._event: Mapping[str, str] | None = None
        self._states: dict[str, CallState] = {}
        self._channels: dict[str, Channel] = {}  # live channels by Uniqueid
        self._ended: OrderedDict[str, None] = OrderedDict()  # recently ended Linkedids
        self._keep_ended = keep_ended

    def live_channels(self) -> list[dict[str, str]]:
        """The channels we believe are up, for diagnostics."""
        return [
            {"uniqueid": c.uniqueid, "channel": c.name, "linkedid": c.linkedid}
            for c in self._channels.values()
        ]

    # ------------------------------------------------------------------ helpers
    def _time(self) -> datetime:
        """When the current event happened: its ``Timestamp`` (``timestampevents=yes``) if any."""
        stamp = self._event.get("timestamp") if self._event is not None else None
        if stamp:
            try:
                return datetime.fromtimestamp(float(stamp), UTC)
            except (ValueError, OverflowError, OSError):
                pass
        return self.clock()

    def _emit(self, kind: str, call: TrackedCall, ext: str | None) -> None:
        try:
            self.on_event(kind, call, ext)
        except Exception:
            log.exception("call event handler failed on %s for call %s", kind, call.call_id)

    def _state_for(self, event: Mapping[str, str]) -> CallState | None:
        linkedid = event.get("linkedid") or event.get("destlinkedid")
        if linkedid:
            state = self._states.get(linkedid)
            if state is not None:
                return state
        uid = event.get("uniqueid") or event.get("destuniqueid")
        chan = self._channels.get(uid) if uid else None
        return self._states.get(chan.linkedid) if chan else None

    def _new_call(
        self, linkedid: str, first: Mapping[str, str], started: datetime, partial: bool = False
    ) -> CallState:
        name = first.get("channel", "")
        context = first.get("context")
        ext = self.matcher.channel(name)
        direction = "internal" if ext is not None else "inbound"
        call = TrackedCall(
            call_id=linkedid, direction=direction, started_at=started, partial=partial
        )
        if direction == "inbound":
            call.caller_channel = name
            exten = known(first.get("exten") or first.get("extension"))
            if exten and exten != "s" and (not partial or self.matcher.is_trunk(name, context)):
                call.did = exten
        else:
            call.origin_extension = ext
        state = CallState(call)
        self._states[linkedid] = state
        self.calls[linkedid] = call
        return state

    def _add_channel(self, state: CallState, event: Mapping[str, str]) -> Channel:
        name = event.get("channel", "")
        ext = self.matcher.channel(name)
        external = ext is None
        chan = Channel(event["uniqueid"], name, state.call.call_id, ext, external)
        self._channels[chan.uniqueid] = chan
        state.channels[chan.uniqueid] = chan
        return chan

    def _set_remote(self, call: TrackedCall, number: str | None, name: str | None = None) -> None:
        number = known(number)
        if call.remote_number is None and not call.withheld and number:
            if is_withheld(number):
                self._withhold(call)
                return
            call.remote_number = number
            call.remote_e164 = e164(number, self.region)
        if call.remote_name is None and not call.withheld:
            name = known(name)
            if name and not is_withheld(name):
                call.remote_name = name

    def _withhold(self, call: TrackedCall) -> None:
        if call.direction != "inbound":
            return
        call.withheld = True
        call.remote_number = None
        call.remote_e164 = None
        call.remote_name = None

    def _update_caller(self, state: CallState, chan: Channel, event: Mapping[str, str]) -> None:
        call = state.call
        if call.direction == "inbound" and chan.external:
            if call.caller_channel is None:
                call.caller_channel = chan.name
            self._set_remote(call, event.get("calleridnum"), event.get("calleridname"))
            if call.did is None and call.answered_at is None and not call.rang:
                exten = known(event.get("exten"))
                if (
                    exten
                    and exten != "s"
                    and self.matcher.is_trunk(chan.name, event.get("context"))
                ):
                    call.did = exten
        elif call.direction == "outbound" and chan.external and chan.uniqueid != call.call_id:
            self._set_remote(call, event.get("calleridnum"))

    def _ring(self, state: CallState, ext: str, now: datetime) -> None:
        call = state.call
        state.ring_ending.discard(ext)  # a new leg rings it again
        if ext in call.ringing:
            return
        if ext not in call.rang:
            call.rang.append(ext)
        call.ringing.add(ext)
        call.ring_ended_at = None
        if call.first_ring_at is None:
            call.first_ring_at = now
        self._emit("ringing", call, ext)

    def _stop_ring(self, state: CallState, ext: str) -> None:
        call = state.call
        if ext in call.ringing:
            call.ringing.discard(ext)
            state.ring_ending.discard(ext)
            if not call.ringing and call.answered_at is None:
                call.ring_ended_at = self._time()
            self._emit("ring_stopped", call, ext)

    def _answer(self, state: CallState, ext: str, now: datetime) -> None:
        call = state.call
        call.ringing.discard(ext)
        if call.answered_by == ext:
            return
        if call.answered_by is not None and state.pending_transfer is None:
            # someone else was talking and no transfer event came: a Redirect-style transfer
            self._transfer(state, call.answered_by, ext, "redirect", now)
        if state.pending_transfer is not None and state.pending_transfer.get("to") in (None, ext):
            state.pending_transfer = None
        call.answered_by = ext
        if ext not in call.answered:
            call.answered.append(ext)
        if call.answered_at is None:
            call.answered_at = now
        self._emit("answered", call, ext)
        for other in sorted(state.ring_ending):
            self._stop_ring(state, other)

    def _ring_ends_with_the_outcome(self, state: CallState, ext: str) -> None:
        """``ext`` stops ringing at the call's next answer or dial, or when its leg hangs up
        after a CANCEL, or at the end: whichever comes first (see ``CallState.ring_ending``)."""
        if ext in state.call.ringing:
            state.ring_ending.add(ext)

    def _outcome_without_answer(self, state: CallState) -> None:
        """Another dial began or ended without an answer: pending ring stops are due."""
        for ext in sorted(state.ring_ending):
            self._stop_ring(state, ext)

    def _transfer(
        self, state: CallState, source: str | None, target: str | None, kind: str, now: datetime
    ) -> None:
        call = state.call
        record = {"from": source, "to": target, "kind": kind, "at": now}
        call.transfers.append(record)
        state.pending_transfer = record
        self._emit("transferred", call, target)

    def _move_channel(self, chan: Channel, into: CallState) -> None:
        """A channel created for one call joins another (call pickup: the picker's channel;
        attended transfer: the consulted operator's). What it was dialed as moves with it. A
        call left with nothing to report (the picker's own ``*8`` call) vanishes unreported,
        its other channels joining too."""
        source = self._states.get(chan.linkedid)
        if source is None or source is into:
            return
        moving = [chan]
        old = source.call
        vanishes = not old.rang and old.answered_by is None and old.direction == "internal"
        if vanishes:
            moving = list(source.channels.values())
            self._states.pop(old.call_id, None)
            self.calls.pop(old.call_id, None)
            self._ended[old.call_id] = None
        for moved in moving:
            moved.linkedid = into.call.call_id
            source.channels.pop(moved.uniqueid, None)
            into.channels[moved.uniqueid] = moved
            ext = source.legs.pop(moved.uniqueid, None)
            if ext is not None:
                into.legs[moved.uniqueid] = ext

    def _end(self, state: CallState, now: datetime) -> None:
        call = state.call
        if call.ended_at is not None:
            return
        for ext in sorted(call.ringing):
            self._stop_ring(state, ext)
        call.ended_at = now
        call.disposition = call.final_disposition()
        self._states.pop(call.call_id, None)
        self.calls.pop(call.call_id, None)
        for uid in list(state.channels):
            self._channels.pop(uid, None)
        self._ended[call.call_id] = None
        while len(self._ended) > self._keep_ended:
            self._ended.popitem(last=False)
        self._emit("ended", call, None)

    def _drop_channel(self, uid: str, end_call: bool) -> None:
        chan = self._channels.pop(uid, None)
        if chan is None:
            return
        state = self._states.get(chan.linkedid)
        if state is None:
            return
        state.channels.pop(uid, None)
        ext = state.legs.pop(uid, None)
        if ext is not None and ext in state.call.ringing and ext not in state.legs.values():
            pickup_possible = (
                end_call and state.call.answered_at is None and ext not in state.ring_ending
            )
            if pickup_possible and any(c.external for c in state.channels.values()):
                # without a DialEnd: picked up by a colleague (the pickup's ANSWER follows),
                # the device became unreachable or events were lost
                self._ring_ends_with_the_outcome(state, ext)
            else:
                self._stop_ring(state, ext)
        if end_call and not state.channels:
            self._end(state, self._time())

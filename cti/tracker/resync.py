"""Resync: reconcile the live calls with the PBX's snapshot taken right after (re)login.

The steps, in order (:meth:`Resync.resync`):

1. channels we knew that are gone hung up while we were away: drop them;
2. each call in the snapshot is found or created (``partial``: it started before we connected),
   then each of its channels is brought up to date: an operator leg that is up was answered
   during the gap, one that rings now rings; an outside leg that is up means the far end of an
   outbound call answered;
3. known calls with no channel left ended during the gap;
4. the ``QueueEntry`` items say which queue each waiting caller is in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from cti.tracker.channels import CallState, Channel, duration, known, lowered
from cti.tracker.live import LiveCalls

AmiItem = Mapping[str, str]


def _is_up(item: AmiItem) -> bool:
    return item.get("channelstatedesc", "").lower() == "up" or item.get("channelstate") == "6"


def _is_ringing(item: AmiItem) -> bool:
    return item.get("channelstatedesc", "").lower() == "ringing" or item.get("channelstate") == "5"


def _channels_by_call(channels: list[AmiItem]) -> dict[str, list[AmiItem]]:
    """``CoreShowChannel`` items grouped by Linkedid."""
    snapshot: dict[str, list[AmiItem]] = {}
    for item in channels:
        item = lowered(item)
        uid = item.get("uniqueid")
        if uid:
            snapshot.setdefault(item.get("linkedid") or uid, []).append(item)
    return snapshot


class Resync(LiveCalls):
    def resync(self, channels: list[AmiItem], queue_entries: list[AmiItem] | None = None) -> None:
        """Reconcile with a snapshot taken right after (re)login.

        ``channels`` are the ``CoreShowChannel`` items, ``queue_entries`` the ``QueueEntry`` items
        of ``QueueStatus``. Known calls whose channels vanished ended during the gap; unknown
        calls in the snapshot started before we connected (``partial``); extension legs that
        are up now were answered during the gap.
        """
        self._event = lowered(channels[0]) if channels else None
        now = self._time()  # the snapshot's Timestamp when the PBX stamps events
        self._drop_vanished_channels({lowered(i).get("uniqueid") for i in channels})
        for linkedid, items in _channels_by_call(channels).items():
            if linkedid not in self._ended:
                self._resync_call(linkedid, items, now)
        self._end_calls_without_channels(now)
        if queue_entries:
            self.apply_queue_entries(queue_entries)

    def _drop_vanished_channels(self, live_uids: set[str | None]) -> None:
        for uid in list(self._channels):
            if uid not in live_uids:
                self._drop_channel(uid, end_call=False)

    def _resync_call(self, linkedid: str, items: list[AmiItem], now: datetime) -> None:
        """One call of the snapshot: the first channel first, then the longest-lived."""
        items.sort(key=lambda i: (i.get("uniqueid") != linkedid, -duration(i)))
        state = self._states.get(linkedid)
        if state is None:
            first = items[0]
            started = now - timedelta(seconds=duration(first))
            state = self._new_call(linkedid, first, started, partial=True)
        for item in items:
            chan = self._channels.get(item["uniqueid"]) or self._add_channel(state, item)
            chan.bridge = known(item.get("bridgeid")) or chan.bridge
            if chan.extension and not chan.external:
                self._resync_operator_leg(state, chan, item, now)
            else:
                self._resync_outside_leg(state, chan, item, now)
            self._update_caller(state, chan, item)

    def _resync_operator_leg(
        self, state: CallState, chan: Channel, item: AmiItem, now: datetime
    ) -> None:
        """An operator's phone up now was answered during the gap; ringing now rings."""
        call = state.call
        ext = chan.extension
        is_origin = chan.uniqueid == call.call_id and call.direction != "inbound"
        if _is_up(item) and not chan.up:
            chan.up = True
            # the caller's own phone being up says nothing about an answer
            if not is_origin and (chan.bridge or ext in call.ringing or ext in call.rang):
                self._answer(state, ext, now)
        elif _is_ringing(item) and not is_origin and ext not in call.ringing:
            state.legs[chan.uniqueid] = ext
            self._ring(state, ext, now)

    def _resync_outside_leg(
        self, state: CallState, chan: Channel, item: AmiItem, now: datetime
    ) -> None:
        """A trunk leg: it makes an operator's call outbound; up means the far end answered."""
        call = state.call
        if call.direction == "internal" and chan.uniqueid != call.call_id:
            # an operator's call with an outside party on it: outbound
            call.direction = "outbound"
        if not _is_up(item):
            return
        chan.up = True
        if call.direction == "outbound" and call.remote_answered_at is None:
            call.remote_answered_at = now
            if call.answered_by is None and call.origin_extension:
                self._answer(state, call.origin_extension, now)

    def _end_calls_without_channels(self, now: datetime) -> None:
        for state in list(self._states.values()):
            if not state.channels:
                self._end(state, now)

    def apply_queue_entries(self, entries: Iterable[AmiItem]) -> None:
        """``QueueEntry`` items of ``QueueStatus``: which queue a waiting caller is in.

        They carry the caller's Uniqueid but no Linkedid.
        """
        self._event = None
        for entry in entries:
            entry = lowered(entry)
            chan = self._channels.get(entry.get("uniqueid", ""))
            state = self._states.get(chan.linkedid) if chan else None
            if state is not None:
                call = state.call
                call.queue = call.queue or known(entry.get("queue"))
                if call.queue_joined_at is None and call.answered_at is None:
                    wait = duration({"seconds": entry.get("wait", "")})
                    call.queue_joined_at = self._time() - timedelta(seconds=wait)

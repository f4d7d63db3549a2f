"""The AMI call events (``Newchannel``, ``DialBegin``, ``AgentConnect``, ``Hangup``, ...) and
what each one changes in the live calls."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from cti.tracker.channels import (
    PRES_PROHIBITED,
    CallState,
    dialed_number,
    digits_only,
    e164,
    known,
    presentation_restricted,
)
from cti.tracker.voicemail import VOICEMAIL_VARIABLES, VoicemailEvents

#: dialplan variables that carry the caller-ID presentation (AMI has no field for it)
PRESENTATION_VARIABLES = {"caller_pres", "callerpres", "cid_pres", "callerid_pres"}
#: dialplan variables that name the call's recording
RECORDING_VARIABLES = {"mixmonitor_filename", "callfilename", "recording_file", "recordingfile"}

EventHandler = Callable[[Mapping[str, str]], None]


class CallEventHandlers(VoicemailEvents):
    """One method per AMI call event; :meth:`call_handlers` maps event names to them."""

    def call_handlers(self) -> dict[str, EventHandler]:
        """Handlers by lower-case AMI event name."""
        return {
            "newchannel": self._newchannel,
            "newcallerid": self._callerid,
            "newconnectedline": self._callerid,
            "newstate": self._newstate,
            "varset": self._varset,
            "dialbegin": self._dialbegin,
            "dialend": self._dialend,
            "agentcalled": self._agentcalled,
            "agentconnect": self._agentconnect,
            "agentringnoanswer": self._agentringnoanswer,
            "queuecallerjoin": self._queuejoin,
            "queuecallerabandon": self._queueabandon,
            "pickup": self._pickup,
            "blindtransfer": self._blindtransfer,
            "attendedtransfer": self._attendedtransfer,
            "bridgeenter": self._bridgeenter,
            "hangup": self._hangup,
            "mixmonitorstart": self._mixmonitor,
            **self.voicemail_handlers(),
        }

    # ------------------------------------------------------------------ call events
    def _newchannel(self, event: Mapping[str, str]) -> None:
        uid = event.get("uniqueid")
        if not uid or uid in self._channels:
            return
        linkedid = event.get("linkedid") or uid
        if linkedid in self._ended:
            return
        state = self._states.get(linkedid)
        if state is None:
            state = self._new_call(linkedid, event, self._time())
        chan = self._add_channel(state, event)
        self._update_caller(state, chan, event)

    def _callerid(self, event: Mapping[str, str]) -> None:
        chan = self._channels.get(event.get("uniqueid", ""))
        if chan is None:
            return
        state = self._states.get(chan.linkedid)
        if state is None:
            return
        pres = event.get("cid-callingpres")
        if pres and state.call.direction == "inbound" and presentation_restricted(pres):
            self._withhold(state.call)
        self._update_caller(state, chan, event)

    def _newstate(self, event: Mapping[str, str]) -> None:
        chan = self._channels.get(event.get("uniqueid", ""))
        if chan is None:
            return
        state = self._states.get(chan.linkedid)
        if event.get("channelstatedesc", "").lower() == "up" or event.get("channelstate") == "6":
            chan.up = True
            if state is not None and chan.external:
                self._pbx_answered(state)
        if state is not None:
            self._update_caller(state, chan, event)

    def _pbx_answered(self, state: CallState) -> None:
        """An outside channel went up: after the phones of an unanswered inbound call stopped
        ringing, the PBX took the caller itself (voicemail, an announcement)."""
        call = state.call
        if (
            call.direction == "inbound"
            and call.answered_at is None
            and call.rang
            and not call.ringing
            and call.pbx_answered_at is None
        ):
            call.pbx_answered_at = self._time()

    def _varset(self, event: Mapping[str, str]) -> None:
        variable = event.get("variable", "").lstrip("_").lower()
        if variable in PRESENTATION_VARIABLES:
            state = self._state_for(event)
            if state is not None and PRES_PROHIBITED.search(event.get("value", "")):
                self._withhold(state.call)
        elif variable in RECORDING_VARIABLES:
            state = self._state_for(event)
            value = known(event.get("value"))
            if state is not None and value:
                state.call.recording = value
        elif variable in VOICEMAIL_VARIABLES:
            self.voicemail_variable(event, variable)

    def _mixmonitor(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        value = known(event.get("filename") or event.get("file"))
        if state is not None and value:
            state.call.recording = value

    def _dial_target(self, event: Mapping[str, str]) -> tuple[CallState | None, str | None, str]:
        """The call a dial belongs to (the dialling channel's: a picked-up call's DialEnd names
        the picker's channel, which has a Linkedid of its own), the dialed extension, its leg."""
        dest_uid = event.get("destuniqueid", "")
        dest_chan = self._channels.get(dest_uid)
        linkedid = event.get("linkedid") or event.get("destlinkedid")
        state = self._states.get(linkedid) if linkedid else None
        if state is None and dest_chan is not None:
            state = self._states.get(dest_chan.linkedid)
        if dest_chan is not None:
            ext = dest_chan.extension
        else:
            ext = self.matcher.channel(event.get("destchannel"))
        return state, ext, dest_uid

    def _dialbegin(self, event: Mapping[str, str]) -> None:
        state, ext, dest_uid = self._dial_target(event)
        if state is None:
            return
        call = state.call
        now = self._time()
        source = self._channels.get(event.get("uniqueid", "")) if event.get("channel") else None
        if ext is None:
            # dialing an outside number: the call is (or stays) outbound
            if call.direction == "internal" and source is not None:
                call.direction = "outbound"
            if call.direction == "outbound":
                number = dialed_number(event, source)
                self._set_remote(call, number)
            elif call.direction == "inbound" and call.answered_at is None and source is not None:
                # nobody answered yet and the caller's leg dials out again: a forward
                number = dialed_number(event, source)
                if number:
                    call.forwarded_to = e164(number, self.region) or number
            return
        state.legs[dest_uid] = ext
        if call.answered_by is not None and ext != call.answered_by:
            if source is not None and source.extension is not None:
                # an operator leg dials a colleague mid-call: consultation (attended transfer)
                state.consult.add(ext)
            elif state.pending_transfer is None or state.pending_transfer.get("to") not in (
                None,
                ext,
            ):
                self._transfer(state, call.answered_by, ext, "redirect", now)
            elif state.pending_transfer.get("to") is None:
                state.pending_transfer["to"] = ext
        self._ring(state, ext, now)

    def _dialend(self, event: Mapping[str, str]) -> None:
        state, ext, dest_uid = self._dial_target(event)
        if state is None:
            return
        call = state.call
        status = event.get("dialstatus", "").upper()
        now = self._time()
        if ext is None:
            self._outside_dial_ended(state, status, now)
            return
        if status:
            call.dial_statuses[ext] = status
        if status == "ANSWER":
            if ext in state.consult:
                self._stop_ring(state, ext)
                return
            dest_chan = self._channels.get(dest_uid)
            if dest_chan is not None:
                # a call pickup: the picker's channel (its own Linkedid) now carries this call
                self._move_channel(dest_chan, state)
            self._answer(state, ext, now)
        elif status == "CANCEL" and call.answered_at is None and dest_uid in state.legs:
            self._ring_ends_with_the_outcome(state, ext)
        else:
            self._stop_ring(state, ext)
            self._outcome_without_answer(state)

    def _outside_dial_ended(self, state: CallState, status: str, now: datetime) -> None:
        """The dial of an outside number ended: the far end of an outbound call, or the
        destination of a forwarded inbound call, answered (or not)."""
        call = state.call
        if call.direction == "outbound":
            call.remote_dial_status = status
            if status == "ANSWER" and call.remote_answered_at is None:
                call.remote_answered_at = now
                if call.answered_by is None and call.origin_extension:
                    self._answer(state, call.origin_extension, now)
        elif call.forwarded_to is not None and call.answered_at is None:
            if status == "ANSWER":
                # answered by the forward destination, not by an operator
                call.remote_answered_at = call.answered_at = now
            else:
                call.dial_statuses[call.forwarded_to] = status

    def _pickup(self, event: Mapping[str, str]) -> None:
        """``Pickup`` (an AMI user without event filters gets it before the DialEnd): the
        picker's channel takes over the call ringing at the target channel."""
        picker = self._channels.get(event.get("uniqueid", ""))
        state = self._states.get(event.get("targetlinkedid", ""))
        if state is None:
            target = self._channels.get(event.get("targetuniqueid", ""))
            state = self._states.get(target.linkedid) if target is not None else None
        if picker is None or state is None or picker.extension is None:
            return
        self._move_channel(picker, state)
        self._answer(state, picker.extension, self._time())

    def _agent_ext(self, event: Mapping[str, str]) -> str | None:
        chan = self._channels.get(event.get("destuniqueid", ""))
        if chan is not None and chan.extension:
            return chan.extension
        return (
            self.matcher.channel(event.get("destchannel"))
            or self.matcher.interface(event.get("interface"))
            or self.matcher.interface(event.get("stateinterface"))
            or digits_only(event.get("membername"))
        )

    def _agentcalled(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        ext = self._agent_ext(event)
        if state is None or ext is None:
            return
        state.call.queue = state.call.queue or known(event.get("queue"))
        if event.get("destuniqueid"):
            state.legs[event["destuniqueid"]] = ext
        self._ring(state, ext, self._time())

    def _agentconnect(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        ext = self._agent_ext(event)
        if state is None or ext is None:
            return
        state.call.queue = state.call.queue or known(event.get("queue"))
        self._answer(state, ext, self._time())

    def _agentringnoanswer(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        ext = self._agent_ext(event)
        if state is not None and ext is not None:
            self._stop_ring(state, ext)

    def _queuejoin(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        if state is not None:
            state.call.queue = known(event.get("queue")) or state.call.queue
            if state.call.queue_joined_at is None:
                state.call.queue_joined_at = self._time()

    def _queueabandon(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        if state is not None:
            state.call.abandoned = True
            state.call.queue = state.call.queue or known(event.get("queue"))

    def _blindtransfer(self, event: Mapping[str, str]) -> None:
        if event.get("result", "Success").lower() != "success":
            return
        linkedid = event.get("transfereelinkedid") or event.get("transfererlinkedid")
        state = self._states.get(linkedid or "")
        if state is None:
            return
        source = self.matcher.channel(event.get("transfererchannel")) or state.call.answered_by
        target = known(event.get("extension"))
        if target is not None and not target.isdigit():
            target = None
        self._transfer(state, source, target, "blind", self._time())

    def _attendedtransfer(self, event: Mapping[str, str]) -> None:
        if event.get("result", "Success").lower() != "success":
            return
        linkedid = event.get("transfereelinkedid") or event.get("origtransfererlinkedid")
        state = self._states.get(linkedid or "")
        if state is None:
            return
        call = state.call
        source = self.matcher.channel(event.get("origtransfererchannel")) or call.answered_by
        target = self.matcher.channel(event.get("transfertargetchannel"))
        if target is None:
            consults = [e for e in state.consult if e != source]
            target = consults[-1] if consults else None
        now = self._time()
        self._transfer(state, source, target, "attended", now)
        target_chan = self._channels.get(event.get("transfertargetuniqueid", ""))
        if target_chan is not None:
            # the consulted operator's channel joins the caller's call; the consultation call
            # ends with its last channel (the transferer's second leg hangs up right away)
            self._move_channel(target_chan, state)
        if target is not None:
            state.consult.discard(target)
            self._answer(state, target, now)

    def _bridgeenter(self, event: Mapping[str, str]) -> None:
        chan = self._channels.get(event.get("uniqueid", ""))
        if chan is not None:
            chan.bridge = event.get("bridgeuniqueid") or chan.bridge
            chan.up = True

    def _hangup(self, event: Mapping[str, str]) -> None:
        self._drop_channel(event.get("uniqueid", ""), end_call=True)

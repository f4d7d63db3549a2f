"""Voicemail: the caller of an unanswered call reached a mailbox, and maybe left a message.

What Asterisk shows of it (app_voicemail), on an AMI user that receives these events:

* ``Newexten`` with ``Application: VoiceMail`` (``AppData: 101@default,u``) on the caller's
  channel: the call reached the mailbox (class ``dialplan``);
* ``VarSet`` of ``VM_MESSAGEFILE`` on that channel at the beep, once a message number is
  given: a message is being left, this is its file; ``VMSTATUS`` when the application ends;
* ``MessageWaiting`` (``Mailbox: 101@default``, ``New: 1``) once the message is saved; it has no
  channel fields, so it is matched to the live call that is in that mailbox.

The sample manager.conf's event filter lets none of these through: with it, a call that went
to voicemail is an unanswered (missed) call and nothing more is known.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from cti.tracker.call import Voicemail
from cti.tracker.channels import CallState, known
from cti.tracker.live import LiveCalls

#: channel variables app_voicemail sets on the caller's channel
VOICEMAIL_VARIABLES = {"vm_messagefile", "vmstatus", "vm_dur", "vm_duration"}


def mailboxes(app_data: str | None) -> list[str]:
    """``101@default&102,u`` -> ``["101@default", "102@default"]`` (options dropped)."""
    boxes = (app_data or "").split(",", 1)[0]
    out = []
    for box in boxes.split("&"):
        box = box.strip()
        if box:
            out.append(box if "@" in box else f"{box}@default")
    return out


class VoicemailEvents(LiveCalls):
    """The handlers of the voicemail events; mixed into the call event handlers."""

    def voicemail_handlers(self) -> dict:
        return {"newexten": self._newexten, "messagewaiting": self._messagewaiting}

    def _reached_voicemail(self, state: CallState, mailbox: str | None = None) -> Voicemail:
        call = state.call
        if call.voicemail is None:
            call.voicemail = Voicemail(at=self._time())
        if mailbox and call.voicemail.mailbox is None:
            call.voicemail.mailbox = mailbox
        return call.voicemail

    def _newexten(self, event: Mapping[str, str]) -> None:
        if event.get("application", "").lower() != "voicemail":
            return
        state = self._state_for(event)
        if state is None or state.call.answered_at is not None:
            return  # an operator's own voicemail box access, or after an answer: not this
        boxes = mailboxes(event.get("appdata"))
        self._reached_voicemail(state, boxes[0] if boxes else None)

    def voicemail_variable(self, event: Mapping[str, str], variable: str) -> None:
        """A ``VarSet`` of one of :data:`VOICEMAIL_VARIABLES`."""
        state = self._state_for(event)
        if state is None or state.call.answered_at is not None:
            return
        vm = self._reached_voicemail(state)
        value = known(event.get("value"))
        if variable == "vm_messagefile" and value:
            vm.left_message = True
            vm.file = value
            vm.message_started_at = vm.message_started_at or self._time()
        elif variable in ("vm_dur", "vm_duration") and value:
            with contextlib.suppress(ValueError):
                vm.reported_s = float(value)

    def _messagewaiting(self, event: Mapping[str, str]) -> None:
        try:
            new = int(event.get("new") or 0)
        except ValueError:
            new = 0
        waiting = event.get("waiting", "").lower() in ("1", "yes", "true")
        box = mailboxes(event.get("mailbox"))
        if not box or not (new or waiting):
            return
        for state in self._states.values():
            vm = state.call.voicemail
            if vm is not None and vm.mailbox == box[0] and state.call.ended_at is None:
                vm.left_message = True
                return

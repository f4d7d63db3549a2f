"""The outbox's voice channel for Asterisk: dial the client, then run the script over FastAGI.

``CALLCARD_VOICE_CHANNEL=asterisk``, once registered with the notifier at start-up
(``notifier.channels.register_channel("voice", "asterisk", AsteriskVoice)``: the notifier never
names the voicebots). Each call is one short AMI connection (``Login`` with
events off, ``Originate`` with ``Async: true``, ``Logoff``) from the sending process, so it
works the same from the embedded dispatcher and from Celery workers, independent of the CTI's
long-lived connection. The call dials ``voice_originate_channel`` (``{digits}``: the E.164
number without ``+``; ``{e164}``) and, when answered, enters ``voice_originate_context``
extension ``s`` with ``VOICE_SCRIPT`` and ``MESSAGE_ID`` set, where the dialplan hands it to
the FastAGI server (see docs/voicebots.md).

AMI has no lookup for an ``Originate`` that may have gone out before the connection broke:
``reconcile`` answers from our own records (an outcome on the message means the call
happened), else reports no trace.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import uuid

from cti.ami import FrameParser
from notifier.channels.base import OutgoingMessage, SendResult
from voicebots.config import VoicebotSettings

log = logging.getLogger("callcard.voicebots.asterisk")


class AmiError(Exception):
    pass


class _AmiSession:
    """A blocking AMI conversation on one socket: send an action, wait for its response."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.parser = FrameParser()
        self.pending: list = []

    def action(self, fields: dict[str, str]) -> dict[str, str]:
        action_id = fields.setdefault("ActionID", uuid.uuid4().hex[:16])
        wire = "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        self.sock.sendall(wire.encode())
        while True:
            for message in self.pending:
                if "response" in message and message.get("actionid") == action_id:
                    self.pending.remove(message)
                    return message
            self.pending = [m for m in self.pending if "response" in m]
            data = self.sock.recv(65536)
            if not data:
                raise AmiError("the PBX closed the AMI connection")
            self.pending.extend(self.parser.feed(data))


class AsteriskVoice:
    name = "asterisk-voice"

    def __init__(self, settings: VoicebotSettings) -> None:
        self.settings = settings
        self.sender = f"ami:{settings.ami_host}"

    def originate_fields(self, message: OutgoingMessage) -> dict[str, str]:
        s = self.settings
        script = (message.meta or {}).get("script", "")
        e164 = message.recipient
        return {
            "Action": "Originate",
            "ActionID": f"voice-{message.id}-{uuid.uuid4().hex[:8]}",
            "Channel": s.voice_originate_channel.format(e164=e164, digits=e164.lstrip("+")),
            "Context": s.voice_originate_context,
            "Exten": "s",
            "Priority": "1",
            "CallerID": s.voice_originate_caller_id or s.twilio_from_number or "",
            "Timeout": str(int(s.voice_originate_timeout * 1000)),
            "Async": "true",
            "Variable": f"VOICE_SCRIPT={script},MESSAGE_ID={message.id}",
        }

    def send(self, message: OutgoingMessage) -> SendResult:
        s = self.settings
        if not s.ami_host:
            return SendResult.permanent("config", "no PBX configured (CALLCARD_AMI_HOST)")
        if not (message.meta or {}).get("script"):
            return SendResult.permanent("no-script", "a voice message for Asterisk needs a script")
        fields = self.originate_fields(message)
        left = False
        try:
            timeout = s.send_timeout_seconds
            with socket.create_connection(
                (s.ami_host, s.ami_port), timeout=min(5, timeout)
            ) as sock:
                sock.settimeout(timeout)
                ami = _AmiSession(sock)
                login = ami.action(
                    {
                        "Action": "Login",
                        "Username": s.ami_username,
                        "Secret": s.ami_secret.get_secret_value(),
                        "Events": "off",
                    }
                )
                if login.get("response", "").lower() != "success":
                    return SendResult.transient("ami-login", login.get("message", "login refused"))
                left = True  # from here the Originate may reach the PBX
                answer = ami.action(fields)
                with contextlib.suppress(AmiError, OSError):
                    ami.action({"Action": "Logoff"})
        except (AmiError, OSError) as exc:
            if left:
                return SendResult.unanswered(f"no answer from the PBX to Originate: {exc}")
            return SendResult.transient("connect", f"could not reach the PBX: {exc}")
        if answer.get("response", "").lower() != "success":
            return SendResult.transient("originate", answer.get("message", "Originate refused"))
        log.info("voice call %s to %s queued on the PBX", message.id, message.recipient)
        return SendResult("sent", fields["ActionID"])

    def reconcile(self, message: OutgoingMessage) -> SendResult | None:
        from crm_core.database import session_scope
        from notifier.outbox.models import OutboxMessage

        with session_scope(self.settings) as db:
            row = db.get(OutboxMessage, message.id)
            voice = ((row.meta or {}).get("voice") or {}) if row is not None else {}
        if voice.get("outcome"):
            return SendResult("delivered", voice.get("call_sid") or f"voice-{message.id}")
        return None

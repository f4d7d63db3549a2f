"""E-mail over SMTP (``smtplib``), one connection per sending thread, reused between messages."""

from __future__ import annotations

import base64
import contextlib
import logging
import smtplib
import threading
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate

from notifier.channels.base import OutgoingMessage, SendResult
from notifier.config import NotifierSettings

log = logging.getLogger("callcard.notifier.smtp")


def message_id(message: OutgoingMessage, settings: NotifierSettings) -> str:
    """Stable per outbox row: a resend after an unanswered attempt carries the same Message-ID."""
    domain = settings.smtp_from.rsplit("@", 1)[-1] or "callcard"
    return f"<outbox-{message.id}@{domain}>"


class SMTPEmail:
    name = "smtp"

    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        self.sender = settings.smtp_from
        self._local = threading.local()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.send_timeout_seconds)
        conn.ehlo_or_helo_if_needed()
        if conn.has_extn("starttls") and s.smtp_user:
            conn.starttls()
            conn.ehlo()
        if s.smtp_user:
            conn.login(s.smtp_user, s.smtp_password.get_secret_value())
        return conn

    def _connection(self) -> smtplib.SMTP:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            try:
                if conn.noop()[0] == 250:
                    return conn
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        conn = self._connect()
        self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.settings.smtp_from
        email["To"] = message.recipient
        email["Subject"] = message.subject or ""
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = message_id(message, self.settings)
        meta = message.meta or {}
        if meta.get("unsubscribe_url"):
            email["List-Unsubscribe"] = f"<{meta['unsubscribe_url']}>"
        email.set_content(message.body)
        if meta.get("html"):
            email.add_alternative(meta["html"], subtype="html")
        for item in meta.get("attachments") or ():  # [{filename, content_type, data (base64)}]
            kind, _, sub = str(item.get("content_type") or "application/octet-stream").partition(
                "/"
            )
            email.add_attachment(
                base64.b64decode(item["data"]),
                maintype=kind,
                subtype=sub or "octet-stream",
                filename=str(item.get("filename") or "attachment"),
            )
        return email

    def send(self, message: OutgoingMessage) -> SendResult:
        email = self.build(message)
        # Up to DATA nothing is delivered: any failure there is safe to retry.
        try:
            conn = self._connection()
            code, reply = conn.mail(self.sender)
            if code != 250:
                conn.rset()
                return _refused(code, reply, "sender refused")
            code, reply = conn.rcpt(message.recipient)
            if code not in (250, 251):
                conn.rset()
                return _refused(code, reply, "bad address")
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            return SendResult.transient("smtp-connect", f"SMTP server unreachable: {exc}")
        try:
            # CRLF line ends (RFC 5321): bytes are sent as they are, and a server reads a
            # message with bare LFs as one over-long line
            code, reply = conn.data(email.as_bytes(policy=SMTP))
        except smtplib.SMTPDataError as exc:
            self._drop()
            return _refused(exc.smtp_code, exc.smtp_error, "message refused")
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            self._drop()
            return SendResult.unanswered(f"SMTP server did not confirm the message: {exc}")
        if code != 250:
            return _refused(code, reply, "message refused")
        return SendResult("sent", message_id(message, self.settings).strip("<>"))

    def reconcile(
        self, message: OutgoingMessage, taken: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """SMTP offers no lookup: after the grace period the message is sent again with the
        same Message-ID (mail clients show one copy)."""
        return None


def _refused(code: int, reply: bytes | str, what: str) -> SendResult:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    if 400 <= code < 500:
        return SendResult.transient(f"smtp-{code}", f"{what} for now: {text}")
    return SendResult.permanent(f"smtp-{code}", f"{what}: {text}")

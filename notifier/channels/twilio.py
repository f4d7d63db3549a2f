"""Twilio SMS and voice calls through the real ``twilio`` library.

``settings.twilio_base_url`` points the library at another server speaking Twilio's API (the
local simulator in tests and benchmarks, an on-prem gateway): the library has no base-URL
setting, so a small ``http_client`` subclass rewrites the scheme and host of each request.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifier.channels.base import OutgoingMessage, SendResult
from notifier.config import NotifierSettings

log = logging.getLogger("callcard.notifier.twilio")
# the library logs every request and response at INFO: far too much at hundreds per second
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

#: Twilio error codes that mean "never try this message again"
PERMANENT_REASONS = {
    21211: "invalid number",
    21214: "number cannot be reached",
    21408: "no permission to send to this region",
    21610: "opted out",
    21612: "number cannot receive from this sender",
    21614: "not a mobile number",
    21617: "message too long",
}
#: Twilio message statuses -> outbox statuses (our ``sending`` means "request in flight")
MESSAGE_STATUS = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
CALL_STATUS = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "sent",
    "in-progress": "sent",
    "completed": "delivered",
    "busy": "undelivered",
    "no-answer": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}


class RewritingHttpClient(TwilioHttpClient):
    """TwilioHttpClient that sends every request to ``base_url`` instead of api.twilio.com."""

    def __init__(self, base_url: str = "", timeout: float | tuple[float, float] | None = None):
        super().__init__()
        # (connect, read): a connect timeout proves nothing left; a read timeout does not
        self.timeout = timeout
        base = urlsplit(base_url) if base_url else None
        self._base = base
        if self.session is not None:
            # enough pooled connections for a worker's sending threads, on http and https
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)
            # requests re-reads proxy settings from the whole environment on every request
            # (a measurable share of a send): read them once here instead.
            target = base_url or "https://api.twilio.com"
            self.proxy = requests.utils.get_environ_proxies(target)
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            if bundle:
                self.session.verify = bundle
            self.session.trust_env = False

    def rewrite(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        path = self._base.path.rstrip("/") + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, ""))

    def request(self, method, url, *args, **kwargs):
        return super().request(method, self.rewrite(url), *args, **kwargs)


def _request_left(exc: requests.exceptions.RequestException) -> bool:
    """Could the request have reached the provider? Only a failed connect proves it did not."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        name = type(reason).__name__ if reason is not None else ""
        if name in ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError"):
            return False
        text = str(exc)
        return not ("NewConnectionError" in text or "Connection refused" in text)
    return True


def rest_error(exc: TwilioRestException) -> SendResult:
    """Map Twilio's error answer to retry-or-not."""
    code = exc.code
    message = str(getattr(exc, "msg", "") or exc)
    if exc.status == 429 or code == 20429 or (exc.status or 0) >= 500:
        return SendResult.transient(str(code or exc.status), message or "provider busy")
    reason = PERMANENT_REASONS.get(code or 0)
    text = f"{reason}: {message}" if reason else message
    return SendResult.permanent(str(code or exc.status), text)


class _TwilioBase:
    def __init__(self, settings: NotifierSettings) -> None:
        self.settings = settings
        self.sender = settings.twilio_from_number
        self._local = threading.local()
        timeout = settings.send_timeout_seconds
        self._timeout = (min(5.0, timeout), timeout)

    @property
    def client(self) -> Client:
        """One client (and HTTP connection pool) per sending thread."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = Client(
                self.settings.twilio_account_sid,
                self.settings.twilio_auth_token.get_secret_value(),
                http_client=RewritingHttpClient(self.settings.twilio_base_url, self._timeout),
            )
            self._local.client = client
        return client

    def callback_url(self, path: str, message: OutgoingMessage) -> str | None:
        base = self.settings.public_url.rstrip("/")
        if not base:
            return None
        return f"{base}{path}?outbox_id={message.id}"

    def _guarded(self, action) -> SendResult:
        try:
            return action()
        except TwilioRestException as exc:
            return rest_error(exc)
        except requests.exceptions.RequestException as exc:
            if _request_left(exc):
                return SendResult.unanswered(f"no answer from the provider: {exc}")
            return SendResult.transient("connect", f"could not reach the provider: {exc}")
        except TwilioException as exc:  # an answer we could not read: it may have been sent
            return SendResult.unanswered(f"unreadable answer from the provider: {exc}")


class TwilioSMS(_TwilioBase):
    name = "twilio-sms"
    STATUS_PATH = "/api/notifier/twilio/status"

    def send(self, message: OutgoingMessage) -> SendResult:
        def create() -> SendResult:
            kwargs = {"to": message.recipient, "from_": self.sender, "body": message.body}
            callback = self.callback_url(self.STATUS_PATH, message)
            if callback:
                kwargs["status_callback"] = callback
            created = self.client.messages.create(**kwargs)
            return SendResult(MESSAGE_STATUS.get(created.status or "", "queued"), created.sid)

        return self._guarded(create)

    def reconcile(
        self, message: OutgoingMessage, taken: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """Look the message up by To/From among the recent ones, matching the text and time.

        Twilio messages carry no idempotency key, so this is the lookup key we have.
        """

        def lookup() -> SendResult | None:
            since = message.first_attempt_at
            found = self.client.messages.list(to=message.recipient, from_=self.sender, limit=50)
            for item in found:
                if item.body != message.body or item.sid in taken:
                    continue
                created = item.date_created
                if since and created and created < since - timedelta(minutes=5):
                    continue
                return SendResult(MESSAGE_STATUS.get(item.status or "", "queued"), item.sid)
            return None

        try:
            return lookup()
        except (TwilioException, requests.exceptions.RequestException) as exc:
            return SendResult.unanswered(f"provider lookup failed: {exc}")


class TwilioVoice(_TwilioBase):
    """An automated call: TwiML from ``meta['twiml_url']`` or inline TwiML in the body."""

    name = "twilio-voice"
    STATUS_PATH = "/api/notifier/twilio/call-status"

    def send(self, message: OutgoingMessage) -> SendResult:
        def create() -> SendResult:
            kwargs = {"to": message.recipient, "from_": self.sender}
            url = (message.meta or {}).get("twiml_url")
            if url:
                kwargs["url"] = url
            else:
                kwargs["twiml"] = message.body
            callback = self.callback_url(self.STATUS_PATH, message)
            if callback:
                kwargs["status_callback"] = callback
            created = self.client.calls.create(**kwargs)
            return SendResult(CALL_STATUS.get(created.status or "", "queued"), created.sid)

        return self._guarded(create)

    def reconcile(
        self, message: OutgoingMessage, taken: frozenset[str] = frozenset()
    ) -> SendResult | None:
        try:
            since = message.first_attempt_at
            for item in self.client.calls.list(to=message.recipient, from_=self.sender, limit=50):
                if item.sid in taken:
                    continue
                created = item.date_created
                if since and created and created < since - timedelta(minutes=5):
                    continue
                return SendResult(CALL_STATUS.get(item.status or "", "queued"), item.sid)
            return None
        except (TwilioException, requests.exceptions.RequestException) as exc:
            return SendResult.unanswered(f"provider lookup failed: {exc}")

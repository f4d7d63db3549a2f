"""A local HTTP server that speaks Twilio's Messages and Calls endpoints, for tests and benches.

It answers the real ``twilio`` library (pointed here with ``settings.twilio_base_url``) the way
api.twilio.com does: form-encoded ``POST .../Accounts/{sid}/Messages.json`` and ``Calls.json``,
list and fetch by ``GET``, Twilio's error JSON (``code``, ``message``, ``more_info``,
``status``), HTTP basic auth with the account SID and auth token, and signed status callbacks
(``X-Twilio-Signature`` made with ``twilio.request_validator.RequestValidator``). This module is
the simulated account; the wire format is in ``notifier.simulator.twilio_http``.

Faults are injected with :meth:`TwilioSim.add_fault` (or ``POST /_sim/faults`` when run as its
own process): ``429`` / ``500`` / ``503`` answers, ``timeout_after_accept`` (the message is
accepted, the answer comes too late), ``drop_after_accept`` (accepted, connection closed
without an answer), ``drop_before`` (connection closed, nothing accepted) and ``slow``. Every
accepted message is counted per recipient and text, so a test can prove "exactly once".

Run standalone: ``python -m notifier.simulator.twilio_api --port 8765``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import phonenumbers
from twilio.request_validator import RequestValidator

from notifier.simulator.twilio_http import API, TwilioServer, error_body

log = logging.getLogger("callcard.twilio_sim")

#: injected faults answered with an HTTP error, and the Twilio error code they carry
ERROR_FAULTS = {"429": 20429, "500": 20500, "503": 20503}


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next ``times`` matching requests."""

    kind: str  # 429 | 500 | 503 | timeout_after_accept | drop_after_accept | drop_before | slow
    times: int = 1
    to: str | None = None  # only for this recipient
    delay: float = 0.0  # seconds (timeout_after_accept, slow)
    resource: str = "Messages"  # Messages | Calls


@dataclass
class SimMessage:
    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str
    date_created: datetime
    status_callback: str = ""
    resource: str = "Messages"

    def as_json(self) -> dict[str, Any]:
        date = format_datetime(self.date_created)
        base = f"{API}/Accounts/{self.account_sid}/{self.resource}/{self.sid}.json"
        if self.resource == "Calls":
            return {
                "sid": self.sid,
                "account_sid": self.account_sid,
                "to": self.to,
                "from": self.from_,
                "status": self.status,
                "date_created": date,
                "date_updated": date,
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": base,
            }
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": self.body,
            "date_created": date,
            "date_sent": None,
            "date_updated": date,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": base.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": base,
        }


class TwilioSim:
    """The simulator; ``start()`` serves it on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "sim-auth-token",
        *,
        port: int = 0,
        callbacks: bool = False,
        callback_delay: float = 0.0,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callbacks = callbacks
        self.callback_delay = callback_delay
        self.messages: dict[str, SimMessage] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        self.requests = 0
        self.opted_out: set[str] = set()
        self.invalid: set[str] = set()  # valid-looking numbers Twilio still refuses (21211)
        self.undeliverable: set[str] = set()
        self.callback_results: list[int] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._callback_pool = ThreadPoolExecutor(4, thread_name_prefix="sim-callback")
        self._server = TwilioServer(("127.0.0.1", port), self)
        self._thread: threading.Thread | None = None

    # -- control
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TwilioSim:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread (the simulator run as its own process)."""
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._callback_pool.shutdown(wait=False, cancel_futures=True)

    def add_fault(self, kind: str, times: int = 1, **kwargs: Any) -> None:
        with self._lock:
            self._faults.append(Fault(kind, times, **kwargs))

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.counts.clear()
            self._faults.clear()
            self.opted_out.clear()
            self.invalid.clear()
            self.undeliverable.clear()
            self.requests = 0

    def count(self, to: str, body: str) -> int:
        return self.counts[(to, body)]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "accepted": len(self.messages),
                "duplicates": sum(c - 1 for c in self.counts.values() if c > 1),
                "faults_left": [asdict(f) for f in self._faults],
            }

    def _take_fault(self, resource: str, to: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.resource != resource or (fault.to and fault.to != to):
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # -- the API
    def create(
        self, resource: str, form: dict[str, str]
    ) -> tuple[int, dict[str, Any], Fault | None]:
        """``POST .../{resource}.json``: (HTTP status, JSON answer, fault to act out)."""
        with self._lock:
            self.requests += 1
        to = form.get("To", "")
        fault = self._take_fault(resource, to)
        if fault is not None and fault.kind in ERROR_FAULTS:
            return (*error_body(ERROR_FAULTS[fault.kind]), None)
        if fault is not None and fault.kind == "drop_before":
            return 0, {}, fault
        refused = self._refusal(resource, form)
        if refused is not None:
            return (*refused, None)
        message = self._accept(resource, form)
        answer = message.as_json()  # before the callbacks start moving its status on
        if self.callbacks and message.status_callback:
            self._callback_pool.submit(self._run_callbacks, message)
        return 201, answer, fault

    def _refusal(self, resource: str, form: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        """Twilio's answer to a request it refuses (bad number, no sender, opted out)."""
        to = form.get("To", "")
        if to in self.invalid or not _valid_number(to):
            return error_body(21211, to=to)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return error_body(21603)
        if resource == "Messages" and not form.get("Body"):
            return error_body(21602)
        if to in self.opted_out:
            return error_body(21610)
        return None

    def _accept(self, resource: str, form: dict[str, str]) -> SimMessage:
        """Store and count a new message or call (``queued``)."""
        if resource == "Messages":
            prefix, body = "SM", form.get("Body", "")
        else:
            prefix, body = "CA", form.get("Url", "") or form.get("Twiml", "")
        message = SimMessage(
            sid=prefix + uuid.uuid4().hex,
            account_sid=self.account_sid,
            to=form.get("To", ""),
            from_=form.get("From", ""),
            body=body,
            status="queued",
            date_created=datetime.now(UTC).replace(microsecond=0),
            status_callback=form.get("StatusCallback", ""),
            resource=resource,
        )
        with self._lock:
            self.messages[message.sid] = message
            self.counts[(message.to, message.body)] += 1
        return message

    def listing(self, resource: str, query: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            items = [m for m in self.messages.values() if m.resource == resource]
        if query.get("To"):
            items = [m for m in items if m.to == query["To"]]
        if query.get("From"):
            items = [m for m in items if m.from_ == query["From"]]
        items.sort(key=lambda m: m.date_created, reverse=True)
        size = int(query.get("PageSize", 50))
        key = resource.lower()
        return {
            key: [m.as_json() for m in items[:size]],
            "end": min(size, len(items)) - 1,
            "first_page_uri": f"{API}/Accounts/{self.account_sid}/{resource}.json?PageSize={size}&Page=0",
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"{API}/Accounts/{self.account_sid}/{resource}.json?PageSize={size}&Page=0",
        }

    def _run_callbacks(self, message: SimMessage) -> None:
        """Signed status callbacks, one per status the message goes through."""
        validator = RequestValidator(self.auth_token)
        for field_name, status, code in self._callback_steps(message):
            if self.callback_delay:
                time.sleep(self.callback_delay)
            message.status = status
            params = self._callback_params(message, field_name, status, code)
            signature = validator.compute_signature(message.status_callback, params)
            try:
                r = httpx.post(
                    message.status_callback,
                    data=params,
                    headers={"X-Twilio-Signature": signature},
                    timeout=10,
                )
                self.callback_results.append(r.status_code)
            except httpx.HTTPError as exc:
                log.warning("status callback to %s failed: %s", message.status_callback, exc)
                self.callback_results.append(0)

    def _callback_steps(self, message: SimMessage) -> list[tuple[str, str, str | None]]:
        """(status field, status, error code) in the order Twilio reports them."""
        if message.resource == "Calls":
            return [("CallStatus", "completed", None)]
        if message.to in self.undeliverable:
            return [("MessageStatus", "sent", None), ("MessageStatus", "undelivered", "30003")]
        return [("MessageStatus", "sent", None), ("MessageStatus", "delivered", None)]

    def _callback_params(
        self, message: SimMessage, field_name: str, status: str, code: str | None
    ) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": message.from_,
            "To": message.to,
            field_name: status,
        }
        if message.resource == "Calls":
            params["CallSid"] = message.sid
        else:
            params.update({"MessageSid": message.sid, "SmsSid": message.sid, "SmsStatus": status})
        if code:
            params["ErrorCode"] = code
        return params


def _valid_number(number: str) -> bool:
    if not number.startswith("+"):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default="AC" + "0" * 32)
    parser.add_argument("--auth-token", default="sim-auth-token")
    parser.add_argument("--callbacks", action="store_true", help="send signed status callbacks")
    args = parser.parse_args(argv)
    sim = TwilioSim(args.account_sid, args.auth_token, port=args.port, callbacks=args.callbacks)
    print(f"twilio simulator on {sim.url} (account {sim.account_sid})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()


if __name__ == "__main__":
    main()

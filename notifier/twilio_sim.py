"""A local HTTP server that speaks Twilio's Messages and Calls endpoints, for tests and benches.

It answers the real ``twilio`` library (pointed here with ``settings.twilio_base_url``) the way
api.twilio.com does: form-encoded ``POST .../Accounts/{sid}/Messages.json`` and ``Calls.json``,
list and fetch by ``GET``, Twilio's error JSON (``code``, ``message``, ``more_info``,
``status``), HTTP basic auth with the account SID and auth token, and signed status callbacks
(``X-Twilio-Signature`` made with ``twilio.request_validator.RequestValidator``).

Faults are injected with :meth:`TwilioSim.add_fault` (or ``POST /_sim/faults`` when run as its
own process): ``429`` / ``500`` / ``503`` answers, ``timeout_after_accept`` (the message is
accepted, the answer comes too late), ``drop_after_accept`` (accepted, connection closed
without an answer), ``drop_before`` (connection closed, nothing accepted) and ``slow``. Every
accepted message is counted per recipient and text, so a test can prove "exactly once".

Run standalone: ``python -m notifier.twilio_sim --port 8765``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import phonenumbers

log = logging.getLogger("callcard.twilio_sim")

API = "/2010-04-01"
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "The 'To' number {to} is not a valid phone number."),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
}


def error_body(code: int, **fmt: Any) -> tuple[int, dict[str, Any]]:
    status, message = ERRORS[code]
    return status, {
        "code": code,
        "message": message.format(**fmt),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


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
    extra: dict[str, str] = field(default_factory=dict)

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
        self._server = _Server(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
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
        with self._lock:
            self.requests += 1
        to = form.get("To", "")
        fault = self._take_fault(resource, to)
        if fault is not None and fault.kind in ("429", "500", "503"):
            return (*error_body({"429": 20429, "500": 20500, "503": 20503}[fault.kind]), None)
        if fault is not None and fault.kind == "drop_before":
            return 0, {}, fault
        if to in self.invalid or not _valid_number(to):
            return (*error_body(21211, to=to), None)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return (*error_body(21603), None)
        if resource == "Messages" and not form.get("Body"):
            return (*error_body(21602), None)
        if to in self.opted_out:
            return (*error_body(21610), None)
        prefix = "SM" if resource == "Messages" else "CA"
        message = SimMessage(
            sid=prefix + uuid.uuid4().hex,
            account_sid=self.account_sid,
            to=to,
            from_=form.get("From", ""),
            body=form.get("Body", "")
            if resource == "Messages"
            else form.get("Url", "") or form.get("Twiml", ""),
            status="queued",
            date_created=datetime.now(UTC).replace(microsecond=0),
            status_callback=form.get("StatusCallback", ""),
            resource=resource,
        )
        with self._lock:
            self.messages[message.sid] = message
            self.counts[(to, message.body)] += 1
        answer = message.as_json()  # before the callbacks start moving its status on
        if self.callbacks and message.status_callback:
            self._callback_pool.submit(self._run_callbacks, message)
        return 201, answer, fault

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
        import httpx
        from twilio.request_validator import RequestValidator

        validator = RequestValidator(self.auth_token)
        if message.resource == "Calls":
            steps = [("CallStatus", "completed", None)]
        elif message.to in self.undeliverable:
            steps = [("MessageStatus", "sent", None), ("MessageStatus", "undelivered", "30003")]
        else:
            steps = [("MessageStatus", "sent", None), ("MessageStatus", "delivered", None)]
        for field_name, status, code in steps:
            if self.callback_delay:
                time.sleep(self.callback_delay)
            message.status = status
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
                params.update(
                    {"MessageSid": message.sid, "SmsSid": message.sid, "SmsStatus": status}
                )
            if code:
                params["ErrorCode"] = code
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        """Clients that vanish mid-request (a killed worker) are expected here."""
        log.debug("connection from %s ended abruptly", client_address, exc_info=True)


def _valid_number(number: str) -> bool:
    if not number.startswith("+"):
        return False
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


def _handler(sim: TwilioSim):
    import base64

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "twilio-sim/1"

        def setup(self) -> None:
            super().setup()
            # headers and body are two writes: without this, Nagle + delayed ACK add 40 ms
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            log.debug(format, *args)

        def _send(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            expected = base64.b64encode(f"{sim.account_sid}:{sim.auth_token}".encode()).decode()
            if header != f"Basic {expected}":
                self._send(*error_body(20003))
                return False
            return True

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _route(self) -> tuple[str, str | None] | None:
            path = urlsplit(self.path).path
            prefix = f"{API}/Accounts/{sim.account_sid}/"
            if not path.startswith(prefix):
                return None
            rest = path[len(prefix) :]
            for resource in ("Messages", "Calls"):
                if rest == f"{resource}.json":
                    return resource, None
                if rest.startswith(f"{resource}/") and rest.endswith(".json"):
                    return resource, rest[len(resource) + 1 : -5]
            return None

        def do_POST(self) -> None:  # noqa: N802
            raw = self._body()
            if self.path.startswith("/_sim/"):
                return self._control(raw)
            if not self._authorised():
                return
            route = self._route()
            if route is None or route[1] is not None:
                return self._send(*error_body(20404))
            form = {k: v[-1] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
            status, body, fault = sim.create(route[0], form)
            if fault is not None and fault.kind in ("drop_before", "drop_after_accept"):
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault is not None and fault.kind in ("timeout_after_accept", "slow"):
                time.sleep(fault.delay)
            self._send(status, body)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/_sim/stats"):
                return self._send(200, sim.stats())
            if not self._authorised():
                return
            route = self._route()
            if route is None:
                return self._send(*error_body(20404))
            resource, sid = route
            if sid is None:
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                return self._send(200, sim.listing(resource, query))
            message = sim.messages.get(sid)
            if message is None:
                return self._send(*error_body(20404))
            self._send(200, message.as_json())

        def _control(self, raw: bytes) -> None:
            data = json.loads(raw or b"{}")
            if self.path == "/_sim/faults":
                sim.add_fault(**data)
            elif self.path == "/_sim/reset":
                sim.reset()
            elif self.path == "/_sim/opt-out":
                sim.opted_out.add(data["to"])
            else:
                return self._send(404, {"detail": "unknown control"})
            self._send(200, sim.stats())

    return Handler


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
        sim._server.serve_forever()


if __name__ == "__main__":
    main()

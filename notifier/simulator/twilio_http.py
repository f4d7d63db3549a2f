"""Twilio's wire format for the simulator: its URLs, its error JSON, HTTP basic auth with the
account SID and auth token, and the threaded HTTP server that answers the ``twilio`` library.

The account behind it (:class:`notifier.simulator.twilio_api.TwilioSim`) is reached as
``server.sim``; the control endpoints under ``/_sim/`` drive it from another process.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

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
#: faults that cut the connection instead of answering
DROPPED = ("drop_before", "drop_after_accept")
#: faults that answer late
DELAYED = ("timeout_after_accept", "slow")


def error_body(code: int, **fmt: Any) -> tuple[int, dict[str, Any]]:
    """The HTTP status and Twilio's error JSON for one of ``ERRORS``."""
    status, message = ERRORS[code]
    return status, {
        "code": code,
        "message": message.format(**fmt),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class SimulatedTwilio(Protocol):
    """What the HTTP side needs of the simulated account."""

    account_sid: str
    auth_token: str
    messages: dict[str, Any]
    opted_out: set[str]

    def create(self, resource: str, form: dict[str, str]) -> tuple[int, dict[str, Any], Any]: ...

    def listing(self, resource: str, query: dict[str, str]) -> dict[str, Any]: ...

    def stats(self) -> dict[str, Any]: ...

    def add_fault(self, kind: str, times: int = 1, **kwargs: Any) -> None: ...

    def reset(self) -> None: ...


class TwilioServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sim: SimulatedTwilio) -> None:
        super().__init__(address, TwilioRequestHandler)
        self.sim = sim

    def handle_error(self, request, client_address) -> None:
        """Clients that vanish mid-request (a killed worker) are expected here."""
        log.debug("connection from %s ended abruptly", client_address, exc_info=True)


class TwilioRequestHandler(BaseHTTPRequestHandler):
    """One request: the API (``Messages``/``Calls`` create, list, fetch) or a ``/_sim/`` control."""

    protocol_version = "HTTP/1.1"
    server_version = "twilio-sim/1"
    server: TwilioServer

    @property
    def sim(self) -> SimulatedTwilio:
        return self.server.sim

    def setup(self) -> None:
        super().setup()
        # headers and body are two writes: without this, Nagle + delayed ACK add 40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug(format, *args)

    # -- the API
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
        status, body, fault = self.sim.create(route[0], form)
        if fault is not None and fault.kind in DROPPED:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.kind in DELAYED:
            time.sleep(fault.delay)
        self._send(status, body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/_sim/stats"):
            return self._send(200, self.sim.stats())
        if not self._authorised():
            return
        route = self._route()
        if route is None:
            return self._send(*error_body(20404))
        resource, sid = route
        if sid is None:
            query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
            return self._send(200, self.sim.listing(resource, query))
        message = self.sim.messages.get(sid)
        if message is None:
            return self._send(*error_body(20404))
        self._send(200, message.as_json())

    # -- the steps
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorised(self) -> bool:
        """HTTP basic auth with the account SID and auth token; answers 20003 otherwise."""
        header = self.headers.get("Authorization", "")
        secret = f"{self.sim.account_sid}:{self.sim.auth_token}".encode()
        if header != f"Basic {base64.b64encode(secret).decode()}":
            self._send(*error_body(20003))
            return False
        return True

    def _route(self) -> tuple[str, str | None] | None:
        """(resource, sid or None for the list) from ``/2010-04-01/Accounts/{sid}/...``."""
        path = urlsplit(self.path).path
        prefix = f"{API}/Accounts/{self.sim.account_sid}/"
        if not path.startswith(prefix):
            return None
        rest = path[len(prefix) :]
        for resource in ("Messages", "Calls"):
            if rest == f"{resource}.json":
                return resource, None
            if rest.startswith(f"{resource}/") and rest.endswith(".json"):
                return resource, rest[len(resource) + 1 : -5]
        return None

    def _control(self, raw: bytes) -> None:
        """``/_sim/faults``, ``/_sim/reset``, ``/_sim/opt-out``: the simulator run apart."""
        data = json.loads(raw or b"{}")
        if self.path == "/_sim/faults":
            self.sim.add_fault(**data)
        elif self.path == "/_sim/reset":
            self.sim.reset()
        elif self.path == "/_sim/opt-out":
            self.sim.opted_out.add(data["to"])
        else:
            return self._send(404, {"detail": "unknown control"})
        self._send(200, self.sim.stats())

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

"""FastAGI server (``panoramisk.fast_agi``) that plays the voice scripts on Asterisk.

Asterisk has no text-to-speech here: every sentence is a recorded sound prompt, played with
``EXEC Playback callcard/<prompt>`` in the channel's language (``sounds/<lang>/callcard/``), and
a question is ``GET DATA callcard/<prompt> <timeout ms> 1`` (one key). The dialplan hands the
call over with the script as the route and the outbox message id as the first argument::

    same => n,AGI(agi://callcard-host:4573/reminder,${MESSAGE_ID})

``prompt_list()`` (and ``callcard voicebots prompts``) lists the files an installer records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from typing import Any

from panoramisk.fast_agi import Application, Request

from crm_core.database import session_scope
from crm_core.errors import ServiceError
from voicebots import service
from voicebots.scripts import SCRIPTS, Gather, Hangup, Record, Say, Script

log = logging.getLogger("callcard.voicebots.agi")

#: the header block Asterisk sends first is small; refuse anything absurd
MAX_HEADER_BYTES = 16 * 1024
HEADER_TIMEOUT_S = 10.0


class CallHungUp(Exception):
    pass


def _ended(result: dict[str, Any]) -> bool:
    return "error" in result and result["error"] in ("AGIResultHangup", "AGIAppError")


async def _command(request: Request, command: str) -> dict[str, Any]:
    try:
        result = await request.send_command(command)
    except (ValueError, ConnectionError) as exc:
        # panoramisk fails to parse the empty line it reads from a closed connection
        raise CallHungUp(command) from exc
    if _ended(result):
        raise CallHungUp(command)
    if result.get("error"):
        log.warning("AGI command %r failed: %s", command, result.get("msg"))
    return result


async def _hang_up(request: Request) -> None:
    with contextlib.suppress(CallHungUp):
        await _command(request, "HANGUP")


async def _record(script: Script, message_id: int, record: Record, digit: str | None, uid: str):
    def work() -> None:
        with session_scope() as db:
            service.record_outcome(
                db, script.name, message_id, record, via="asterisk", digit=digit, call_sid=uid
            )

    await asyncio.to_thread(work)


async def play_script(request: Request, script: Script) -> str | None:
    """Run ``script`` on the call behind ``request``; returns the last step reached."""
    headers = request.headers
    uid = headers.get("agi_uniqueid") or None
    try:
        message_id = int(headers.get("agi_arg_1", ""))
    except ValueError:
        log.error("AGI %s: no outbox message id in agi_arg_1; hanging up", script.name)
        await _hang_up(request)
        return None

    def load() -> service.VoiceCall:
        with session_scope() as db:
            return service.open_call(db, script.name, message_id)

    try:
        call = await asyncio.to_thread(load)
    except ServiceError as exc:
        log.error("AGI %s: %s; hanging up", script.name, exc)
        await _hang_up(request)
        return None

    step, attempt, retry, digit = script.start, 1, False, None
    try:
        await _command(request, "ANSWER")
        await _command(request, f'SET VARIABLE "CHANNEL(language)" "{call.language}"')
        while True:
            actions = script.step(step)
            if retry:
                gather = actions[-1]
                assert isinstance(gather, Gather)
                await _command(request, f"EXEC Playback {gather.retry.prompt_name(call.values)}")
                actions = actions[-1:]
            for action in actions:
                if isinstance(action, Say):
                    await _command(request, f"EXEC Playback {action.prompt_name(call.values)}")
                elif isinstance(action, Record) and not retry:
                    await _record(script, message_id, action, digit, uid or "")
                elif isinstance(action, Hangup):
                    await _command(request, "HANGUP")
                    return step
                elif isinstance(action, Gather):
                    result = await _command(
                        request,
                        f"GET DATA {action.prompt.prompt_name(call.values)} "
                        f"{action.timeout_s * 1000} 1",
                    )
                    digit = (result.get("result") or ("", ""))[0] or None
                    nxt = script.after_input(step, digit, attempt)
                    log.info(
                        "AGI %s message %s: step %s attempt %s digit %r -> %s",
                        script.name,
                        message_id,
                        step,
                        attempt,
                        digit,
                        nxt.step,
                    )
                    step, attempt, retry = nxt.step, nxt.attempt, nxt.retry
    except CallHungUp:
        log.info("AGI %s message %s: caller hung up at %s", script.name, message_id, step)
        return step


class VoiceAgiApplication(Application):
    """panoramisk's FastAGI application with a header reader that cannot spin or overflow.

    Upstream loops forever reading the header block when the peer closes before the blank
    line; here a closed, silent or oversized peer is dropped.
    """

    def __init__(self) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        for script in SCRIPTS.values():
            self.add_route(script.name, self._endpoint(script))

    def _endpoint(self, script: Script):
        async def endpoint(request: Request) -> None:
            await play_script(request, script)

        return endpoint

    async def handler(self, reader, writer) -> None:
        try:
            block = await asyncio.wait_for(reader.readuntil(b"\n\n"), HEADER_TIMEOUT_S)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            log.warning("FastAGI peer %r sent no header block", writer.get_extra_info("peername"))
            writer.close()
            return
        lines = block.decode(self.default_encoding, errors="replace").splitlines()
        headers = OrderedDict(line.split(": ", 1) for line in lines if ": " in line)
        # ``agi_network_script`` is what follows the host in agi://host/<script>
        name = (headers.get("agi_network_script") or "").strip("/")
        route = self._route.get(name)
        if route is None:
            log.error("FastAGI: no script %r", name)
            writer.close()
            return
        request = Request(self, headers, reader, writer, encoding=self.default_encoding)
        try:
            await route(request)
        except Exception:
            log.exception("FastAGI script %r failed", name)
        finally:
            writer.close()


class FastAgiServer:
    """The FastAGI listener as a background service (``start``/``stop``)."""

    name = "voicebots-fastagi"

    def __init__(self, host: str = "127.0.0.1", port: int = 4573) -> None:
        self.host = host
        self.port = port
        self.app: VoiceAgiApplication | None = None
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.app = VoiceAgiApplication()
        self._server = await asyncio.start_server(
            self.app.handler, self.host, self.port, limit=MAX_HEADER_BYTES
        )
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("FastAGI voice scripts on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


def prompt_list() -> list[tuple[str, str, str]]:
    """(sound name, script, English text) of every prompt the scripts play, once each."""
    rows: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for script in SCRIPTS.values():
        for say in script.prompts():
            name = say.prompt_name(script.defaults)
            if name not in seen:
                seen.add(name)
                rows.append((name, script.name, say.text["en"]))
    return rows

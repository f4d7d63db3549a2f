"""Tracker events -> caller lookup -> bus messages for the operators whose phones ring.

The call tracker calls :meth:`CallPopups.on_event` for every ``ringing``, ``ring_stopped``,
``answered``, ``transferred`` and ``ended``. This module decides who hears what (see
notes/events.md for the message shapes):

- the user bound to the ringing extension gets ``call.ringing`` with the caller's card (looked up
  with that user's rights), and nobody else does;
- when someone answers, every user who rang gets ``call.answered`` (``by_me`` tells them apart) and
  the others a final ``call.dismissed``;
- at the end everyone involved gets ``call.ended`` and the call is written to the call log.

The hot path (ringing) does two indexed queries inline (extension -> user, E.164 -> card): about
a millisecond on SQLite with a million clients, cheaper than a thread hop. Writing the finished
call (several inserts and a commit) happens on one background thread, in order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
import time
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from typing import Any

from crm_core.auth.principal import Principal
from crm_core.auth.service import principal_of
from crm_core.bus import Bus
from crm_core.database import session_scope, utcnow
from cti.calllog.service import FinishedCall, _client_id_of, log_call

log = logging.getLogger("callcard.cti.popups")


def _attr(obj: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return default


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else None


def _seconds(value: Any) -> float:
    try:
        return float(value or 0.0)
    except (TypeError, ValueError):
        return 0.0


def card_as_dict(card: Any) -> dict[str, Any] | None:
    if card is None:
        return None
    if isinstance(card, dict):
        return card
    if hasattr(card, "model_dump"):
        return card.model_dump(mode="json")
    if is_dataclass(card):
        return asdict(card)
    return dict(vars(card))


def _lookup(db, number: str, actor, e164: str | None = None) -> Any:
    from crm_core.clients.lookup import caller_card, card_for_e164
    from crm_core.phones import InvalidPhone

    try:
        if e164:  # normalised by the tracker already: skip parsing it again
            return card_for_e164(db, e164, actor)
        return caller_card(db, number, actor=actor)
    except InvalidPhone:
        return None  # a PBX may present anything (short codes, letters): an unknown caller


class CardReader:
    """The popup path's own database connection, kept open in autocommit.

    Opening a session per ringing call (pool checkout, begin, rollback, return) cost more than
    the card query itself. Autocommit means no transaction stays open between calls, so every
    lookup sees the latest committed data and SQLite's WAL is never pinned. A connection that
    broke (database restarted) is dropped and the lookup retried once on a fresh one.
    Used from the listener's loop thread only.
    """

    def __init__(self) -> None:
        self._conn = None

    def card(self, number: str, actor: Principal, e164: str | None = None) -> Any:
        from sqlalchemy.exc import DBAPIError

        for attempt in (1, 2):
            try:
                if self._conn is None:
                    from crm_core.database import get_engine

                    self._conn = (
                        get_engine().connect().execution_options(isolation_level="AUTOCOMMIT")
                    )
                return _lookup(self._conn, number, actor, e164)
            except DBAPIError:
                self.close()
                if attempt == 2:
                    raise
        return None

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class QueuedPublisher:
    """Publishes bus messages off the hot path when the bus is Redis.

    ``RedisBus.publish_sync`` is a network round trip per message; a burst of 100 ringing calls
    would queue them in the listener's loop. Here one thread takes whatever has queued up and
    sends it in one pipeline, in order. The in-process bus is called directly (no thread hop).
    Other Redis writes of the CTI (presence snapshot) go through :meth:`run` to keep their order.
    """

    def __init__(self, bus: Bus) -> None:
        import queue
        import threading

        from crm_core.bus import RedisBus

        self.bus = bus
        self.redis = None
        if isinstance(bus, RedisBus):
            import redis

            self.redis = redis.Redis.from_url(bus.url)
            self.channel = bus.channel
            self.queue: queue.SimpleQueue = queue.SimpleQueue()
            self.thread = threading.Thread(target=self._loop, name="bus-publisher", daemon=True)
            self.thread.start()

    def __call__(self, message: dict[str, Any]) -> None:
        if self.redis is None:
            self.bus.publish_sync(message)
        else:
            self.queue.put(("message", message))

    def run(self, job) -> None:
        """Run ``job()`` on the publisher thread (in order with the messages), or now."""
        if self.redis is None:
            job()
        else:
            self.queue.put(("job", job))

    def _loop(self) -> None:
        import json
        import queue

        while True:
            items = [self.queue.get()]
            while len(items) < 500:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            if any(kind == "stop" for kind, _ in items):
                items = [i for i in items if i[0] != "stop"]
                stopping = True
            else:
                stopping = False
            pipe = self.redis.pipeline(transaction=False)
            for kind, item in items:
                if kind == "message":
                    pipe.publish(self.channel, json.dumps(item, default=str))
                else:
                    if len(pipe):
                        self._send(pipe)
                        pipe = self.redis.pipeline(transaction=False)
                    try:
                        item()
                    except Exception:
                        log.exception("background bus job failed")
            if len(pipe):
                self._send(pipe)
            if stopping:
                return

    def _send(self, pipe) -> None:
        for attempt in range(3):
            try:
                pipe.execute()
                return
            except Exception as exc:
                log.warning("publishing to the Redis bus failed (%s); attempt %d", exc, attempt + 1)
                time.sleep(0.2 * (attempt + 1))
        log.error("bus messages dropped after 3 attempts")

    def close(self, timeout: float = 5.0) -> None:
        if self.redis is not None:
            self.queue.put(("stop", None))
            self.thread.join(timeout)
            self.redis.close()


class ExtensionDirectory:
    """Which user is bound to which extension, kept in memory for the hot path.

    Loaded with one query; when older than ``max_age`` seconds it is reloaded on a background
    thread while the current map keeps answering, so a ringing phone never waits for a query
    and a binding changed by an admin is seen within ``max_age`` (plus one reload).
    """

    def __init__(self, max_age: float = 30.0) -> None:
        self.max_age = max_age
        self._users: dict[str, Principal] = {}
        self._loaded_at = float("-inf")
        self._reloading = threading.Lock()

    def reload(self) -> None:
        from sqlalchemy import select

        from crm_core.auth.models import User

        with session_scope() as db:
            users = db.scalars(
                select(User).where(User.extension.is_not(None), User.is_active.is_(True))
            ).all()
            self._users = {u.extension: principal_of(u) for u in users if u.extension}
        self._loaded_at = time.monotonic()

    def _reload_or_keep(self) -> None:
        try:
            self.reload()
        except Exception:
            log.exception("could not load the extension directory; using the last one")
            self._loaded_at = time.monotonic()

    def _reload_in_background(self) -> None:
        try:
            self._reload_or_keep()
        finally:
            self._reloading.release()

    def get(self, extension: str) -> Principal | None:
        if time.monotonic() - self._loaded_at > self.max_age and self._reloading.acquire(False):
            if self._loaded_at == float("-inf"):  # never loaded: nothing to answer with yet
                try:
                    self._reload_or_keep()
                finally:
                    self._reloading.release()
            else:
                threading.Thread(
                    target=self._reload_in_background, name="extension-directory", daemon=True
                ).start()
        return self._users.get(extension)

    def user_of(self, extension: str) -> tuple[int | None, str | None]:
        """For the presence board."""
        user = self.get(extension)
        return (user.id, user.username) if user is not None else (None, None)


@dataclass
class _Rung:
    """One extension that rang for a call, and the user bound to it."""

    extension: str
    user_id: int | None
    state: str = "ringing"  # ringing | answered | dismissed


@dataclass
class _CallView:
    call_id: str
    card: dict[str, Any] | None = None
    client_id: int | None = None
    looked_up: bool = False
    rung: dict[str, _Rung] = field(default_factory=dict)
    answered_by: str | None = None
    ended: bool = False


class CallPopups:
    """Turns tracker events into popups, wall events and call-log rows."""

    def __init__(
        self,
        bus: Bus,
        presence: Any | None = None,
        log_calls: bool = True,
        directory: ExtensionDirectory | None = None,
    ) -> None:
        self.bus = bus
        self.directory = directory or ExtensionDirectory()
        self.publisher = QueuedPublisher(bus)
        self.cards = CardReader()
        self.presence = presence
        self.log_calls = log_calls
        self.calls: dict[str, _CallView] = {}
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="calllog")
        self._pending: set[concurrent.futures.Future] = set()
        self.lookup_seconds: list[float] = []  # hot-path timings, read by the bench

    # --- the tracker callback ------------------------------------------------------------

    def on_event(self, kind: str, call: Any, extension: str | None) -> None:
        try:
            handler = getattr(self, f"_on_{kind}", None)
            if handler is not None:
                handler(call, extension)
        except Exception:
            log.exception("popup for %s of call %s failed", kind, _attr(call, "linkedid"))
        if self.presence is not None:
            try:
                self.presence.on_call_event(kind, call, extension)
            except Exception:
                log.exception("presence update for %s failed", kind)

    def _publish(self, message: dict[str, Any]) -> None:
        self.publisher(message)

    def _view(self, call: Any) -> _CallView:
        call_id = str(_attr(call, "linkedid", "call_id"))
        view = self.calls.get(call_id)
        if view is None:
            view = self.calls[call_id] = _CallView(call_id)
        return view

    # --- ringing ----------------------------------------------------------------------------

    def _on_ringing(self, call: Any, extension: str | None) -> None:
        if not extension:
            return
        direction = _attr(call, "direction", default="inbound")
        view = self._view(call)
        rung = view.rung.get(extension)
        if rung is not None and rung.state == "ringing":
            return  # duplicate (resync, repeated DialBegin)
        withheld = bool(_attr(call, "withheld", default=False))
        number = None if withheld else _attr(call, "number", "caller_number", "remote_number")
        e164 = None if withheld else _attr(call, "e164", "remote_e164")
        started = time.perf_counter()
        user = self.directory.get(extension)
        card = None
        if user is not None and direction == "inbound" and (e164 or number):
            card = self.cards.card(e164 or number, user, e164)
        user_id = user.id if user is not None else None
        self.lookup_seconds.append(time.perf_counter() - started)
        if len(self.lookup_seconds) > 100_000:
            del self.lookup_seconds[:50_000]
        # only inbound calls pop up; other calls are tracked (for the log) without messages
        view.rung[extension] = _Rung(extension, user_id if direction == "inbound" else None)
        card_dict = card_as_dict(card)
        if card_dict is not None and view.card is None:
            view.card, view.client_id = card_dict, _client_id_of(card)
        started_at = _iso(_attr(call, "started_at")) or utcnow().isoformat()
        self._wall(call, "ringing")
        if user_id is None or direction != "inbound":
            return  # nobody to pop up for; click-to-call rings the operator's own phone
        self._publish(
            {
                "type": "call.ringing",
                "audience": [f"user:{user_id}"],
                "sticky": f"call:{view.call_id}",
                "call_id": view.call_id,
                "extension": extension,
                "direction": direction,
                "number": number,
                "e164": e164,
                "withheld": withheld,
                "name": _attr(call, "remote_name", "caller_name"),
                "did": _attr(call, "did"),
                "queue": _attr(call, "queue"),
                "started_at": started_at,
                "card": card_dict,
                "known": card_dict is not None,
            }
        )

    # --- ring stopped / answered / transferred ---------------------------------------------

    def _dismiss(self, view: _CallView, rung: _Rung, reason: str) -> None:
        if rung.state == "dismissed":
            return
        rung.state = "dismissed"
        if rung.user_id is not None:
            self._publish(
                {
                    "type": "call.dismissed",
                    "audience": [f"user:{rung.user_id}"],
                    "sticky": f"call:{view.call_id}",
                    "final": True,
                    "call_id": view.call_id,
                    "reason": reason,
                }
            )

    def _on_ring_stopped(self, call: Any, extension: str | None) -> None:
        view = self._view(call)
        rung = view.rung.get(extension or "")
        if rung is None or rung.state != "ringing":
            return
        reason = "answered_elsewhere" if view.answered_by else "ring_stopped"
        self._dismiss(view, rung, reason)

    def _on_answered(self, call: Any, extension: str | None) -> None:
        if not extension:
            return
        view = self._view(call)
        if view.answered_by == extension:
            return
        view.answered_by = extension
        answered_at = _iso(_attr(call, "answered_at")) or utcnow().isoformat()
        if extension not in view.rung:
            user = self.directory.get(extension)
            inbound = _attr(call, "direction") == "inbound"
            view.rung[extension] = _Rung(
                extension, user.id if user is not None and inbound else None, "answered"
            )
        for rung in view.rung.values():
            if rung.extension == extension:
                rung.state = "answered"
            if rung.user_id is None:
                continue
            if rung.extension != extension and rung.state == "dismissed":
                continue
            self._publish(
                {
                    "type": "call.answered",
                    "audience": [f"user:{rung.user_id}"],
                    "sticky": f"call:{view.call_id}",
                    "call_id": view.call_id,
                    "extension": extension,
                    "by_me": rung.extension == extension,
                    "answered_at": answered_at,
                }
            )
        for rung in list(view.rung.values()):
            if rung.extension != extension and rung.state == "ringing":
                self._dismiss(view, rung, "answered_elsewhere")
        self._wall(call, "answered")

    def _on_transferred(self, call: Any, extension: str | None) -> None:
        view = self._view(call)
        transfers = _attr(call, "transfers", default=[]) or []
        last = transfers[-1] if transfers else {}
        get = last.get if isinstance(last, dict) else (lambda k, d=None: getattr(last, k, d))
        from_ext = get("from_extension") or get("from") or view.answered_by
        to_ext = get("to_extension") or get("to") or extension
        if to_ext == from_ext:
            return
        audience = []
        source = view.rung.get(from_ext or "")
        if source is not None and source.user_id is not None:
            audience.append(f"user:{source.user_id}")
        if to_ext:
            target = self.directory.get(to_ext)
            if target is not None and f"user:{target.id}" not in audience:
                audience.append(f"user:{target.id}")
        if audience:
            self._publish(
                {
                    "type": "call.transferred",
                    "audience": audience,
                    "call_id": view.call_id,
                    "from_extension": from_ext,
                    "to_extension": to_ext,
                }
            )
        if source is not None:
            self._dismiss(view, source, "transferred_away")
        if view.answered_by == from_ext:
            view.answered_by = None

    # --- ended -------------------------------------------------------------------------------

    def _on_ended(self, call: Any, extension: str | None) -> None:
        view = self._view(call)
        if view.ended:
            return
        view.ended = True
        disposition = _attr(call, "disposition", default="answered")
        talk_s = _seconds(_attr(call, "talk_s", "talk_seconds"))
        users = {r.user_id for r in view.rung.values() if r.user_id is not None}
        for user_id in sorted(users):
            self._publish(
                {
                    "type": "call.ended",
                    "audience": [f"user:{user_id}"],
                    "sticky": f"call:{view.call_id}",
                    "final": True,
                    "call_id": view.call_id,
                    "disposition": disposition,
                    "talk_s": round(talk_s, 1),
                    "client_id": view.client_id,
                }
            )
        self._wall(call, "ended")
        self.calls.pop(view.call_id, None)
        if self.log_calls:
            facts = finished_call_facts(call, view)
            future = self._writer.submit(self._store, facts)
            self._pending.add(future)
            future.add_done_callback(self._pending.discard)

    def _store(self, facts: FinishedCall) -> None:
        try:
            with session_scope() as db:
                log_call(db, facts)
        except Exception:
            log.exception("could not log call %s", facts.linkedid)

    # --- the wall ----------------------------------------------------------------------------

    def _wall(self, call: Any, phase: str) -> None:
        rang = list(_attr(call, "rang", "extensions_rang", default=[]) or [])
        self._publish(
            {
                "type": "wall.call",
                "audience": ["wall"],
                "call_id": str(_attr(call, "linkedid", "call_id")),
                "phase": phase,
                "direction": _attr(call, "direction"),
                "queue": _attr(call, "queue"),
                "extensions": rang,
                "answered_by": _attr(call, "answered_by"),
                "disposition": _attr(call, "disposition") if phase == "ended" else None,
                "wait_s": round(_seconds(_attr(call, "wait_s")), 1),
                "ring_s": round(_seconds(_attr(call, "ring_s")), 1),
                "talk_s": round(_seconds(_attr(call, "talk_s")), 1),
                "at": utcnow().isoformat(),
                "started_at": _iso(_attr(call, "started_at")),
            }
        )

    # --- lifecycle -----------------------------------------------------------------------------

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every finished call handed over so far is written."""
        pending = list(self._pending)
        if pending:
            await asyncio.wait_for(
                asyncio.gather(*(asyncio.wrap_future(f) for f in pending)), timeout
            )

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self.publisher.close()
        self.cards.close()


def finished_call_facts(call: Any, view: _CallView | None = None) -> FinishedCall:
    """The call log's input from a tracked call."""
    started = _attr(call, "started_at") or utcnow()
    ended = _attr(call, "ended_at") or utcnow()
    withheld = bool(_attr(call, "withheld", default=False))
    return FinishedCall(
        linkedid=str(_attr(call, "linkedid", "call_id")),
        direction=_attr(call, "direction", default="inbound"),
        disposition=_attr(call, "disposition", default="answered"),
        started_at=started,
        ended_at=ended,
        number="" if withheld else (_attr(call, "number", "caller_number", "remote_number") or ""),
        e164=None if withheld else _attr(call, "e164", "remote_e164"),
        withheld=withheld,
        caller_name=_attr(call, "remote_name", "caller_name", default="") or "",
        did=_attr(call, "did", default="") or "",
        queue=_attr(call, "queue", default="") or "",
        rang=[str(e) for e in (_attr(call, "rang", "extensions_rang", default=[]) or [])],
        answered_by=_attr(call, "answered_by"),
        answered_at=_attr(call, "answered_at"),
        wait_s=_seconds(_attr(call, "wait_s")),
        ring_s=_seconds(_attr(call, "ring_s")),
        talk_s=_seconds(_attr(call, "talk_s")),
        transfers=[_plain(t) for t in (_attr(call, "transfers", default=[]) or [])],
        recording=_attr(call, "recording", default="") or "",
        client_id=view.client_id if view is not None else None,
        client_looked_up=False,
    )


def _plain(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: (_iso(v) if isinstance(v, datetime) else v) for k, v in value.items()}
    if is_dataclass(value):
        return _plain(asdict(value))
    return {"value": str(value)}

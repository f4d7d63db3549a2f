"""Refreshing ``clients.search_text`` of many clients after a custom field changed.

When an admin makes a client text/choice field searchable or not, or deletes a searchable one,
the search text of every client holding a value in it changes. Rewriting them in the admin's
transaction does not scale: with 100,000 clients holding a value (bench/search_refresh.py,
docs/benchmarks.md), one set-based ``UPDATE`` that merely appends the value took 3.7 s on
SQLite and 11 s on PostgreSQL (the FTS/trigram index is maintained row by row): about 40 s and
2 minutes per million, with every row locked meanwhile (on SQLite the whole database), and a
set-based form cannot even compute the text exactly (folding, de-duplication).

So the change only queues the clients concerned (``search_refresh_queue``, in the admin's
transaction: the change and the duty to refresh commit or roll back together) and workers
recompute them in batches of :data:`BATCH`. Each batch is one transaction: the clients' new
text and their removal from the queue commit together, so a failure leaves exactly the clients
not yet refreshed queued, and running again finishes the job. Search results are right once
the queue is empty. Workers: a thread of the process that made the change, started after its
commit; every web process at start-up (resuming what a stopped process left); and
``callcard search reindex`` (progress bar). Several may run at once: on PostgreSQL a batch takes
its queue rows and clients with ``SKIP LOCKED`` (a client being saved right now is left for
the next batch); the only lock it waits for is a field change in progress, before it has
touched the queue, so batches, saves and field changes cannot deadlock. SQLite serialises
writers. Saves and batches read the field definitions ``FOR SHARE``
(:func:`crm_core.search.index.searchable_field_ids`): a field change waits for them or
they wait for it, so no search text is built from a definition being changed.

:func:`status` is what an admin sees (``GET /api/search/refresh``, ``callcard search
reindex``): idle, queued, running or failed, how many clients are left, why, the last error.
Its ``message`` is English; ``cause`` and ``field_label`` let a client word it in its own
language (the dashboard does). :func:`pending_notice` is the same in short, attached to every
search result while clients are queued, so that a user knows the results may be incomplete.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Select, delete, event, exists, func, select, text, update
from sqlalchemy.orm import Session

from crm_core.clients.models import Client
from crm_core.config import CoreSettings, get_settings
from crm_core.customfields.models import CustomFieldValue
from crm_core.database import among, session_factory, utcnow
from crm_core.search.index import recomputed_search_texts, searchable_field_ids
from crm_core.search.models import SearchRefreshQueue, SearchRefreshState

log = logging.getLogger("callcard.search.refresh")

#: clients per transaction: on SQLite a batch holds the write lock ~0.1-0.2 s
BATCH = 1000
#: a worker that wrote no heartbeat for this long is not running any more
STALE_AFTER = timedelta(seconds=60)
#: how often a running worker updates the heartbeat
HEARTBEAT_EVERY = 1.0
STATE_ID = 1
#: how long search results of a process reuse a count of the queue (seconds): counting a
#: million queued clients takes ~30 ms on PostgreSQL, too much to add to every search
PENDING_MAX_AGE = 1.0

#: why a refresh was asked for; "several": changes of different fields or kinds were merged
#: into one refresh, "other": not said (a refresh queued before this was recorded)
Cause = Literal[
    "made_searchable", "no_longer_searchable", "field_deleted", "rebuild", "several", "other"
]


class RefreshProgress(BaseModel):
    """What the status and the notice on search results both say of the refresh."""

    pending: int = Field(description="Clients whose search text is still to be refreshed")
    total: int = Field(description="Clients queued since the queue was last empty")
    done: int
    reason: str = Field(description="The change that asked for the last refresh (English)")
    cause: Cause = Field(
        description="The kind of change that asked for the last refresh, to word it in any "
        "language: made_searchable, no_longer_searchable, field_deleted, rebuild (every client "
        "queued), several (changes merged), other"
    )
    field_label: str = Field(
        description="Label of the custom field whose change is being applied; '' when it is "
        "not one field (a rebuild, changes of several fields)"
    )
    message: str = Field(description="The state in one sentence, for the admin (English)")


class SearchRefreshStatus(RefreshProgress):
    state: Literal["idle", "queued", "running", "failed"] = Field(
        description="idle: search text is up to date; queued: waiting for a worker; running; "
        "failed: the last batch failed (see error), the clients left stay queued"
    )
    requested_at: datetime | None
    heartbeat_at: datetime | None = Field(description="Last progress of a worker")
    finished_at: datetime | None
    error: str


class SearchRefreshNotice(RefreshProgress):
    """Attached to search results while a refresh is pending: the clients still queued may be
    missed, or still found by the changed field's values, until it finishes."""

    state: Literal["queued", "running", "failed"] = Field(
        description="queued: waiting for a worker; running; failed: the last batch failed, "
        "the clients left stay queued until a retry"
    )


# --- queueing (in the transaction of the change) ------------------------------------------


def _insert_ignoring_queued(db: Session, client_ids: Select) -> int:
    """Queue the clients ``client_ids`` selects (those queued already stay queued once)."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = (
        insert(SearchRefreshQueue)
        .from_select(["client_id"], client_ids)
        .on_conflict_do_nothing(index_elements=["client_id"])
    )
    return max(0, db.execute(statement.execution_options(preserve_rowcount=True)).rowcount)


def _state(db: Session) -> SearchRefreshState:
    state = db.get(SearchRefreshState, STATE_ID)
    if state is None:
        if db.get_bind().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        db.execute(
            insert(SearchRefreshState)
            .values(id=STATE_ID, reason="", total=0, error="")
            .on_conflict_do_nothing(index_elements=["id"])
        )
        state = db.get(SearchRefreshState, STATE_ID)
    return state


def _queue(db: Session, client_ids: Select, reason: str, cause: Cause, field_label: str) -> int:
    # the queue first, the state row last: a batch may hold queue rows and then the state row
    was_empty = not db.scalar(select(exists().select_from(SearchRefreshQueue)))
    queued = _insert_ignoring_queued(db, client_ids)
    state = _state(db)
    if not was_empty and (state.cause, state.field_label) != (cause, field_label):
        # the clients left may be queued for the earlier change: do not name the last alone
        reason = f"several changes, the last: {reason}"
        if state.field_label != field_label:
            field_label = ""
        cause = "several"
    state.reason = reason[:300]
    state.cause = cause
    state.field_label = field_label[:120]
    state.requested_at = utcnow()
    state.total = queued if was_empty else state.total + queued
    state.finished_at = None
    db.flush()
    refresh_after_commit(db)
    return queued


def queue_field(
    db: Session, field_id: int, reason: str, cause: Cause = "other", field_label: str = ""
) -> int:
    """Queue the clients holding a value in custom field ``field_id``; how many were added."""
    return _queue(
        db,
        select(CustomFieldValue.entity_id).where(
            CustomFieldValue.field_id == field_id, CustomFieldValue.value_text.is_not(None)
        ),
        reason,
        cause,
        field_label,
    )


def queue_all(db: Session, reason: str) -> int:
    """Queue every client (``callcard search reindex --all``: a full rebuild)."""
    # (a WHERE clause: SQLite would read a bare "FROM clients ON CONFLICT" as a join)
    return _queue(db, select(Client.id).where(Client.id.is_not(None)), reason, "rebuild", "")


# --- refreshing (batches, each its own transaction) ---------------------------------------


def refresh_batch(db: Session, size: int = BATCH) -> tuple[int, int]:
    """Recompute the search text of up to ``size`` queued clients and unqueue them, in the
    caller's transaction (commit it). Returns (queued ids taken, clients left for later
    because another transaction holds them); (0, 0) when the queue is empty."""
    postgresql = db.get_bind().dialect.name == "postgresql"
    if postgresql:
        # the field definitions first (FOR SHARE): a change of one in progress is waited for
        # here, before this batch holds anything that change could wait for
        searchable_field_ids(db)
    taken = select(SearchRefreshQueue.client_id).order_by(SearchRefreshQueue.client_id)
    if postgresql:
        taken = taken.with_for_update(skip_locked=True)
    ids = list(db.scalars(taken.limit(size)))
    if not ids:
        return 0, 0
    existing = set(db.scalars(select(Client.id).where(among(db, Client.id, ids))))
    if postgresql:
        # a client being saved right now keeps its queue row for the next batch
        held = set(
            db.scalars(
                select(Client.id)
                .where(among(db, Client.id, existing))
                .order_by(Client.id)
                .with_for_update(skip_locked=True)
            )
        )
    else:
        held = existing
    done = [i for i in ids if i in held or i not in existing]
    # on SQLite this first write takes the database's write lock: what is read below cannot
    # change before the commit
    db.execute(delete(SearchRefreshQueue).where(among(db, SearchRefreshQueue.client_id, done)))
    changed = [
        {"id": client_id, "text": new}
        for client_id, (old, new) in recomputed_search_texts(db, sorted(held)).items()
        if old != new
    ]
    if changed:
        # plain SQL: the refresh is not an edit of the client (``updated_at`` stays)
        db.execute(text("UPDATE clients SET search_text = :text WHERE id = :id"), changed)
    return len(ids), len(ids) - len(done)


def _beat(db: Session) -> None:
    db.execute(
        update(SearchRefreshState)
        .where(SearchRefreshState.id == STATE_ID)
        .values(heartbeat_at=utcnow())
    )


def _finish(db: Session) -> None:
    """Mark the refresh finished, unless a change queued more in the meantime."""
    db.execute(
        update(SearchRefreshState)
        .where(
            SearchRefreshState.id == STATE_ID,
            SearchRefreshState.finished_at.is_(None),
            ~exists().select_from(SearchRefreshQueue),
        )
        .values(finished_at=utcnow(), heartbeat_at=utcnow(), error="")
    )


def _fail(db: Session, exc: BaseException) -> None:
    _state(db)
    db.execute(
        update(SearchRefreshState)
        .where(SearchRefreshState.id == STATE_ID)
        .values(error=f"{exc.__class__.__name__}: {exc}"[:2000], failed_at=utcnow())
    )


def run(
    settings: CoreSettings | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    batch: int = BATCH,
) -> int:
    """Refresh queued clients until the queue is empty (or ``should_stop``); how many this
    call refreshed. A failing batch rolls back, is recorded for :func:`status`, and raises."""
    factory = session_factory(settings)
    refreshed = 0
    last_beat = 0.0
    while not should_stop():
        try:
            with factory.begin() as db:
                taken, left = refresh_batch(db, batch)
                database = _database_key(db)
            _pending_seen.pop(database, None)  # this process's searches count again
        except Exception as exc:
            log.exception("search refresh batch failed")
            with factory.begin() as db:
                _fail(db, exc)
            raise
        if taken == 0:
            with factory.begin() as db:
                _finish(db)
            break
        refreshed += taken - left
        if progress:
            progress(taken - left)
        now = time.monotonic()
        if now - last_beat >= HEARTBEAT_EVERY:
            with factory.begin() as db:
                _beat(db)
            last_beat = now
        if left == taken:  # all of them are being saved right now: give those a moment
            time.sleep(0.05)
    return refreshed


def _pending(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(SearchRefreshQueue)) or 0


def status(db: Session, pending: int | None = None) -> SearchRefreshStatus:
    """The refresh as it stands; ``pending``: the queue's count if the caller has it."""
    pending = _pending(db) if pending is None else pending
    state = db.get(SearchRefreshState, STATE_ID) or SearchRefreshState(
        reason="", cause="other", field_label="", total=0, error=""
    )
    total = max(state.total, pending)
    beat = state.heartbeat_at
    failed = bool(state.error) and state.failed_at is not None
    failed = failed and (beat is None or state.failed_at >= beat)
    if pending == 0:
        kind = "idle"
    elif failed:
        kind = "failed"
    elif beat is not None and utcnow() - beat < STALE_AFTER:
        kind = "running"
    else:
        kind = "queued"
    done = total - pending
    messages = {
        "idle": "Search is up to date.",
        "queued": f"{pending:,} clients wait for their search text to be refreshed "
        f"({state.reason}); a web process or `callcard search reindex` will do it.",
        "running": f"Refreshing the search text: {done:,} of {total:,} clients done "
        f"({state.reason}); until it finishes, search may miss or still show that field's "
        "values for the clients left.",
        "failed": f"Refreshing the search text failed with {pending:,} clients left "
        f"({state.error}); they stay queued: run `callcard search reindex` or restart the "
        "web process to retry.",
    }
    return SearchRefreshStatus(
        state=kind,
        pending=pending,
        total=total,
        done=done,
        reason=state.reason,
        cause=state.cause,
        field_label=state.field_label,
        requested_at=state.requested_at,
        heartbeat_at=beat,
        finished_at=state.finished_at if pending == 0 else None,
        error=state.error if failed else "",
        message=messages[kind],
    )


#: database -> (monotonic time, the state's requested_at, clients queued) as last counted
_pending_seen: dict[str, tuple[float, datetime | None, int]] = {}


def _database_key(db: Session) -> str:
    return str(db.get_bind().url)


def pending_notice(db: Session) -> SearchRefreshNotice | None:
    """What search results say about a pending refresh; None when there is none.

    Every search asks, so the usual answer costs one ``EXISTS`` on the queue, which is empty
    but for the minutes after a searchable field changed. Only then are the state row and the
    count read, the count at most once per :data:`PENDING_MAX_AGE` per process (sooner when a
    new change is queued or this process refreshed a batch): progress may be that much old."""
    if not db.scalar(select(exists().select_from(SearchRefreshQueue))):
        return None
    state = db.get(SearchRefreshState, STATE_ID)
    requested_at = state.requested_at if state is not None else None
    database, now = _database_key(db), time.monotonic()
    seen = _pending_seen.get(database)
    if seen is not None and seen[1] == requested_at and now - seen[0] < PENDING_MAX_AGE:
        pending = seen[2]
    else:
        pending = _pending(db)
        _pending_seen[database] = (now, requested_at, pending)
    current = status(db, pending)
    if current.state == "idle":  # emptied in the meantime
        return None
    return SearchRefreshNotice.model_validate(
        current.model_dump(include=set(SearchRefreshNotice.model_fields))
    )


# --- the background worker ----------------------------------------------------------------


class Refresher:
    """A thread draining the queue of one database; :meth:`wake` starts it or makes it go
    round once more. One per database URL and process (:func:`refresher`)."""

    def __init__(self, settings: CoreSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        self._stop = threading.Event()

    def wake(self) -> None:
        with self._lock:
            self._again = True
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._loop, name="search-refresh", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._again or self._stop.is_set():
                    self._thread = None
                    return
                self._again = False
            try:
                count = run(self.settings, should_stop=self._stop.is_set)
                if count:
                    log.info("refreshed the search text of %s clients", count)
            except Exception:  # recorded in the state row; the next wake retries
                pass

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current batch (which commits or rolls back whole)."""
        with self._lock:
            thread = self._thread
            self._stop.set()
        if thread is not None:
            thread.join(timeout)

    @property
    def busy(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()


_refreshers: dict[str, Refresher] = {}
_refreshers_lock = threading.Lock()


def refresher(settings: CoreSettings | None = None) -> Refresher:
    settings = settings or get_settings()
    with _refreshers_lock:
        worker = _refreshers.get(settings.database_url)
        if worker is None:
            worker = _refreshers[settings.database_url] = Refresher(settings)
        return worker


def _wake_after_commit(session: Session) -> None:
    settings = session.info.pop("search_refresh_wake", None)
    if settings is not None:
        refresher(settings).wake()


def _forget_wake(session: Session) -> None:
    session.info.pop("search_refresh_wake", None)


def refresh_after_commit(db: Session) -> None:
    """Start the background refresh once ``db``'s transaction has committed."""
    db.info["search_refresh_wake"] = get_settings()
    if not event.contains(db, "after_commit", _wake_after_commit):
        event.listen(db, "after_commit", _wake_after_commit)
        event.listen(db, "after_rollback", _forget_wake)

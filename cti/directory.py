"""Who answers at an extension and what their popup shows: the popup path's two lookups,
both kept cheap (an in-memory directory, one open autocommit connection for caller cards)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import asdict, is_dataclass
from typing import Any

from crm_core.auth.principal import Principal
from crm_core.auth.service import principal_of
from crm_core.database import session_scope

log = logging.getLogger("callcard.cti.popups")


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

    def reload_or_keep(self) -> None:
        try:
            self.reload()
        except Exception:
            log.exception("could not load the extension directory; using the last one")
            self._loaded_at = time.monotonic()

    def _reload_in_background(self) -> None:
        try:
            self.reload_or_keep()
        finally:
            self._reloading.release()

    def get(self, extension: str) -> Principal | None:
        if time.monotonic() - self._loaded_at > self.max_age and self._reloading.acquire(False):
            if self._loaded_at == float("-inf"):  # never loaded: nothing to answer with yet
                try:
                    self.reload_or_keep()
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

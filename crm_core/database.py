"""Engine, sessions and the declarative base shared by every part."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from fastapi import Depends
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    MetaData,
    any_,
    create_engine,
    event,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from crm_core.config import CoreSettings, get_settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """The process's engine for ``url`` (default: the settings' database), made once."""
    url = url or get_settings().database_url
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = make_engine(url)
    return engine


def forget_engines(*, close: bool = True) -> None:
    """Drop every engine and session factory of this process, so the next use reads the
    settings again (tests switching databases). ``close=False`` in a forked child: leave the
    parent's pooled connections to the parent."""
    for engine in _engines.values():
        engine.dispose(close=close)
    _engines.clear()
    _factory.cache_clear()


@lru_cache
def _factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(get_engine(url), expire_on_commit=False)


def session_factory(settings: CoreSettings | None = None) -> sessionmaker[Session]:
    return _factory((settings or get_settings()).database_url)


@contextmanager
def session_scope(settings: CoreSettings | None = None) -> Iterator[Session]:
    """A unit of work: commits on success, rolls back on error."""
    session = session_factory(settings)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def among(db: Session, column, values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)`` with the values in ONE bound parameter (PostgreSQL
    ``= ANY(array)``, SQLite ``IN (SELECT value FROM json_each(...))``): a batch of a thousand
    ids or numbers would otherwise be a thousand placeholders for SQLAlchemy to expand and
    psycopg to parse, which cost more than the queries."""
    values = list(values)
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(column.type)))
    return column.in_(
        select(literal_column("value")).select_from(func.json_each(literal(json.dumps(values))))
    )


def like_escaped(text: str) -> str:
    """``text`` for a LIKE pattern with ``ESCAPE '\\'``: its ``%`` and ``_`` match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def get_db() -> Iterator[Session]:
    """One session per request; routes take it as :data:`request_session`."""
    with session_scope() as session:
        yield session


#: How a route takes the request's session: ``db: Session = request_session``. In FastAPI's
#: "function" scope the transaction commits before the response is sent; its default scope for
#: a dependency with ``yield`` commits after the response has left, so a redirect could beat
#: the commit and a commit that failed was already answered as saved.
request_session = Depends(get_db, scope="function")


#: schema objects made by hand in migrations (full-text tables, trigram indexes): no model has them
UNMANAGED_PREFIXES = ("clients_fts", "ix_clients_search_trgm")


def include_name(name: str | None, type_: str, parent_names) -> bool:
    """Alembic filter: leave the hand-made search objects out of model/migration comparison."""
    return not (name or "").startswith(UNMANAGED_PREFIXES)


class NotMigrated(RuntimeError):
    """The database lacks schema revisions (``callcard init`` brings it up to date)."""


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False

"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, users, clients, servers.

Tests that take ``db_url`` (directly or through ``db``, ``client``, ``live_server``...) run once
per backend. PostgreSQL is the server on localhost:5432; each test session creates and drops its
own database. Where no PostgreSQL answers, those runs are skipped with the reason, unless
``CALLCARD_REQUIRE_POSTGRES=1`` (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("CALLCARD_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("CALLCARD_DEFAULT_REGION", "RO")
os.environ.setdefault("CALLCARD_SIMULATOR", "false")
# no quiet hours unless a test sets them: CI may run at night in the default time zone
os.environ.setdefault("CALLCARD_QUIET_HOURS_START", "0")
os.environ.setdefault("CALLCARD_QUIET_HOURS_END", "0")

PG_ADMIN_URL = os.environ.get(
    "CALLCARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("CALLCARD_TEST_REDIS", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent
#: the AMI recordings the project carries (copied from ../shared/ami-traces)
AMI_TRACES = ROOT / "tests" / "data" / "ami"
#: the shared folder beside a workplace checkout: recordings added there later are replayed too
SHARED_AMI_TRACES = ROOT.parent / "shared" / "ami-traces"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _reset_caches() -> None:
    from crm_core import bus, config, database

    config.get_settings.cache_clear()
    database.forget_engines()
    bus.set_bus(None)


def _pg_available() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # pragma: no cover - depends on the machine
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request, tmp_path_factory) -> Iterator[str]:
    """A freshly migrated database for this test session, on each backend."""
    from sqlalchemy import create_engine, text

    from callcard.schema import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'callcard.db'}"
        migrate(url)
        yield url
        return
    reason = _pg_available()
    if reason:
        if os.environ.get("CALLCARD_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"callcard_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate(url)
    yield url
    from crm_core import database

    database.forget_engines()
    with admin.connect() as conn:
        conn.execute(
            text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    """For tests whose subject is not the database (browser, AMI): SQLite only."""
    from callcard.schema import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('db1') / 'callcard.db'}"
    migrate(url)
    return url


def _wipe(url: str) -> None:
    from sqlalchemy import text

    from callcard.schema import load_all_models
    from crm_core.database import Base, get_engine

    load_all_models()
    engine = get_engine(url)
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            for t in reversed(tables):
                conn.execute(text(f'DELETE FROM "{t}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")
            ).first() else None
            conn.execute(text("PRAGMA foreign_keys=ON"))


def _use_database(url: str, monkeypatch, tmp_path) -> str:
    monkeypatch.setenv("CALLCARD_DATABASE_URL", url)
    monkeypatch.setenv("CALLCARD_ATTACHMENTS_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("CALLCARD_AMI_HOST", "")
    monkeypatch.setenv("CALLCARD_BUS_URL", "")
    _reset_caches()
    _wipe(url)
    return url


@pytest.fixture
def database(db_url, monkeypatch, tmp_path) -> Iterator[str]:
    """Point the settings at the per-backend database, emptied for this test."""
    yield _use_database(db_url, monkeypatch, tmp_path)
    _reset_caches()


@pytest.fixture
def sqlite_database(sqlite_url, monkeypatch, tmp_path) -> Iterator[str]:
    yield _use_database(sqlite_url, monkeypatch, tmp_path)
    _reset_caches()


@pytest.fixture
def db(database):
    from crm_core.database import session_factory

    session = session_factory()()
    yield session
    session.rollback()
    session.close()


class Users:
    """Creates users and signs them in; passwords are ``password-<username>``."""

    def __init__(self) -> None:
        self.created: dict[str, object] = {}

    def add(
        self,
        username: str,
        role: str = "operator",
        team: str | None = "Sales",
        extension: str | None = None,
        language: str = "en",
    ):
        from crm_core.auth.service import create_user
        from crm_core.database import session_scope

        with session_scope() as s:
            user = create_user(
                s,
                username=username,
                password=f"password-{username}",
                role=role,
                team=team,
                extension=extension,
                language=language,
                full_name=username.title(),
            )
            s.expunge(user)
        self.created[username] = user
        return user

    def token(self, username: str) -> str:
        from sqlalchemy import select

        from crm_core.auth.models import User
        from crm_core.auth.service import open_session
        from crm_core.database import session_scope

        with session_scope() as s:
            user = s.scalar(select(User).where(User.username == username))
            return open_session(s, user, "bearer")


@pytest.fixture
def users(database) -> Users:
    return Users()


@pytest.fixture
def app(database):
    from callcard.app import create_app

    return create_app()


@pytest.fixture
def client(app) -> Iterator:
    """Starlette TestClient with the app's lifespan running."""
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def bearer(users: Users, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {users.token(username)}"}


@pytest.fixture
def as_user(client, users):
    """``as_user("ana", role="operator")`` -> headers with a bearer token for a new user."""

    def make(
        username: str,
        role: str = "operator",
        team: str | None = "Sales",
        extension: str | None = None,
    ) -> dict[str, str]:
        if username not in users.created:
            users.add(username, role=role, team=team, extension=extension)
        return bearer(users, username)

    return make


class LiveServer:
    def __init__(self, app, port: int) -> None:
        import uvicorn

        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            proxy_headers=False,  # as `callcard serve`: the app decides whom to believe
            log_level="warning",
            ws_ping_interval=None,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:
    """The app on a real socket (uvicorn in a thread), for websockets and the browser."""
    server = LiveServer(app, free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    return REDIS_URL

"""Signing in: cookies for browsers, bearer tokens for API clients, CSRF, rate limits."""

from __future__ import annotations

import pytest


def test_healthz_reports_database(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": True}


def test_password_is_stored_as_argon2(db, users):
    from crm_core.auth.models import User

    users.add("ana")
    stored = db.query(User).filter_by(username="ana").one().password_hash
    assert stored.startswith("$argon2")
    assert "password-ana" not in stored


def test_browser_login_sets_httponly_samesite_cookie(client, users):
    users.add("ana")
    r = client.post("/api/auth/login", json={"username": "ana", "password": "password-ana"})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert r.json()["role"] == "operator"
    assert client.get("/api/auth/me").json()["username"] == "ana"


def test_wrong_password_is_refused(client, users):
    users.add("ana")
    r = client.post("/api/auth/login", json={"username": "ana", "password": "nope-nope"})
    assert r.status_code == 401
    assert client.get("/api/auth/me").status_code == 401


def test_bearer_token_from_oauth2_password_form(client, users):
    users.add("bob", role="manager")
    r = client.post("/api/auth/token", data={"username": "bob", "password": "password-bob"})
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["role"] == "manager"
    bad = client.get("/api/auth/me", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401


def test_cookie_writes_need_the_csrf_token(client, users):
    users.add("ana")
    login = client.post("/api/auth/login", json={"username": "ana", "password": "password-ana"})
    csrf = login.json()["csrf_token"]
    assert client.post("/api/auth/logout").status_code == 403
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_failed_logins_are_rate_limited(client, users, monkeypatch):
    users.add("ana")
    for _ in range(10):
        client.post("/api/auth/login", json={"username": "ana", "password": "bad-password"})
    r = client.post("/api/auth/login", json={"username": "ana", "password": "password-ana"})
    assert r.status_code == 429
    assert "wait a minute" in r.json()["detail"]


def test_app_refuses_to_start_on_unmigrated_database(tmp_path, monkeypatch):
    from callcard.schema import ensure_migrated
    from crm_core.database import NotMigrated, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(NotMigrated, match="callcard init"):
        ensure_migrated(engine)


def test_models_match_migrations(database):
    """Every model change comes with its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from callcard.schema import load_all_models
    from crm_core.database import Base, get_engine, include_name

    load_all_models()
    with get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_a_change_is_committed_before_the_answer_says_it_is_saved(database, users, live_server):
    """The page a redirect leads to (or the next API call) must see what was just saved, and a
    change that cannot be committed must not be answered as saved: the request's transaction
    commits before the response leaves. Here another transaction holds the row (PostgreSQL) or
    the database's write lock (SQLite) while a user switches language over a real socket: the
    answer waits for the commit, and once it comes the change is there."""
    import re
    import sqlite3
    import threading

    import httpx
    import psycopg
    from sqlalchemy.engine import make_url

    from crm_core.auth.models import User
    from crm_core.database import session_scope

    users.add("ana")
    http = httpx.Client(base_url=live_server.url, timeout=60)
    page = http.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    r = http.post("/login", follow_redirects=True, data={"username": "ana",
                  "password": "password-ana", "csrf_token": csrf, "next": "/"})  # fmt: skip
    assert r.status_code == 200 and "Sign out" in r.text
    form_csrf = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)

    url = make_url(database)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock: readers go on, the commit waits
    else:
        holder = psycopg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                 dbname=url.database)  # fmt: skip
        holder.execute("SELECT id FROM users WHERE username = 'ana' FOR UPDATE")
    answers: list[httpx.Response] = []
    answered = threading.Event()

    def switch() -> None:
        answers.append(http.post("/settings/language", follow_redirects=False,
                                 data={"language": "ro", "csrf_token": form_csrf, "next": "/"}))  # fmt: skip
        answered.set()

    worker = threading.Thread(target=switch)
    worker.start()
    try:
        assert not answered.wait(1.5), "answered as saved while the change was not committed"
    finally:
        holder.rollback() if url.get_backend_name() != "sqlite" else holder.execute("ROLLBACK")
        holder.close()
    worker.join(30)
    assert answers and answers[0].status_code == 303
    with session_scope() as db:
        assert db.query(User).filter_by(username="ana").one().language == "ro"
    assert 'lang="ro"' in http.get("/").text
    http.close()


def test_every_route_takes_the_session_that_commits_before_answering(app):
    """The rule above holds for every route, including ones added later: each use of
    ``get_db``, however deep in a route's dependencies, is in FastAPI's "function" scope."""
    from fastapi.routing import APIRoute, APIWebSocketRoute

    from crm_core.database import get_db

    def uses(dependant, path):
        for sub in dependant.dependencies:
            if sub.call is get_db:
                yield path, sub.scope
            yield from uses(sub, path)

    def routes(router):
        for route in router.routes:
            included = getattr(route, "original_router", None)  # include_router() (FastAPI 0.16x)
            if included is not None:
                yield from routes(included)
            elif isinstance(route, APIRoute | APIWebSocketRoute):
                yield route

    found = [use for route in routes(app.router) for use in uses(route.dependant, route.path)]
    assert len({path for path, _ in found}) > 50  # the routes with a session were all seen
    assert [(path, scope) for path, scope in found if scope != "function"] == []

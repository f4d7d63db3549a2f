"""Bearer tokens and browser sessions (issue 13, item 3): logout revokes the token it was
called with, users list and revoke their own, browser sessions are shorter than API tokens."""

from __future__ import annotations

from datetime import timedelta


def token_of(client, username: str) -> dict[str, str]:
    r = client.post(
        "/api/auth/token", data={"username": username, "password": f"password-{username}"}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_logout_revokes_the_bearer_token(client, users):
    users.add("ana")
    ana = token_of(client, "ana")
    other = token_of(client, "ana")
    assert client.post("/api/auth/logout", headers=ana).status_code == 204
    assert client.get("/api/auth/me", headers=ana).status_code == 401
    assert client.get("/api/auth/me", headers=other).status_code == 200  # only the one used


def test_users_list_and_revoke_their_own_tokens(client, users):
    users.add("ana")
    users.add("bob")
    client.post("/api/auth/login", json={"username": "ana", "password": "password-ana"})
    client.cookies.clear()
    first = token_of(client, "ana")
    second = token_of(client, "ana")
    bobs = token_of(client, "bob")
    listed = client.get("/api/auth/tokens", headers=first).json()
    assert [(t["kind"], t["label"], t["current"]) for t in listed] == [
        ("bearer", "api", False),
        ("bearer", "api", True),
        ("cookie", "browser", False),
    ]
    assert all(t["address"] == "testclient" for t in listed)
    assert "token_hash" not in listed[0]
    second_id = listed[0]["id"]
    bobs_id = client.get("/api/auth/tokens", headers=bobs).json()[0]["id"]
    assert client.delete(f"/api/auth/tokens/{bobs_id}", headers=first).status_code == 404
    assert client.get("/api/auth/me", headers=bobs).status_code == 200
    assert client.delete(f"/api/auth/tokens/{second_id}", headers=first).status_code == 204
    assert client.get("/api/auth/me", headers=second).status_code == 401
    assert client.delete(f"/api/auth/tokens/{second_id}", headers=first).status_code == 404
    assert len(client.get("/api/auth/tokens", headers=first).json()) == 2


def test_wall_screens_have_no_tokens_to_list(client, users):
    from crm_core.auth.service import open_session
    from crm_core.database import session_scope

    with session_scope() as db:
        wall = open_session(db, None, "wall", label="lobby")
    headers = {"Authorization": f"Bearer {wall}"}
    assert client.get("/api/auth/tokens", headers=headers).status_code in (401, 403)


def test_browser_sessions_are_shorter_than_api_tokens(client, users, db, monkeypatch):
    from sqlalchemy import select

    from crm_core import config
    from crm_core.auth.models import AuthSession

    users.add("ana")
    r = client.post("/api/auth/login", json={"username": "ana", "password": "password-ana"})
    assert "max-age=43200" in r.headers["set-cookie"].lower()  # 12 hours
    token_of(client, "ana")
    lifetimes = {
        row.kind: row.expires_at - row.created_at for row in db.scalars(select(AuthSession))
    }
    assert abs(lifetimes["cookie"] - timedelta(hours=12)) < timedelta(minutes=1)
    assert abs(lifetimes["bearer"] - timedelta(days=14)) < timedelta(minutes=1)

    monkeypatch.setenv("CALLCARD_BROWSER_SESSION_HOURS", "2")
    monkeypatch.setenv("CALLCARD_SESSION_DAYS", "1")
    config.get_settings.cache_clear()
    r = client.post("/api/auth/login", json={"username": "ana", "password": "password-ana"})
    assert "max-age=7200" in r.headers["set-cookie"].lower()
    token_of(client, "ana")
    db.expire_all()
    newest = {
        row.kind: row.expires_at - row.created_at
        for row in db.scalars(select(AuthSession).order_by(AuthSession.id))
    }
    assert abs(newest["cookie"] - timedelta(hours=2)) < timedelta(minutes=1)
    assert abs(newest["bearer"] - timedelta(days=1)) < timedelta(minutes=1)

"""Sign-in pages (issue 13, items 3 and 5): the login CSRF cookie is Secure when cookies are,
signing out without the page's token changes nothing, and the settings page lists the user's
sessions and tokens and revokes them."""

from __future__ import annotations

import re

import pytest

from tests.dashboard.test_dashboard_pages import form_csrf, sign_in


@pytest.fixture
def database(sqlite_database):
    return sqlite_database


def test_login_csrf_cookie_is_secure_when_cookies_are(client, monkeypatch):
    from crm_core import config

    assert "secure" not in client.get("/login").headers["set-cookie"].lower()
    monkeypatch.setenv("CALLCARD_SECURE_COOKIES", "true")
    config.get_settings.cache_clear()
    cookie = client.get("/login").headers["set-cookie"].lower()
    assert "callcard_login_csrf=" in cookie and "; secure" in cookie


def test_logout_without_the_token_keeps_the_session_and_its_cookie(client, users):
    users.add("ana")
    sign_in(client, "ana")
    session = client.cookies["callcard_session"]
    refused = client.post("/logout", data={}, follow_redirects=False)
    assert refused.status_code == 403 and "callcard_session" not in refused.headers.get(
        "set-cookie", ""
    )
    assert client.get("/", follow_redirects=False).status_code == 200
    r = client.post("/logout", data={"csrf_token": form_csrf(client.get("/").text)})
    assert r.url.path == "/login"
    # the old cookie no longer opens anything: the session ended on the server
    client.cookies.set("callcard_session", session)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_settings_page_lists_and_revokes_sessions_and_tokens(client, users):
    users.add("ana")
    token = client.post("/api/auth/token", data={"username": "ana", "password": "password-ana"})
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    csrf = sign_in(client, "ana")
    page = client.get("/")
    assert 'href="/settings"' in page.text
    page = client.get("/settings")
    assert page.status_code == 200
    assert "Sessions and tokens" in page.text and "This session" in page.text
    assert "Browser session" in page.text and "API token" in page.text
    actions = re.findall(r'action="(/settings/sessions/\d+/revoke)"', page.text)
    assert len(actions) == 2
    this_session, api_token = actions  # newest first
    refused = client.post(api_token, data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/api/auth/me", headers=bearer).status_code == 200
    r = client.post(api_token, data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer).status_code == 401
    csrf = sign_in(client, "ana")
    page = client.get("/settings").text
    current = re.findall(r'action="(/settings/sessions/\d+/revoke)"', page)
    assert current and current[0] != this_session
    r = client.post(current[0], data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/settings", follow_redirects=False).status_code == 303


def test_settings_page_speaks_the_users_language(client, users):
    users.add("ana", language="ro")
    users.add("olga", language="ru")
    sign_in(client, "ana")
    assert "Sesiuni și tokenuri" in client.get("/settings").text
    client.cookies.clear()
    sign_in(client, "olga")
    assert "Сеансы и токены" in client.get("/settings").text


def test_someone_elses_session_is_not_found(client, users):
    from crm_core.auth.models import AuthSession
    from crm_core.database import session_scope

    users.add("ana")
    users.add("bob")
    client.post("/api/auth/token", data={"username": "bob", "password": "password-bob"})
    with session_scope() as db:
        bobs = db.query(AuthSession).one().id
    csrf = sign_in(client, "ana")
    r = client.post(f"/settings/sessions/{bobs}/revoke", data={"csrf_token": csrf})
    assert r.status_code == 404

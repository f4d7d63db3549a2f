"""Users, teams, wall links and the own time zone, through the pages' forms (cookie + CSRF)."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def database(sqlite_database):
    """The pages are the subject: SQLite (the services run on both backends elsewhere)."""
    return sqlite_database


def form_csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, username: str, password: str | None = None) -> int:
    """Sign in through the login form; returns the HTTP status of the answer."""
    client.cookies.clear()
    page = client.get("/login")
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": password or f"password-{username}",
            "csrf_token": form_csrf(page.text),
            "next": "/",
        },
        follow_redirects=False,
    )
    return r.status_code


def page_csrf(client) -> dict[str, str]:
    return {"X-CSRF-Token": re.search(r'data-csrf="([^"]+)"', client.get("/settings").text)[1]}


@pytest.fixture
def admin(client, users):
    users.add("root", role="admin", team=None)
    users.add("dan", extension="104")
    assert sign_in(client, "root") == 303
    return page_csrf(client)


def new_user(**fields) -> dict:
    return {
        "username": "irina",
        "password": "long-enough-secret",
        "role": "operator",
        "extension": "114",
        "full_name": "Irina Lungu",
        **fields,
    }


def test_admin_creates_an_operator_who_then_signs_in(client, admin):
    body = new_user(timezone="Europe/Chisinau", language="ro")
    r = client.post("/admin/users", json=body, headers=admin)
    assert r.status_code == 200, r.text
    listing = client.get("/admin/users").text
    assert "Irina Lungu" in listing and "114" in listing and "Europe/Chisinau" in listing
    assert sign_in(client, "irina", "long-enough-secret") == 303
    home = client.get("/")
    assert 'data-tz="Europe/Chisinau"' in home.text and 'lang="ro"' in home.text


def test_a_taken_extension_is_refused_naming_the_field_in_the_admins_language(client, admin, users):
    r = client.post("/admin/users", json=new_user(extension="104"), headers=admin)
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "extension"]
    assert error["msg"] == "Extension 104 is already taken by dan"
    users.add("radu", role="admin", team=None, language="ro")
    assert sign_in(client, "radu") == 303
    r = client.post("/admin/users", json=new_user(extension="104"), headers=page_csrf(client))
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "extension"]
    assert error["msg"] == "Interiorul 104 este deja folosit de dan"
    # the API says the same in English, with the field
    client.cookies.clear()
    api = client.post(
        "/api/users",
        json=new_user(extension="104"),
        headers={"Authorization": f"Bearer {users.token('root')}"},
    )
    assert api.status_code == 409 and api.json()["field"] == "extension"
    assert api.json()["detail"] == "Extension 104 is already taken by dan"


def test_weak_password_and_unknown_zone_are_named(client, admin):
    r = client.post("/admin/users", json=new_user(password="password"), headers=admin)
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "password"]]
    r = client.post("/admin/users", json=new_user(timezone="Mars/Olympus"), headers=admin)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "timezone"]
    r = client.post("/admin/users", json={"password": "x"}, headers=admin)
    assert {tuple(e["loc"]) for e in r.json()["detail"]} >= {("body", "username")}
    assert "Value error" not in r.text


def test_deactivated_user_cannot_sign_in_and_loses_open_sessions(client, admin, users):
    users.add("ana", extension="101")
    from tests.factories import user_id

    ana = user_id("ana")
    other = client.__class__(client.app)
    assert sign_in(other, "ana") == 303
    assert other.get("/tasks", follow_redirects=False).status_code == 200
    r = client.post(f"/admin/users/{ana}", json={"is_active": False}, headers=admin)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert other.get("/tasks", follow_redirects=False).status_code == 303  # signed out
    assert sign_in(other, "ana") == 401
    listing = client.get("/admin/users?show=all").text
    assert "Deactivated" in listing
    assert 'data-user="ana"' not in client.get("/admin/users").text
    # the history keeps pointing at them: the audit has the change
    audit = client.get(f"/admin/audit?entity=user&entity_id={ana}").text
    assert "is_active" in audit


def test_reset_password_generates_one_shown_once(client, admin, users):
    users.add("ana", extension="101")
    from tests.factories import user_id

    r = client.post(f"/admin/users/{user_id('ana')}/password", json={}, headers=admin)
    generated = r.json()["password"]
    assert generated and len(generated) >= 20
    assert sign_in(client, "ana") == 401  # the old one is gone
    assert sign_in(client, "ana", generated) == 303
    # a typed password is checked by the policy and not echoed back
    assert sign_in(client, "root") == 303
    headers = page_csrf(client)
    r = client.post(
        f"/admin/users/{user_id('ana')}/password", json={"password": "ana"}, headers=headers
    )
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "password"]
    r = client.post(
        f"/admin/users/{user_id('ana')}/password",
        json={"password": "a-new-pass-2026"},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["password"] is None


def test_managers_read_the_list_operators_are_kept_out(client, users):
    users.add("boss", role="manager")
    users.add("ana", extension="101")
    assert sign_in(client, "boss") == 303
    listing = client.get("/admin/users")
    assert listing.status_code == 200 and "ana" in listing.text
    assert "/admin/users/new" not in listing.text
    assert client.get("/admin/users/new").status_code == 403
    assert client.get("/admin/teams").status_code == 403
    r = client.post("/admin/users", json=new_user(), headers=page_csrf(client))
    assert r.status_code == 403
    assert sign_in(client, "ana") == 303
    for path in ("/admin/users", "/admin/wall-tokens", "/admin/audit"):
        page = client.get(path)
        assert page.status_code == 403 and "<html" in page.text


def test_presence_shows_who_is_on_which_extension(client, admin, users):
    from cti import presence

    users.add("ana", extension="101")
    board = presence.PresenceBoard(resolve_user=lambda ext: (None, "ana"))
    board.set_device("101", "in_call")
    presence.current_board = board
    try:
        row = re.search(r'<tr data-user="ana".*?</tr>', client.get("/admin/users").text, re.S)[0]
    finally:
        presence.current_board = None
    assert "In call" in row and "on 101" in row


def test_teams_are_created_renamed_and_get_members(client, admin, users):
    from crm_core.auth.models import Team
    from crm_core.database import session_scope
    from tests.factories import user_id

    r = client.post("/admin/teams", json={"name": "Support"}, headers=admin)
    team = r.json()["id"]
    dup = client.post("/admin/teams", json={"name": "support"}, headers=admin)
    assert dup.status_code == 422 and dup.json()["detail"][0]["loc"] == ["body", "name"]
    client.post(f"/admin/teams/{team}", json={"name": "Help desk"}, headers=admin)
    client.post(f"/admin/users/{user_id('dan')}", json={"team_id": team}, headers=admin)
    page = client.get("/admin/teams").text
    card = re.search(r'data-team="Help desk".*?</li>\s*</ul>', page, re.S)[0]
    assert "Dan" in card
    with session_scope() as s:
        assert s.get(Team, team).name == "Help desk"


def test_wall_link_is_shown_once_and_revoked(client, admin):
    r = client.post("/admin/wall-tokens", json={"label": "TV lobby"}, headers=admin)
    url = r.json()["url"]
    token = url.split("token=")[1]
    assert client.get("/admin/wall-tokens").text.count(token) == 0
    assert "TV lobby" in client.get("/admin/wall-tokens").text
    outside = client.__class__(client.app)
    assert outside.get(f"/wall?token={token}", follow_redirects=False).status_code == 200
    client.post(f"/admin/wall-tokens/{r.json()['id']}/revoke", headers=admin)
    assert outside.get(f"/wall?token={token}", follow_redirects=False).status_code != 200
    empty = client.post("/admin/wall-tokens", json={"label": ""}, headers=admin)
    assert empty.json()["detail"][0]["loc"] == ["body", "label"]


def test_own_time_zone_from_the_settings_page(client, users):
    users.add("ana", extension="101")
    assert sign_in(client, "ana") == 303
    settings = client.get("/settings").text
    assert 'name="timezone"' in settings and "Company (Europe/Bucharest)" in settings
    csrf = form_csrf(settings)
    r = client.post(
        "/settings/timezone",
        data={"timezone": "America/New_York", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert 'data-tz="America/New_York"' in client.get("/").text
    bad = client.post("/settings/timezone", data={"timezone": "Nowhere/X", "csrf_token": csrf})
    assert bad.status_code == 422
    forged = client.post("/settings/timezone", data={"timezone": "UTC", "csrf_token": "x"})
    assert forged.status_code == 403
    client.post("/settings/timezone", data={"timezone": "", "csrf_token": csrf})
    assert 'data-tz="Europe/Bucharest"' in client.get("/").text


def test_the_whole_page_is_in_its_users_language_whatever_ran_before(client, admin, users):
    """What a view translates before rendering follows the signed-in user too: a language
    left over in the serving context (here set in the test's thread, which the test client's
    requests inherit) reached the users list's states and button labels."""
    from dashboard import i18n

    users.add("ana", extension="101")
    i18n.set_language("ro")
    try:
        page = client.get("/admin/users").text
    finally:
        i18n.set_language("en")
    row = re.search(r'<tr data-user="ana".*?</tr>', page, re.S)[0]
    assert 'aria-label="Edit ana"' in row and "Offline" in row
    assert "<title>Users" in page

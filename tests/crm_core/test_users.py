"""Users and teams administration."""

from __future__ import annotations

import pytest

from tests.factories import audit_entries, colleagues, loc


@pytest.fixture
def admin(client):
    return colleagues(root=("admin", None))["root"]


def test_admin_creates_a_user_with_team_extension_and_language(client, admin, as_user):
    team = client.post("/api/teams", json={"name": "Vânzări"}, headers=admin).json()
    r = client.post(
        "/api/users",
        json={
            "username": "maria",
            "password": "long-enough-1",
            "role": "operator",
            "team_id": team["id"],
            "extension": "105",
            "full_name": "Maria Ionescu",
            "language": "ro",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    user = r.json()
    assert (user["team_id"], user["extension"], user["language"]) == (team["id"], "105", "ro")
    assert "password_hash" not in user
    token = client.post("/api/auth/token", data={"username": "maria", "password": "long-enough-1"})
    assert token.status_code == 200
    audit = audit_entries("user", user["id"])
    assert audit[0][0] == "create" and "password_hash" not in audit[0][2]
    # everyone lists colleagues (for assignment)
    ana = as_user("ana")
    names = {u["username"] for u in client.get("/api/users", headers=ana).json()}
    assert {"maria", "root", "ana"} <= names


def test_bad_user_input(client, admin):
    base = {"username": "x1", "password": "long-enough-1"}
    assert loc(client.post("/api/users", json={**base, "language": "de"}, headers=admin)) == [
        ["body", "language"]
    ]
    assert loc(client.post("/api/users", json={**base, "role": "god"}, headers=admin)) == [
        ["body", "role"]
    ]
    assert loc(client.post("/api/users", json={**base, "password": "short"}, headers=admin)) == [
        ["body", "password"]
    ]
    assert loc(client.post("/api/users", json={**base, "extension": "10a"}, headers=admin)) == [
        ["body", "extension"]
    ]
    assert loc(client.post("/api/users", json={**base, "team_id": 999}, headers=admin)) == [
        ["body", "team_id"]
    ]


def test_extension_is_unique(client, admin):
    client.post(
        "/api/users",
        json={"username": "a1", "password": "long-enough-1", "extension": "101"},
        headers=admin,
    )
    dup = client.post(
        "/api/users",
        json={"username": "a2", "password": "long-enough-1", "extension": "101"},
        headers=admin,
    )
    assert dup.status_code == 409
    other = client.post(
        "/api/users",
        json={"username": "a2", "password": "long-enough-1", "extension": "102"},
        headers=admin,
    ).json()
    assert (
        client.patch(
            f"/api/users/{other['id']}", json={"extension": "101"}, headers=admin
        ).status_code
        == 409
    )


def test_operators_and_managers_cannot_manage_users(client, as_user):
    for role in ("operator", "manager"):
        h = as_user(f"u-{role}", role=role)
        body = {"username": f"new-{role}", "password": "long-enough-1"}
        assert client.post("/api/users", json=body, headers=h).status_code == 403
        assert client.post("/api/teams", json={"name": f"T-{role}"}, headers=h).status_code == 403


def test_deactivated_user_loses_access_at_once(client, admin, as_user, users):
    ana = as_user("ana")
    assert client.get("/api/auth/me", headers=ana).status_code == 200
    uid = client.get("/api/auth/me", headers=ana).json()["id"]
    r = client.delete(f"/api/users/{uid}", headers=admin)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert client.get("/api/auth/me", headers=ana).status_code == 401
    assert (
        client.post(
            "/api/auth/token", data={"username": "ana", "password": "password-ana"}
        ).status_code
        == 401
    )
    assert "ana" not in {u["username"] for u in client.get("/api/users", headers=admin).json()}


def test_last_admin_cannot_be_demoted(client, admin):
    me = client.get("/api/auth/me", headers=admin).json()
    r = client.patch(f"/api/users/{me['id']}", json={"role": "operator"}, headers=admin)
    assert r.status_code == 409
    assert client.get("/api/auth/me", headers=admin).json()["role"] == "admin"


def test_teams_with_manager(client, admin, as_user):
    as_user("boss", role="manager", team=None)
    as_user("op", role="operator", team=None)
    users = {u["username"]: u["id"] for u in client.get("/api/users", headers=admin).json()}
    team = client.post(
        "/api/teams", json={"name": "Support", "manager_id": users["boss"]}, headers=admin
    )
    assert team.status_code == 201 and team.json()["manager_id"] == users["boss"]
    bad = client.post(
        "/api/teams", json={"name": "Other", "manager_id": users["op"]}, headers=admin
    )
    assert loc(bad) == [["body", "manager_id"]]
    assert client.post("/api/teams", json={"name": "support"}, headers=admin).status_code == 409
    tid = team.json()["id"]
    client.patch(f"/api/users/{users['op']}", json={"team_id": tid}, headers=admin)
    assert client.delete(f"/api/teams/{tid}", headers=admin).status_code == 409
    client.patch(f"/api/users/{users['op']}", json={"team_id": None}, headers=admin)
    assert client.delete(f"/api/teams/{tid}", headers=admin).status_code == 204


def test_non_ascii_username_twice_is_409(client, admin):
    body = {"username": "Ștefan", "password": "long-enough-1"}
    assert client.post("/api/users", json=body, headers=admin).status_code == 201
    assert client.post("/api/users", json=body, headers=admin).status_code == 409


def test_sign_in_with_nul_characters_is_422(client):
    r = client.post("/api/auth/token", data={"username": "a\x00b", "password": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "username"]
    r = client.post("/api/auth/login", json={"username": "a\x00b", "password": "x"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "username"]

"""The password policy, ASVS 2.1 (issue 13, item 4): length after normalisation, no common
password, not the username, any Unicode."""

from __future__ import annotations

import pytest

from tests.factories import colleagues, loc

REFUSED = ["12345678", "password", "Password", " " * 8, "\xa0" * 8, "ab   \u3000  cd", "qwertyuiop"]


@pytest.fixture
def admin(client):
    return colleagues(root=("admin", None))["root"]


@pytest.mark.parametrize("password", REFUSED)
def test_weak_passwords_are_refused(password):
    from crm_core.auth.passwords import check_password
    from crm_core.errors import Invalid

    with pytest.raises(Invalid) as refused:
        check_password(password, "maria")
    assert refused.value.loc == ["password"]


@pytest.mark.parametrize(
    "password", ["correct horse battery", "пароль-оператора", "parolă lungă", "🔒🔒🔒🔒🔒🔒🔒🔒"]
)
def test_any_unicode_is_allowed(password):
    from crm_core.auth.passwords import check_password

    check_password(password, "maria")


def test_the_list_of_common_passwords_ships_with_the_package():
    from crm_core.auth.passwords import COMMON_PASSWORDS, common_passwords

    assert COMMON_PASSWORDS.is_file()
    assert len(common_passwords()) >= 9_000
    assert {"12345678", "password", "iloveyou", "qwertyuiop"} <= common_passwords()


def test_api_refuses_weak_passwords_on_create_and_change(client, admin):
    for password in REFUSED + ["Maria.Pop", " maria.pop  "]:
        body = {"username": "maria.pop", "password": password}
        assert loc(client.post("/api/users", json=body, headers=admin)) == [["body", "password"]]
    body = {"username": "maria.pop", "password": "пароль-оператора"}
    created = client.post("/api/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    url = f"/api/users/{created.json()['id']}"
    for password in REFUSED + ["MARIA.POP"]:
        assert loc(client.patch(url, json={"password": password}, headers=admin)) == [
            ["body", "password"]
        ]
    signed_in = client.post(
        "/api/auth/token", data={"username": "maria.pop", "password": "пароль-оператора"}
    )
    assert signed_in.status_code == 200


def test_command_line_users_follow_the_same_policy(db):
    from crm_core.auth.service import create_user
    from crm_core.errors import Invalid

    with pytest.raises(Invalid, match="common"):
        create_user(db, username="ana", password="password1")

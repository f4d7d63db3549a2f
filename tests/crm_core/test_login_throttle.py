"""Failed sign-ins are counted per account and address and per account (issue 13, items 1-2):
padding the username or changing the forwarded address buys no extra guesses, and one user's
failures never lock the other users behind the same address."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from fastapi.testclient import TestClient


def attempt(app, username: str, password: str, peer: str = "10.1.1.1", **headers):
    """One API sign-in from ``peer`` (the TCP peer address the server sees); the app's
    lifespan runs in the ``client`` fixture."""
    browser = TestClient(app, client=(peer, 40000))
    try:
        return browser.post(
            "/api/auth/login", json={"username": username, "password": password}, headers=headers
        )
    finally:
        browser.close()


def test_padded_usernames_from_many_addresses_count_against_one_account(app, client, users):
    """The probe: 30 guesses, each with a new padding of the name and a new address."""
    users.add("olga")
    answers = [
        attempt(app, " " * i + "olga" + " " * (i % 3), "wrong-guess", f"10.2.{i}.1").status_code
        for i in range(30)
    ]
    assert answers.count(401) == 20 and set(answers[20:]) == {429}
    # locked: the right password from yet another address is refused too
    assert attempt(app, "OLGA", "password-olga", "10.3.0.1").status_code == 429


def test_one_users_failures_do_not_lock_the_office(app, client, users):
    """Ten failures for one user from an address behind NAT: colleagues there still sign in."""
    users.add("ana")
    users.add("bob")
    for _ in range(10):
        assert attempt(app, "ana", "wrong-guess", "192.0.2.10").status_code == 401
    assert attempt(app, "ana", "password-ana", "192.0.2.10").status_code == 429
    assert attempt(app, "bob", "password-bob", "192.0.2.10").status_code == 200
    # the account is not locked for its owner elsewhere (below the per-account limit)
    assert attempt(app, "ana", "password-ana", "192.0.2.99").status_code == 200


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(app, client, users, db):
    from sqlalchemy import select

    from crm_core.auth.models import LoginAttempt

    users.add("ana")
    for i in range(10):
        forged = {"X-Forwarded-For": f"198.51.100.{i}"}
        assert attempt(app, "ana", "wrong-guess", "127.0.0.1", **forged).status_code == 401
    forged = {"X-Forwarded-For": "198.51.100.200"}
    assert attempt(app, "ana", "password-ana", "127.0.0.1", **forged).status_code == 429
    assert set(db.scalars(select(LoginAttempt.address))) == {"127.0.0.1"}


def test_trusted_proxy_forwards_the_client_address(app, client, users, db, monkeypatch):
    from sqlalchemy import select

    from crm_core import config
    from crm_core.auth.models import LoginAttempt

    monkeypatch.setenv("CALLCARD_TRUSTED_PROXIES", "127.0.0.1, 10.9.0.0/16")
    config.get_settings.cache_clear()
    users.add("ana")
    chain = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7, 10.9.3.4"}
    assert attempt(app, "ana", "wrong-guess", "127.0.0.1", **chain).status_code == 401
    assert attempt(app, "ana", "wrong-guess", "10.1.1.1", **chain).status_code == 401
    # the client's own words left of the last untrusted hop are not believed
    assert sorted(db.scalars(select(LoginAttempt.address))) == ["10.1.1.1", "198.51.100.7"]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.5", "198.51.100.7", "10.0.0.5"),  # not a trusted proxy
        ("127.0.0.1", "1.1.1.1, 198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
        ("::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_client_address(peer, forwarded, expected):
    from crm_core.auth.throttle import client_address

    proxies = (ip_network("127.0.0.1"), ip_network("::1"))
    assert client_address(peer, forwarded, proxies) == expected
    assert client_address(peer, forwarded, ()) == peer


def test_bad_trusted_proxies_setting_is_refused(monkeypatch):
    from pydantic import ValidationError

    from crm_core.config import CoreSettings

    monkeypatch.setenv("CALLCARD_TRUSTED_PROXIES", "127.0.0.1, proxy.example")
    with pytest.raises(ValidationError, match="proxy.example"):
        CoreSettings()
    monkeypatch.delenv("CALLCARD_TRUSTED_PROXIES")
    assert CoreSettings().trusted_proxy_networks == ()


def test_padding_and_forwarded_headers_over_a_real_socket(live_server, users):
    """The probe as it was run, through uvicorn: a new padding and a new X-Forwarded-For for
    each guess still hit the account's limit."""
    import httpx

    users.add("olga")
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        answers = [
            http.post(
                "/api/auth/login",
                json={"username": " " * i + "olga", "password": "wrong-guess"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(30)
        ]
        assert answers.count(401) <= 20 and answers[-1] == 429
        right = http.post("/api/auth/login", json={"username": "olga", "password": "password-olga"})
        assert right.status_code == 429

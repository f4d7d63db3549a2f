"""E-mail newsletters: sandboxed templates, filters, test send first, unsubscribe honoured."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm_core.clients.models import Client
from crm_core.database import session_scope
from notifier.newsletters.models import NewsletterUnsubscribe
from tests.factories import client_row, outbox_rows


@pytest.fixture(autouse=True)
def no_background_sending(monkeypatch):
    """The outbox rows are asserted as written; the app's embedded dispatcher must not send them."""
    monkeypatch.setenv("CALLCARD_EMBEDDED_DISPATCHER", "false")


BODY = (
    "<p>Hello {{ first_name }},</p><p>Our spring offer for {{ category }} clients.</p>"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
)


def _clients():
    with session_scope() as s:
        vip = client_row(s, name="Ana Vip", phone=None, email="ana@example.com")
        s.get(Client, vip.id).category = "vip"
        vip2 = client_row(s, name="Bob Vip", phone=None, email="bob@example.com")
        s.get(Client, vip2.id).category = "vip"
        client_row(s, name="Carl Regular", phone=None, email="carl@example.com")
        client_row(s, name="Dana Vip", phone=None, email=None)  # no e-mail: skipped
        return vip.id, vip2.id


def _create(client, headers, **overrides):
    payload = {"name": "Spring", "subject": "Spring offer for {{ first_name }}", "body": BODY,
               "filters": {"category": "vip"}} | overrides  # fmt: skip
    return client.post("/api/notifier/newsletters", json=payload, headers=headers)


def test_test_send_first_then_send_to_the_filtered_clients_once(client, as_user):
    ana_id, bob_id = _clients()
    with session_scope() as s:
        s.get(Client, ana_id + 3).category = "vip"
    boss = as_user("maria", role="manager")
    created = _create(client, boss)
    assert created.status_code == 201, created.text
    nid = created.json()["id"]
    refused = client.post(f"/api/notifier/newsletters/{nid}/send", headers=boss)
    assert refused.status_code == 409 and "test" in refused.json()["detail"]
    test = client.post(
        f"/api/notifier/newsletters/{nid}/test", json={"email": "boss@example.com"}, headers=boss
    )
    assert test.status_code == 200 and test.json()["recipients"] == 2
    with session_scope() as s:
        [trial] = outbox_rows(s, "newsletter-test:")
        assert trial.recipient == "boss@example.com" and trial.subject.startswith("[TEST]")
        assert "Hello Ana" in trial.body
    sent = client.post(f"/api/notifier/newsletters/{nid}/send", headers=boss)
    assert sent.status_code == 200 and sent.json()["queued"] == 2
    assert client.post(f"/api/notifier/newsletters/{nid}/send", headers=boss).status_code == 409
    with session_scope() as s:
        rows = outbox_rows(s, "newsletter:")
        assert sorted(r.recipient for r in rows) == ["ana@example.com", "bob@example.com"]
        ana = next(r for r in rows if r.recipient == "ana@example.com")
        assert ana.subject == "Spring offer for Ana" and ana.channel == "email"
        assert "Hello Ana" in ana.body and "vip clients" in ana.body and "<p>" not in ana.body
        assert "<p>Hello Ana,</p>" in ana.meta["html"]


def test_an_edit_after_the_test_needs_a_new_test(client, as_user):
    _clients()
    boss = as_user("maria", role="manager")
    nid = _create(client, boss).json()["id"]
    client.post(
        f"/api/notifier/newsletters/{nid}/test", json={"email": "boss@example.com"}, headers=boss
    )
    edit = client.patch(
        f"/api/notifier/newsletters/{nid}", json={"subject": "Changed"}, headers=boss
    )
    assert edit.status_code == 200 and edit.json()["test_is_current"] is False
    assert client.post(f"/api/notifier/newsletters/{nid}/send", headers=boss).status_code == 409


def test_unsubscribe_link_is_honoured(client, as_user):
    _clients()
    boss = as_user("maria", role="manager")
    nid = _create(client, boss).json()["id"]
    client.post(
        f"/api/notifier/newsletters/{nid}/test", json={"email": "boss@example.com"}, headers=boss
    )
    client.post(f"/api/notifier/newsletters/{nid}/send", headers=boss)
    with session_scope() as s:
        ana = next(r for r in outbox_rows(s, "newsletter:") if r.recipient == "ana@example.com")
        link = re.search(r'href="([^"]+/unsubscribe/[^"]+)"', ana.meta["html"]).group(1)
        assert ana.meta["unsubscribe_url"] == link and ana.body.endswith(f"Unsubscribe: {link}")
    path = link.split("crm.example.com", 1)[-1].replace("http://127.0.0.1:8000", "")
    page = client.get(path)
    assert page.status_code == 200 and "ana@example.com" in page.text
    done = client.post(path)  # one click, no sign-in
    assert done.status_code == 200 and "no more newsletters" in done.text
    assert client.post(path).status_code == 200  # idempotent
    with session_scope() as s:
        assert s.scalar(select(NewsletterUnsubscribe.email_lower)) == "ana@example.com"
        status = {r.recipient: r.status for r in outbox_rows(s, "newsletter:")}
        assert status["ana@example.com"] == "cancelled"  # still waiting: withdrawn
        assert status["bob@example.com"] == "pending"
    second = _create(client, boss, name="Summer").json()["id"]
    client.post(
        f"/api/notifier/newsletters/{second}/test", json={"email": "boss@example.com"}, headers=boss
    )
    assert (
        client.post(f"/api/notifier/newsletters/{second}/send", headers=boss).json()["queued"] == 1
    )
    forged = path.rsplit("/", 1)[0] + "/eyJlIjoiYm9iQGV4YW1wbGUuY29tIn0.forged"
    assert client.post(forged).status_code == 404


def test_templates_are_sandboxed_and_checked_when_saved(client, as_user):
    boss = as_user("maria", role="manager")
    escape = "{{ ''.__class__.__mro__[1].__subclasses__() }} {{ unsubscribe_url }}"
    r = _create(client, boss, body=escape)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "body"]
    r = _create(client, boss, body="Hi {{ password_hash }} {{ unsubscribe_url }}")
    assert r.status_code == 422 and "unknown field" in r.json()["detail"][0]["msg"]
    r = _create(client, boss, body="Hi {% for %} {{ unsubscribe_url }}")
    assert r.status_code == 422 and "syntax" in r.json()["detail"][0]["msg"]
    r = _create(client, boss, body="<p>No way out</p>")
    assert r.status_code == 422 and "unsubscribe" in r.json()["detail"][0]["msg"]
    r = _create(client, boss, filters={"category": "vip", "colour": "red"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][:2] == ["body", "filters"]


def test_saved_segment_as_recipients_and_rights(client, as_user):
    _clients()
    boss = as_user("maria", role="manager")
    seg = client.post(
        "/api/notifier/saved-segments",
        json={"name": "VIPs", "filters": {"category": "vip"}},
        headers=boss,
    )
    assert seg.status_code == 201
    nid = _create(client, boss, filters={}, segment_id=seg.json()["id"]).json()["id"]
    count = client.get(f"/api/notifier/newsletters/{nid}/recipients", headers=boss).json()["count"]
    assert count == 2
    operator = as_user("ion", role="operator")
    assert client.get("/api/notifier/newsletters", headers=operator).status_code == 403
    assert client.post(f"/api/notifier/newsletters/{nid}/send", headers=operator).status_code == 403

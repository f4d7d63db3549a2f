"""Channels end to end: the real ``twilio`` library against the local Twilio simulator, a real
SMTP server (aiosmtpd), retries, permanent failures, unanswered sends and signed status callbacks.

Tests whose subject is the channel (not the database) run on SQLite only; those that move rows
through the database (sends, retries, reconciliation, callbacks) run on both backends.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.database import session_scope
from tests.conftest import free_port
from tests.notifier.notifier_engine_support import (
    FROM_NUMBER,
    engine_settings,
    enqueue_sms,
    message,
    run_until,
    sim_fixture,  # noqa: F401 - the `sim` fixture
    status_counts,
    twilio_settings,
)


def _dispatcher(settings):
    from notifier.outbox.dispatch import Dispatcher

    return Dispatcher(settings)


def _history(message_id: int) -> list[tuple[str, str, str]]:
    return [(h.status, h.source, h.error_code) for h in message(message_id).history]


# --------------------------------------------------------------------------- the registry


def test_each_setting_chooses_a_registered_channel_and_an_unknown_one_is_named(monkeypatch):
    from notifier import channels
    from notifier.channels import channel_for, register_channel
    from notifier.channels.console import ConsoleChannel

    settings = engine_settings(sms_channel="pigeon", voice_channel="console")
    assert isinstance(channel_for("voice", settings), ConsoleChannel)
    with pytest.raises(ValueError, match=r"CALLCARD_SMS_CHANNEL='pigeon'.*console, twilio"):
        channel_for("sms", settings)
    monkeypatch.setattr(channels, "_registry", dict(channels._registry))
    register_channel("sms", "pigeon", lambda s: ConsoleChannel("sms"))
    assert channel_for("sms", settings).sender == "console-sms"
    with pytest.raises(ValueError, match="unknown channel kind 'fax'"):
        register_channel("fax", "pigeon", lambda s: ConsoleChannel("fax"))


# --------------------------------------------------------------------------- Twilio SMS


def test_the_twilio_library_is_pointed_at_the_configured_server(sim):
    from notifier.channels.twilio import RewritingHttpClient

    client = RewritingHttpClient(sim.url + "/gateway")
    assert (
        client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1")
        == f"{sim.url}/gateway/2010-04-01/Accounts/AC1/Messages.json?x=1"
    )
    assert RewritingHttpClient("").rewrite("https://api.twilio.com/a") == "https://api.twilio.com/a"


def test_sms_is_sent_once_and_the_provider_id_recorded(database, sim):
    [mid] = enqueue_sms(1, body="Hello Ana")
    d = _dispatcher(twilio_settings(sim))
    d.run_once()
    d.close()
    row = message(mid)
    assert row.status == "queued"
    assert row.provider_id in sim.messages
    sent = sim.messages[row.provider_id]
    assert (sent.to, sent.from_, sent.body) == ("+40720000000", FROM_NUMBER, "Hello Ana")
    assert sent.status_callback.endswith(f"/api/notifier/twilio/status?outbox_id={mid}")
    assert _history(mid) == [("queued", "dispatch", "")]


def test_429_then_200_is_sent_once_after_backoff(database, sim):
    [mid] = enqueue_sms(1)
    sim.add_fault("429", times=1)
    s = twilio_settings(sim, retry_base_seconds=0.3)
    d = _dispatcher(s)
    d.run_once()
    row = message(mid)
    assert row.status == "retry"
    assert row.error_code == "20429"
    # backoff with jitter: base * (0.5 .. 1.5) from the moment the 429 was recorded
    failed_at = next(h.at for h in row.history if h.status == "retry")
    wait = (row.next_attempt_at - failed_at).total_seconds()
    assert 0.15 <= wait <= 0.45
    run_until(d, lambda: message(mid).status == "queued")
    d.close()
    assert sim.stats()["requests"] == 2
    assert sim.count("+40720000000", "Reminder 0") == 1
    assert [h[0] for h in _history(mid)] == ["retry", "queued"]
    assert message(mid).attempts == 2


def test_server_errors_are_retried_until_the_limit_then_shown_as_failed(sqlite_database, sim):
    [mid] = enqueue_sms(1)
    sim.add_fault("503", times=10)
    d = _dispatcher(twilio_settings(sim, max_send_attempts=3, retry_base_seconds=0.05))
    run_until(d, lambda: message(mid).status == "failed")
    d.close()
    row = message(mid)
    assert row.attempts == 3
    assert row.error_code == "20503"
    assert row.error_message.startswith("gave up after 3 attempts")
    assert sim.stats()["accepted"] == 0


@pytest.mark.parametrize(
    ("setup", "code", "reason"),
    [
        (lambda sim: sim.invalid.add("+40720000000"), "21211", "invalid number"),
        (lambda sim: sim.opted_out.add("+40720000000"), "21610", "opted out"),
    ],
)
def test_permanent_errors_fail_at_once_with_the_reason(sqlite_database, sim, setup, code, reason):
    from notifier.outbox.service import is_opted_out

    [mid] = enqueue_sms(1)
    setup(sim)
    d = _dispatcher(twilio_settings(sim))
    d.run_once()
    d.run_once()
    d.close()
    row = message(mid)
    assert row.status == "failed"
    assert row.attempts == 1
    assert row.error_code == code
    assert row.error_message.startswith(reason)
    assert sim.stats()["requests"] == 1
    with session_scope() as db:
        assert is_opted_out(db, "+40720000000", "sms") == (code == "21610")


def test_provider_opt_out_stops_the_next_message_before_it_is_sent(sqlite_database, sim):
    sim.opted_out.add("+40720000000")
    [first] = enqueue_sms(1, prefix="a")
    d = _dispatcher(twilio_settings(sim))
    d.run_once()
    [second] = enqueue_sms(1, prefix="b", body="Another {i}")
    d.run_once()
    d.close()
    assert message(second).status == "failed"
    assert message(second).error_message == "opted out"
    assert sim.stats()["requests"] == 1  # the second one never reached the provider
    assert message(first).error_code == "21610"


def test_unreachable_provider_is_retried_not_unknown(sqlite_database, sim):
    [mid] = enqueue_sms(1)
    s = twilio_settings(sim, twilio_base_url=f"http://127.0.0.1:{free_port()}")
    d = _dispatcher(s)
    d.run_once()
    d.close()
    row = message(mid)
    assert row.status == "retry"
    assert row.error_code == "connect"


def test_timeout_after_the_provider_accepted_is_reconciled_not_resent(database, sim):
    """The request left, Twilio took it, the answer never came: look it up, do not resend."""
    [mid] = enqueue_sms(1)
    sim.add_fault("timeout_after_accept", delay=2.5)
    s = twilio_settings(sim, send_timeout_seconds=0.5, unknown_grace_seconds=1.0)
    d = _dispatcher(s)
    d.run_once()
    row = message(mid)
    assert row.status == "unknown"
    assert "Read timed out" in row.error_message
    run_until(d, lambda: message(mid).status == "queued")
    d.close()
    row = message(mid)
    assert row.provider_id in sim.messages
    assert sim.count("+40720000000", "Reminder 0") == 1
    statuses = [h[:2] for h in _history(mid)]
    assert statuses[0] == ("unknown", "dispatch")
    assert statuses[-1] == ("queued", "reconcile")


def test_connection_dropped_before_acceptance_is_resent_after_the_grace_period(
    sqlite_database, sim
):
    [mid] = enqueue_sms(1)
    sim.add_fault("drop_before")
    d = _dispatcher(twilio_settings(sim, unknown_grace_seconds=0.5))
    d.run_once()
    assert message(mid).status == "unknown"
    run_until(d, lambda: message(mid).status == "queued")
    d.close()
    assert sim.count("+40720000000", "Reminder 0") == 1
    assert [h[0] for h in _history(mid)][-2:] == ["retry", "queued"]


def test_connection_dropped_after_acceptance_is_found_at_the_provider(sqlite_database, sim):
    [mid] = enqueue_sms(1)
    sim.add_fault("drop_after_accept")
    d = _dispatcher(twilio_settings(sim, unknown_grace_seconds=0.5))
    run_until(d, lambda: message(mid).status == "queued")
    d.close()
    assert sim.count("+40720000000", "Reminder 0") == 1
    assert "retry" not in [h[0] for h in _history(mid)]


# --------------------------------------------------------------------------- Twilio voice


def test_voice_call_with_inline_twiml(sqlite_database, sim):
    from notifier.outbox.service import enqueue

    twiml = "<Response><Say>Your order is ready</Say></Response>"
    with session_scope() as db:
        mid = enqueue(
            db, channel="voice", recipient="0721234567", body=twiml, idempotency_key="call:1"
        ).id
    d = _dispatcher(twilio_settings(sim))
    d.run_once()
    d.close()
    row = message(mid)
    assert row.status == "queued"
    assert row.provider_id.startswith("CA")
    call = sim.messages[row.provider_id]
    assert (call.resource, call.to, call.body) == ("Calls", "+40721234567", twiml)
    assert call.status_callback.endswith(f"/api/notifier/twilio/call-status?outbox_id={mid}")


# --------------------------------------------------------------------------- SMTP


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    mailbox = _Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


def _enqueue_mail(recipient: str, key: str) -> int:
    from notifier.outbox.service import enqueue

    with session_scope() as db:
        return enqueue(
            db,
            channel="email",
            recipient=recipient,
            subject="Your invoice",
            body="Dear Ana,\nyour invoice is attached.",
            idempotency_key=key,
            meta={"unsubscribe_url": "http://127.0.0.1/u/abc"},
        ).id


def test_email_goes_through_a_real_smtp_server(sqlite_database, smtp_server):
    import email

    mid = _enqueue_mail("ana@example.com", "mail:1")
    s = engine_settings(email_channel="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    d = _dispatcher(s)
    d.run_once()
    d.close()
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["ana@example.com"]
    parsed = email.message_from_bytes(envelope.content)
    assert parsed["Subject"] == "Your invoice"
    assert parsed["Message-ID"] == f"<outbox-{mid}@localhost>"
    assert parsed["List-Unsubscribe"] == "<http://127.0.0.1/u/abc>"
    assert "your invoice is attached" in parsed.get_payload()
    row = message(mid)
    assert row.status == "sent"
    assert row.provider_id == f"outbox-{mid}@localhost"


def test_a_refused_address_fails_at_once_and_the_rest_still_go(sqlite_database, smtp_server):
    bad = _enqueue_mail("nobody@example.com", "mail:bad")
    good = _enqueue_mail("ion@example.com", "mail:good")
    s = engine_settings(email_channel="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port)
    d = _dispatcher(s)
    d.run_once()
    d.close()
    row = message(bad)
    assert row.status == "failed"
    assert row.error_code == "smtp-550"
    assert row.error_message.startswith("bad address")
    assert message(good).status == "sent"
    assert [e.rcpt_tos for e in smtp_server.messages] == [["ion@example.com"]]


def test_smtp_server_down_means_retry(sqlite_database):
    mid = _enqueue_mail("ana@example.com", "mail:down")
    s = engine_settings(email_channel="smtp", smtp_host="127.0.0.1", smtp_port=free_port())
    d = _dispatcher(s)
    d.run_once()
    d.close()
    row = message(mid)
    assert row.status == "retry"
    assert row.error_code == "smtp-connect"


# --------------------------------------------------------------------------- status callbacks


@pytest.fixture
def webhook_env(database, monkeypatch, sim):
    """The app checks signatures with the simulator's auth token; no embedded dispatcher."""
    from callcard.settings import get_settings

    monkeypatch.setenv("CALLCARD_TWILIO_AUTH_TOKEN", sim.auth_token)
    monkeypatch.setenv("CALLCARD_EMBEDDED_DISPATCHER", "false")
    get_settings.cache_clear()
    return sim


def _public(monkeypatch, url: str) -> None:
    from callcard.settings import get_settings

    monkeypatch.setenv("CALLCARD_PUBLIC_URL", url)
    get_settings.cache_clear()


def test_signed_status_callbacks_move_the_message_to_delivered(
    webhook_env, live_server, monkeypatch
):
    sim = webhook_env
    _public(monkeypatch, live_server.url)
    sim.callbacks = True
    sim.callback_delay = 0.3  # Twilio's callbacks come after its answer
    sim.undeliverable.add("+40720000001")
    ids = enqueue_sms(2)
    d = _dispatcher(twilio_settings(sim, public_url=live_server.url))
    d.run_once()
    d.close()
    run_until_status = lambda: [message(i).status for i in ids]  # noqa: E731
    import time

    deadline = time.monotonic() + 15
    while run_until_status() != ["delivered", "undelivered"]:
        assert time.monotonic() < deadline, run_until_status()
        time.sleep(0.05)
    assert set(sim.callback_results) == {204}
    delivered = message(ids[0])
    assert [h.status for h in delivered.history] == ["queued", "sent", "delivered"], [
        (h.status, h.source, h.detail, h.at) for h in delivered.history
    ]
    assert [h.source for h in delivered.history] == ["dispatch", "callback", "callback"]
    failed = message(ids[1])
    assert failed.error_code == "30003"
    assert failed.error_message == "unreachable destination handset"


def _sign(url: str, params: dict, token: str) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(token).compute_signature(url, params)


def test_a_callback_without_a_valid_signature_is_refused_and_not_processed(
    webhook_env, client, monkeypatch
):
    sim = webhook_env
    _public(monkeypatch, "https://crm.example.com")
    [mid] = enqueue_sms(1)
    d = _dispatcher(twilio_settings(sim))
    d.run_once()
    d.close()
    sid = message(mid).provider_id
    path = f"/api/notifier/twilio/status?outbox_id={mid}"
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": sim.account_sid}
    good = _sign("https://crm.example.com" + path, params, sim.auth_token)
    for headers in (
        {},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Twilio-Signature": _sign("https://crm.example.com" + path, params, "wrong-token")},
        # signed for another message: the query string is part of what is signed
        {
            "X-Twilio-Signature": _sign(
                "https://crm.example.com/api/notifier/twilio/status?outbox_id=999",
                params,
                sim.auth_token,
            )
        },
    ):
        r = client.post(path, data=params, headers=headers)
        assert r.status_code == 403
    assert message(mid).status == "queued"
    assert len(message(mid).history) == 1
    # tampering with a signed field breaks the signature too
    r = client.post(
        path, data={**params, "MessageStatus": "failed"}, headers={"X-Twilio-Signature": good}
    )
    assert r.status_code == 403
    r = client.post(path, data=params, headers={"X-Twilio-Signature": good})
    assert r.status_code == 204
    assert message(mid).status == "delivered"


def test_callbacks_never_move_a_message_backwards(webhook_env, client, monkeypatch):
    sim = webhook_env
    _public(monkeypatch, "https://crm.example.com")
    [mid] = enqueue_sms(1)
    d = _dispatcher(twilio_settings(sim))
    d.run_once()
    d.close()
    sid = message(mid).provider_id
    path = "/api/notifier/twilio/status"
    for status in ("delivered", "sent", "queued"):
        params = {"MessageSid": sid, "MessageStatus": status}
        sig = _sign("https://crm.example.com" + path, params, sim.auth_token)
        assert (
            client.post(path, data=params, headers={"X-Twilio-Signature": sig}).status_code == 204
        )
    row = message(mid)
    assert row.status == "delivered"
    assert [h.status for h in row.history] == ["queued", "delivered", "sent", "queued"]


def test_a_callback_reconciles_an_unanswered_send(webhook_env, client, monkeypatch):
    """The status callback names our outbox id: it tells us the send arrived."""
    sim = webhook_env
    _public(monkeypatch, "https://crm.example.com")
    [mid] = enqueue_sms(1)
    sim.add_fault("drop_after_accept")
    d = _dispatcher(twilio_settings(sim, unknown_grace_seconds=60))
    d.run_once()
    assert message(mid).status == "unknown"
    [sid] = list(sim.messages)
    path = f"/api/notifier/twilio/status?outbox_id={mid}"
    params = {"MessageSid": sid, "MessageStatus": "sent"}
    sig = _sign("https://crm.example.com" + path, params, sim.auth_token)
    assert client.post(path, data=params, headers={"X-Twilio-Signature": sig}).status_code == 204
    row = message(mid)
    assert (row.status, row.provider_id) == ("sent", sid)
    d.run_once()
    d.close()
    assert sim.count("+40720000000", "Reminder 0") == 1


# --------------------------------------------------------------------------- outbox API


def test_admins_see_the_outbox_with_history_and_others_do_not(webhook_env, client, as_user):
    ids = enqueue_sms(3)
    with session_scope() as db:
        from notifier.outbox.models import OutboxMessage

        row = db.scalar(select(OutboxMessage).where(OutboxMessage.id == ids[0]))
        row.status = "failed"
        row.error_code = "21211"
        row.error_message = "invalid number: not a valid phone number"
    admin = as_user("root", role="admin", team=None)
    operator = as_user("ana", role="operator")
    assert client.get("/api/notifier/outbox", headers=operator).status_code == 403
    page = client.get("/api/notifier/outbox?limit=2", headers=admin).json()
    assert [m["id"] for m in page["items"]] == [ids[2], ids[1]]
    assert page["next_before_id"] == ids[1]
    failed = client.get("/api/notifier/outbox?status=failed", headers=admin).json()["items"]
    assert [(m["id"], m["error_message"]) for m in failed] == [
        (ids[0], "invalid number: not a valid phone number")
    ]
    bad = client.get("/api/notifier/outbox?status=lost", headers=admin)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"][-1] == "status"
    assert client.get("/api/notifier/outbox/999999", headers=admin).status_code == 404
    assert client.get("/api/notifier/outbox/counts", headers=admin).json() == {
        "by_status": {"failed": 1, "pending": 2}
    }
    # cancel one still pending, retry the failed one
    r = client.post(f"/api/notifier/outbox/{ids[1]}/cancel", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert client.post(f"/api/notifier/outbox/{ids[1]}/cancel", headers=admin).status_code == 409
    r = client.post(f"/api/notifier/outbox/{ids[0]}/retry", headers=admin)
    assert r.json()["status"] == "retry"
    assert [h["source"] for h in r.json()["history"]] == ["admin"]
    assert status_counts() == {"retry": 1, "cancelled": 1, "pending": 1}


def test_callbacks_for_unknown_messages_are_accepted_and_ignored(webhook_env, client, monkeypatch):
    sim = webhook_env
    _public(monkeypatch, "https://crm.example.com")
    path = "/api/notifier/twilio/status"
    params = {"MessageSid": "SMdoesnotexist", "MessageStatus": "delivered"}
    sig = _sign("https://crm.example.com" + path, params, sim.auth_token)
    assert client.post(path, data=params, headers={"X-Twilio-Signature": sig}).status_code == 204
    assert status_counts() == {}


# --------------------------------------------------------------------------- embedded default


def test_the_embedded_app_sends_due_messages_by_itself(sqlite_database, monkeypatch):
    """`callcard serve` with no Redis: the web process's own loop claims and sends."""
    from fastapi.testclient import TestClient

    from callcard.app import create_app
    from callcard.settings import get_settings
    from tests.notifier.notifier_engine_support import wait_until

    monkeypatch.setenv("CALLCARD_DISPATCH_INTERVAL_SECONDS", "0.2")
    monkeypatch.setenv("CALLCARD_QUIET_HOURS_START", "0")
    monkeypatch.setenv("CALLCARD_QUIET_HOURS_END", "0")
    get_settings.cache_clear()
    ids = enqueue_sms(3, prefix="embedded")
    with TestClient(create_app()):
        wait_until(lambda: status_counts() == {"delivered": 3}, timeout=20)
    assert message(ids[0]).provider_id == f"console-{ids[0]}"


def test_the_same_text_twice_to_one_number_is_not_mistaken_for_the_unanswered_one(database, sim):
    """Reconciliation matches by recipient and text: it must skip a message another row owns."""
    from notifier.outbox.service import enqueue

    def same_text(key: str) -> int:
        with session_scope() as db:
            return enqueue(
                db,
                channel="sms",
                recipient="+40721234567",
                body="Your order is ready",
                idempotency_key=key,
            ).id

    first = same_text("order:1:ready")
    d = _dispatcher(twilio_settings(sim, unknown_grace_seconds=0.5))
    d.run_once()
    assert message(first).status == "queued"
    second = same_text("order:2:ready")
    sim.add_fault("drop_before")  # the second one never reaches Twilio
    d.run_once()
    assert message(second).status == "unknown"
    run_until(d, lambda: message(second).status == "queued")
    d.close()
    assert message(second).provider_id != message(first).provider_id
    assert sim.count("+40721234567", "Your order is ready") == 2


def test_call_status_callbacks_complete_a_voice_message(webhook_env, client, monkeypatch):
    from notifier.outbox.service import enqueue

    sim = webhook_env
    _public(monkeypatch, "https://crm.example.com")
    with session_scope() as db:
        mid = enqueue(
            db,
            channel="voice",
            recipient="+40721234567",
            body="",
            meta={"twiml_url": "https://crm.example.com/api/voicebots/twiml/1"},
            idempotency_key="call:42",
        ).id
    d = _dispatcher(twilio_settings(sim))
    d.run_once()
    d.close()
    sid = message(mid).provider_id
    assert sim.messages[sid].body == "https://crm.example.com/api/voicebots/twiml/1"
    path = f"/api/notifier/twilio/call-status?outbox_id={mid}"
    for status, expected in (("ringing", "sent"), ("no-answer", "undelivered")):
        params = {"CallSid": sid, "CallStatus": status}
        sig = _sign("https://crm.example.com" + path, params, sim.auth_token)
        assert (
            client.post(path, data=params, headers={"X-Twilio-Signature": sig}).status_code == 204
        )
        assert message(mid).status == expected

"""Inbound SMS: Twilio webhook (real RequestValidator), history, unknown inbox, handset page."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from twilio.request_validator import RequestValidator

import notifier.hooks  # noqa: F401
from crm_core.database import session_scope, utcnow
from crm_core.history.models import Interaction
from notifier.inbound.models import InboundSms
from notifier.inbound.service import handle_inbound_sms
from notifier.outbox.service import is_opted_out
from notifier.surveys.models import Survey
from tests.factories import client_row, outbox_rows


@pytest.fixture(autouse=True)
def no_background_sending(monkeypatch):
    """The outbox rows are asserted as written; the app's embedded dispatcher must not send them."""
    monkeypatch.setenv("CALLCARD_EMBEDDED_DISPATCHER", "false")


TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://crm.example.com"
PATH = "/api/notifier/twilio/inbound"
PHONE = "+40712345678"


@pytest.fixture
def twilio_env(database, monkeypatch):
    from crm_core import config

    monkeypatch.setenv("CALLCARD_TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("CALLCARD_PUBLIC_URL", PUBLIC)
    config.get_settings.cache_clear()
    yield
    config.get_settings.cache_clear()


def _form(body: str, sid: str, sender: str = PHONE) -> dict[str, str]:
    return {
        "MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+15005550006",
        "Body": body, "NumSegments": "1", "NumMedia": "0",
    }  # fmt: skip


def _signed(params: dict[str, str], url: str = PUBLIC + PATH) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params)}


def test_signed_webhook_lands_in_the_clients_history(twilio_env, client):
    with session_scope() as s:
        client_id = client_row(s).id
    params = _form("Can we move my appointment to Friday?", "SM100")
    response = client.post(PATH, data=params, headers=_signed(params))
    assert response.status_code == 200
    assert "<Response>" in response.text
    with session_scope() as s:
        entry = s.scalar(select(Interaction).where(Interaction.kind == "sms"))
        assert entry.client_id == client_id and entry.direction == "inbound"
        assert entry.body == "Can we move my appointment to Friday?"


def test_bad_or_missing_signature_is_refused_and_nothing_is_stored(twilio_env, client):
    params = _form("STOP", "SM101")
    tampered = {**params, "Body": "START"}
    cases = [
        (params, {}),
        (params, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}),
        # signed for the URL the app sees, not the public one Twilio used
        (params, _signed(params, "http://testserver" + PATH)),
        (tampered, _signed(params)),
    ]
    for data, headers in cases:
        response = client.post(PATH, data=data, headers=headers)
        assert response.status_code == 403, headers
    with session_scope() as s:
        assert s.scalar(select(InboundSms.id)) is None
        assert not is_opted_out(s, PHONE)


def test_webhook_with_query_string_is_verified_against_the_full_public_url(twilio_env, client):
    params = _form("hello", "SM102", sender="+40799000111")
    url = PATH + "?source=twilio"
    response = client.post(url, data=params, headers=_signed(params, PUBLIC + url))
    assert response.status_code == 200


def test_signed_webhook_rating_end_to_end(twilio_env, client, users):
    op = users.add("ion", role="operator", team="Sales", extension="101")
    with session_scope() as s:
        c = client_row(s)
        s.add(Survey(client_id=c.id, phone_e164=PHONE, source="call", source_ref="77",
                     operator_user_id=op.id, status="open", send_at=utcnow()))  # fmt: skip
    params = _form("⭐⭐⭐⭐", "SM103")
    assert client.post(PATH, data=params, headers=_signed(params)).status_code == 200
    with session_scope() as s:
        survey = s.scalar(select(Survey))
        assert (survey.status, survey.rating) == ("answered", 4)


@pytest.mark.parametrize("word", [" Unsubscribe ", "Dezabonare", "отписаться"])
def test_opt_out_words_opt_the_number_out_and_start_opts_back_in(db, word):
    result = handle_inbound_sms(db, from_number=PHONE, to_number="", body=word, provider_id="SM1")
    db.commit()
    assert result.outcome == "opt_out"
    assert is_opted_out(db, PHONE)
    back = handle_inbound_sms(db, from_number=PHONE, to_number="", body="START", provider_id="SM2")
    db.commit()
    assert back.outcome == "opt_in"
    assert not is_opted_out(db, PHONE)


def test_a_known_clients_opt_out_is_on_their_card(db):
    client = client_row(db)
    handle_inbound_sms(db, from_number=PHONE, to_number="", body="Stop", provider_id="SMk")
    db.commit()
    entry = db.scalar(select(Interaction).where(Interaction.client_id == client.id))
    assert entry.subject == "SMS opt-out" and entry.body == "Stop"
    from callcard.parts import connect_parts
    from crm_core import wording
    from crm_core.auth.principal import Principal

    connect_parts()
    with wording.reading_as(Principal(1, "dana", "operator", language="ro")):
        assert wording.shown_subjects(db, [entry]) == ["Dezabonare de la SMS"]


def test_stop_inside_a_sentence_is_an_ordinary_message(db):
    client_row(db)
    result = handle_inbound_sms(
        db, from_number=PHONE, to_number="", body="please don't stop calling me", provider_id="SM3"
    )
    db.commit()
    assert result.outcome == "history"
    assert not is_opted_out(db, PHONE)


def test_unknown_number_goes_to_the_unknown_inbox(database, client, as_user):
    with session_scope() as s:
        handle_inbound_sms(
            s, from_number="+40755111222", to_number="", body="Who is this?", provider_id="SMu1"
        )
        client_row(s)
        handle_inbound_sms(
            s, from_number=PHONE, to_number="", body="Known client here", provider_id="SMu2"
        )
    manager = as_user("maria", role="manager")
    response = client.get("/api/notifier/inbox/unknown", headers=manager)
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 1
    assert data["items"][0]["from"] == "+40755111222" and data["items"][0]["body"] == "Who is this?"
    assert (
        client.get(
            "/api/notifier/inbox/unknown", headers=as_user("op", role="operator")
        ).status_code
        == 403
    )
    with session_scope() as s:
        known_id = s.scalar(select(Interaction.client_id))
    url = f"/api/notifier/inbox/unknown/{data['items'][0]['id']}/file"
    filed = client.post(url, json={"client_id": known_id}, headers=manager)
    assert filed.status_code == 200 and filed.json()["outcome"] == "history"
    assert client.get("/api/notifier/inbox/unknown", headers=manager).json()["total"] == 0
    assert client.post(url, json={"client_id": known_id}, headers=manager).status_code == 409
    with session_scope() as s:
        bodies = set(s.scalars(select(Interaction.body).where(Interaction.client_id == known_id)))
    assert "Who is this?" in bodies


def test_handset_shows_the_conversation_and_replies_through_the_inbound_path(
    database, client, as_user
):
    with session_scope() as s:
        c = client_row(s)
        s.add(Survey(client_id=c.id, phone_e164=PHONE, source="call", source_ref="88",
                     status="open", send_at=utcnow()))  # fmt: skip
        from notifier.outbox.service import enqueue

        enqueue(s, channel="sms", recipient=PHONE, body="How did we do? Reply 1-5",
                idempotency_key="survey:test", client_id=c.id, purpose="survey")  # fmt: skip
    admin = as_user("root", role="admin")
    url = f"/api/notifier/handset/{quote(PHONE)}"
    response = client.post(url + "/reply", json={"body": "cinci"}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "rating" and response.json()["rating"] == 5
    convo = client.get(url, headers=admin).json()
    assert [(m["direction"], m["body"]) for m in convo["messages"]] == [
        ("outbound", "How did we do? Reply 1-5"),
        ("inbound", "cinci"),
        ("outbound", "Thank you for your rating!"),
    ]
    assert client.post(url + "/reply", json={"body": ""}, headers=admin).status_code == 422
    # operators: only numbers of clients they may see (this client is another team's)
    with session_scope() as s:
        from crm_core.auth.models import Team
        from crm_core.clients.models import Client

        other = Team(name="Support")
        s.add(other)
        s.flush()
        s.scalar(select(Client)).team_id = other.id
    operator = as_user("ion", role="operator", team="Sales")
    assert client.get(url, headers=operator).status_code == 404
    assert client.post(url + "/reply", json={"body": "1"}, headers=operator).status_code == 404
    bad = client.get("/api/notifier/handset/not-a-number", headers=admin)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "number"


def test_help_gets_an_automatic_answer(db):
    result = handle_inbound_sms(db, from_number=PHONE, to_number="", body="HELP", provider_id="SMh")
    db.commit()
    assert result.outcome == "help"
    [answer] = outbox_rows(db, "help:")
    assert "STOP" in answer.body and answer.recipient == PHONE


_seen = iter(range(10**9))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.text(max_size=300),
    sender=st.sampled_from([PHONE, "0712 345 678", "+40755000111", "Vodafone", "", "12345"]),
)
def test_any_inbound_sms_is_stored_once_with_a_known_outcome(db, body, sender):
    provider_id = f"SMprop{next(_seen)}"
    result = handle_inbound_sms(
        db, from_number=sender, to_number="", body=body, provider_id=provider_id
    )
    assert result.outcome in {
        "opt_out", "opt_in", "help", "rating", "clarification", "history", "unknown",
    }  # fmt: skip
    again = handle_inbound_sms(
        db, from_number=sender, to_number="", body=body, provider_id=provider_id
    )
    assert again.duplicate and again.inbound_id == result.inbound_id
    db.rollback()


def test_handset_lists_the_numbers_texted_last_one_per_number(database, client, as_user):
    """The demo's handset offers the numbers Callcard texted (sent on the console channel),
    newest first, once each; an operator only their team's clients and unassigned ones."""
    from callcard.settings import get_settings
    from crm_core.auth.models import Team
    from notifier.outbox.dispatch import Dispatcher
    from notifier.outbox.service import enqueue

    with session_scope() as s:
        support = Team(name="Support")
        s.add(support)
        s.flush()
        ana = client_row(s, "Ana Popescu", phone="+40712345678", email=None)
        radu = client_row(s, "Radu Ciobanu", phone="+40766100200", email=None)
        radu.team_id = support.id
        for n, (c, body) in enumerate(
            [(ana, "Reminder: tomorrow 10:00"), (radu, "Your order shipped"), (ana, "Rate us 1-5")]
        ):
            enqueue(s, channel="sms", recipient=c.phones[0].e164, body=body, client_id=c.id,
                    idempotency_key=f"handset-list:{n}")  # fmt: skip
        client_row(s, "Elena Matei", phone="+40744333444", email=None)  # unassigned
        enqueue(s, channel="sms", recipient="+40744333444", body="Typed by hand",
                idempotency_key="handset-list:no-client")  # fmt: skip
        enqueue(s, channel="sms", recipient="+40799000111", body="Not sent yet",
                idempotency_key="handset-list:later", due_at=utcnow().replace(year=2099))  # fmt: skip
    dispatcher = Dispatcher(get_settings())
    dispatcher.run_once()
    dispatcher.close()
    admin = as_user("root", role="admin")
    listed = client.get("/api/notifier/handset", headers=admin)
    assert listed.status_code == 200, listed.text
    assert [(c["name"], c["number"], c["body"]) for c in listed.json()] == [
        ("", "+40744333444", "Typed by hand"),  # no client linked: the number stands alone
        ("Ana Popescu", "+40712345678", "Rate us 1-5"),
        ("Radu Ciobanu", "+40766100200", "Your order shipped"),
    ]
    operator = as_user("ion", role="operator", team="Sales")
    mine = client.get("/api/notifier/handset", headers=operator).json()
    assert [c["number"] for c in mine] == ["+40744333444", "+40712345678"]  # not Radu's
    assert client.get("/api/notifier/handset?limit=0", headers=admin).status_code == 422

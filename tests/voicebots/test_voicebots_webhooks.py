"""Twilio voice webhooks with real RequestValidator signatures, on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

TOKEN = "voice-test-auth-token"
PUBLIC = "https://crm.example.com"


def _app(monkeypatch, **env: str):
    from fastapi.testclient import TestClient

    from callcard.app import create_app
    from callcard.settings import get_settings

    monkeypatch.setenv("CALLCARD_TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("CALLCARD_PUBLIC_URL", PUBLIC + "/")
    for key, value in env.items():
        monkeypatch.setenv(f"CALLCARD_{key.upper()}", value)
    get_settings.cache_clear()
    return TestClient(create_app())


@pytest.fixture
def voice(database, monkeypatch):
    """The app with a Twilio token and a public URL behind a (pretend) proxy; the outbox
    dispatcher is off so that nothing else touches the calls under test."""
    from callcard.settings import get_settings

    with _app(monkeypatch, embedded_dispatcher="false") as client:
        yield Twilio(client)
    get_settings.cache_clear()


@pytest.fixture
def voice_sqlite(sqlite_database, monkeypatch):
    """The same on SQLite only, for tests whose subject is the HTTP contract, not the database."""
    from callcard.settings import get_settings

    with _app(monkeypatch, embedded_dispatcher="false") as client:
        yield Twilio(client)
    get_settings.cache_clear()


class Twilio:
    """Posts to the app the way Twilio does: form fields + X-Twilio-Signature of the public URL."""

    def __init__(self, client) -> None:
        self.client = client
        self.validator = RequestValidator(TOKEN)

    def post(self, url: str, params: dict[str, str], *, signature: str | None = None):
        parts = urlsplit(url)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC
        local = parts.path + (f"?{parts.query}" if parts.query else "")
        signed = signature or self.validator.compute_signature(url, params)
        return self.client.post(local, data=params, headers={"X-Twilio-Signature": signed})

    def call(self, url: str, params: dict[str, str] | None = None) -> ET.Element:
        answer = self.post(url, {"CallSid": "CA123", "CallStatus": "in-progress", **(params or {})})
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        return ET.fromstring(answer.text)


def make_call(
    script: str, *, language: str | None = None, body: str = "", client_language="", **options
):
    from crm_core.clients.models import Client, Phone
    from crm_core.database import session_scope
    from voicebots.service import enqueue_call

    with session_scope() as db:
        client = Client(
            kind="person",
            first_name="Ștefan",
            last_name="Ionescu",
            display_name="Ștefan Ionescu",
            language=client_language,
        )
        client.phones.append(Phone(number="0722 123 456", e164="+40722123456"))
        db.add(client)
        db.flush()
        message = enqueue_call(
            db,
            script=script,
            recipient="+40722123456",
            idempotency_key=f"test-voice-{script}-{client.id}",
            body=body,
            client_id=client.id,
            language=language,
            values={"company": "Dental Plus"},
            **options,
        )
        return message.id, client.id, message.meta["twiml_url"]


def outcome(message_id: int) -> dict:
    from crm_core.database import session_scope
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        return dict((db.get(OutboxMessage, message_id).meta or {}).get("voice") or {})


def history(client_id: int) -> list:
    from crm_core.database import session_scope
    from crm_core.history.models import Interaction

    with session_scope() as db:
        rows = db.scalars(select(Interaction).where(Interaction.client_id == client_id))
        return [(r.kind, r.type_code, r.result_code, r.subject, r.direction) for r in rows]


def test_confirming_a_reminder(voice):
    message_id, client_id, url = make_call("reminder", language="ro", body="Mâine la 10:00.")
    assert url == f"{PUBLIC}/api/voice/reminder/{message_id}"
    first = voice.call(url)
    intro, gather = list(first)
    assert intro.attrib["language"] == "ro-RO"
    assert intro.text.startswith("Bună ziua Ștefan") and "Dental Plus" in intro.text
    assert "Mâine la 10:00." in intro.text
    assert outcome(message_id) == {}  # nothing recorded before the client answers

    done = voice.call(gather.attrib["action"], {"Digits": "1"})
    assert [c.tag for c in done] == ["Say", "Hangup"]
    assert "confirmată" in done[0].text
    got = outcome(message_id)
    assert got["outcome"] == "confirmed" and got["digit"] == "1"
    assert got["via"] == "twilio" and got["call_sid"] == "CA123"
    assert history(client_id) == [
        ("call", "reminder", "confirmed", "Automated reminder call: confirmed", "outbound")
    ]

    # Twilio retries the same webhook: the same answer, nothing recorded twice
    again = voice.call(gather.attrib["action"], {"Digits": "1"})
    assert [c.tag for c in again] == ["Say", "Hangup"]
    assert len(history(client_id)) == 1


def test_cancel_request_in_the_clients_own_language(voice_sqlite):
    voice = voice_sqlite
    message_id, client_id, url = make_call("reminder", client_language="ru")
    gather = voice.call(url).find("Gather")
    assert gather[0].attrib["language"] == "ru-RU"
    done = voice.call(gather.attrib["action"], {"Digits": "2"})
    assert done[0].text.startswith("Мы приняли")
    got = outcome(message_id)
    assert got["outcome"] == "cancel_requested"
    assert history(client_id)[0][2] == "cancel_requested"
    # the client was promised a call back: the team has a task for it
    from crm_core.database import session_scope
    from crm_core.tasks.models import Task

    with session_scope() as db:
        task = db.get(Task, got["callback_task_id"])
        assert task.client_id == client_id and task.status == "open"
        assert task.title == "Call back Ștefan Ionescu: wants to cancel"
        assert task.priority == "high" and task.source == "voice_cancel"


def test_invalid_keys_get_the_retry_prompt_then_a_polite_goodbye(voice_sqlite):
    voice = voice_sqlite
    message_id, client_id, url = make_call("reminder", language="en")
    action = voice.call(url).find("Gather").attrib["action"]
    for attempt, digits in ((2, "7"), (3, "")):
        retry = voice.call(action, {"Digits": digits})
        sorry, gather = list(retry)
        assert sorry.text == "Sorry, I did not get that."
        assert gather.tag == "Gather" and gather[0].text.startswith("Press 1 to confirm")
        action = gather.attrib["action"]
        assert action.endswith(f"attempt={attempt}")
        assert outcome(message_id) == {}
    goodbye = voice.call(action, {"Digits": "9"})
    assert [c.tag for c in goodbye] == ["Say", "Hangup"]
    assert goodbye[0].text == "We did not receive an answer. Thank you, goodbye."
    assert outcome(message_id)["outcome"] == "no_input"
    assert history(client_id)[0][2] == "no_input"


def ratings(client_id: int) -> list[tuple]:
    from crm_core.clients.models import Client
    from crm_core.database import session_scope
    from notifier.surveys.models import Survey

    with session_scope() as db:
        rows = db.scalars(select(Survey).where(Survey.client_id == client_id))
        surveys = [(s.status, s.rating, s.source) for s in rows]
        return surveys, db.get(Client, client_id).last_rating


def test_rating_by_keypad(voice):
    message_id, client_id, url = make_call("rating", language="en")
    gather = voice.call(url).find("Gather")
    assert "from 1 to 5" in gather[0].text
    done = voice.call(gather.attrib["action"], {"Digits": "4"})
    assert done[0].text == "Thank you for your rating. Goodbye."
    got = outcome(message_id)
    assert (got["outcome"], got["rating"]) == ("rating", 4)
    # stored by the notifier's survey code: counted in CSAT, shown as the client's last rating
    assert ratings(client_id) == ([("answered", 4, "call")], 4)
    rated = [h for h in history(client_id) if h[0] == "rating"]
    assert len(rated) == 1 and rated[0][3] == "Rating 4/5"
    # a repeated webhook does not rate twice
    voice.call(gather.attrib["action"], {"Digits": "5"})
    assert ratings(client_id) == ([("answered", 4, "call")], 4)


def test_announcement_is_read_and_marked_played(voice_sqlite):
    voice = voice_sqlite
    message_id, client_id, url = make_call(
        "announcement", language="en", body="Our office is closed on Monday."
    )
    root = voice.call(url)
    assert [c.text for c in root.findall("Say")][1] == "Our office is closed on Monday."
    assert root[-1].tag == "Hangup"
    assert outcome(message_id)["outcome"] == "played"


def test_forged_or_missing_signature_is_refused_and_not_processed(voice_sqlite):
    voice = voice_sqlite
    message_id, client_id, url = make_call("reminder", language="en")
    gather_url = f"{url}/gather?step=start&attempt=1"
    forged = RequestValidator("someone-elses-token").compute_signature(gather_url, {"Digits": "1"})
    assert voice.post(gather_url, {"Digits": "1"}, signature=forged).status_code == 403
    # a valid signature for other parameters does not cover a changed digit
    signed_for_2 = voice.validator.compute_signature(gather_url, {"Digits": "2"})
    assert voice.post(gather_url, {"Digits": "1"}, signature=signed_for_2).status_code == 403
    # signed for the internal address instead of the public one (proxy confusion)
    local = voice.validator.compute_signature(
        f"http://testserver/api/voice/reminder/{message_id}/gather?step=start&attempt=1",
        {"Digits": "1"},
    )
    assert voice.post(gather_url, {"Digits": "1"}, signature=local).status_code == 403
    missing = voice.client.post(urlsplit(url).path, data={"CallSid": "CA1"})
    assert missing.status_code == 403
    # Twilio configured with GET: the query string is part of what is signed
    get_url = f"{url}?CallSid=CA9&From=%2B40722123456"
    local_get = urlsplit(get_url).path + "?" + urlsplit(get_url).query
    good = voice.validator.compute_signature(get_url, {})
    answer = voice.client.get(local_get, headers={"X-Twilio-Signature": good})
    assert answer.status_code == 200 and "<Gather" in answer.text
    tampered = local_get.replace("CA9", "CA8")
    assert voice.client.get(tampered, headers={"X-Twilio-Signature": good}).status_code == 403
    assert outcome(message_id) == {} and history(client_id) == []


def test_bad_input_gets_clear_errors(voice_sqlite):
    voice = voice_sqlite
    message_id, _, url = make_call("reminder", language="en")
    answer = voice.post(f"{url}/gather?step=nowhere&attempt=1", {"Digits": "1"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "step"]
    answer = voice.post(f"{url}/gather?step=start&attempt=9", {"Digits": "1"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["query", "attempt"]
    assert voice.post(f"{PUBLIC}/api/voice/reminder/999999", {}).status_code == 404
    # the message belongs to the reminder script: it cannot be played as a rating
    assert voice.post(f"{PUBLIC}/api/voice/rating/{message_id}", {}).status_code == 404
    assert voice.post(f"{PUBLIC}/api/voice/nope/{message_id}", {}).status_code == 404
    assert outcome(message_id) == {}


def test_enqueue_call_names_bad_fields(sqlite_database):
    from crm_core.database import session_scope
    from crm_core.errors import Invalid
    from voicebots.service import enqueue_call

    with session_scope() as db:
        with pytest.raises(Invalid) as bad_script:
            enqueue_call(db, script="poem", recipient="+40722123456", idempotency_key="k1")
        with pytest.raises(Invalid) as bad_language:
            enqueue_call(
                db, script="rating", recipient="+40722123456", idempotency_key="k2", language="de"
            )
        with pytest.raises(Invalid) as bad_prompt:
            enqueue_call(
                db,
                script="announcement",
                recipient="+40722123456",
                idempotency_key="k3",
                body="x",
                values={"prompt": "a b\nHANGUP"},
            )
    assert bad_prompt.value.loc == ["values", "prompt"]
    assert bad_script.value.loc == ["script"]
    assert bad_language.value.loc == ["language"]


def test_from_outbox_to_twilio_and_back(database, monkeypatch):
    """enqueue_call -> the app's own outbox dispatcher -> Twilio (simulator) dials with our URL
    -> the client answers and confirms: the outcome lands on the message and in the history."""
    import time

    from callcard.settings import get_settings
    from crm_core.clients.models import Client
    from crm_core.database import session_scope
    from notifier.simulator.twilio_api import TwilioSim
    from voicebots.service import enqueue_call

    sim = TwilioSim(auth_token=TOKEN).start()
    app = _app(
        monkeypatch,
        voice_channel="twilio",
        twilio_base_url=sim.url,
        twilio_account_sid=sim.account_sid,
        twilio_from_number="+40312000000",
        dispatch_interval_seconds="0.2",
    )
    try:
        with app as client:
            voice = Twilio(client)
            with session_scope() as db:
                person = Client(kind="person", first_name="Ana", display_name="Ana Pop")
                db.add(person)
                db.flush()
                message_id = enqueue_call(
                    db,
                    script="reminder",
                    recipient="+40722123457",
                    idempotency_key="e2e-voice-reminder",
                    body="Your appointment is tomorrow at 10:00.",
                    client_id=person.id,
                    language="en",
                    quiet_hours=False,
                ).id
                client_id = person.id
            deadline = time.monotonic() + 15
            while not sim.messages and time.monotonic() < deadline:
                time.sleep(0.1)
            (call,) = sim.messages.values()
            assert call.resource == "Calls" and call.to == "+40722123457"
            assert call.body == f"{PUBLIC}/api/voice/reminder/{message_id}"  # the Url it fetches
            first = voice.call(call.body, {"CallSid": call.sid})
            assert "tomorrow at 10:00" in first.find("Say").text
            action = first.find("Gather").attrib["action"]
            voice.call(action, {"Digits": "1", "CallSid": call.sid})
            got = outcome(message_id)
            assert (got["outcome"], got["call_sid"]) == ("confirmed", call.sid)
            assert history(client_id)[0][2] == "confirmed"
    finally:
        sim.stop()
        get_settings.cache_clear()

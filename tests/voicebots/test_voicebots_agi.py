"""The FastAGI server on a real TCP socket, driven by a small AGI client speaking the protocol."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.database import session_scope
from tests.voicebots.test_voicebots_webhooks import history, make_call, outcome, ratings
from voicebots.agi import FastAgiServer


class FakeAsterisk:
    """One call: sends the agi_ header block, answers each command like Asterisk would.

    ``keys`` are the answers to ``GET DATA`` in order (``None`` = timeout, ``"hangup"`` = the
    caller hangs up while the question plays).
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.commands: list[str] = []

    async def call(self, script: str, *args: str, keys: list[str | None] = ()) -> list[str]:
        keys = list(keys)
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        headers = {
            "agi_network": "yes",
            "agi_network_script": script,
            "agi_request": f"agi://127.0.0.1:{self.port}/{','.join([script, *args])}",
            "agi_channel": "PJSIP/trunk-00000007",
            "agi_language": "en",
            "agi_type": "PJSIP",
            "agi_uniqueid": "pbx-1714000000.17",
            "agi_version": "20.5.0",
            "agi_callerid": "+40722123456",
            "agi_calleridname": "unknown",
            "agi_context": "callcard-voice",
            "agi_extension": "s",
            "agi_priority": "2",
            "agi_enhanced": "0.0",
            "agi_accountcode": "",
            "agi_threadid": "140001",
        }
        for n, value in enumerate(args, 1):
            headers[f"agi_arg_{n}"] = value
        block = "".join(f"{k}: {v}\n" for k, v in headers.items()) + "\n"
        writer.write(block.encode())
        await writer.drain()
        commands: list[str] = []
        while True:
            line = await asyncio.wait_for(reader.readline(), 10)
            if not line:
                break
            command = line.decode().rstrip("\n")
            commands.append(command)
            if command.startswith("GET DATA"):
                key = keys.pop(0)
                reply = {None: "200 result= (timeout)", "hangup": "200 result=-1"}.get(
                    key, f"200 result={key}"
                )
            elif command == "HANGUP":
                reply = "200 result=1"
            else:
                reply = "200 result=0"
            writer.write(f"{reply}\n".encode())
            await writer.drain()
            if reply == "200 result=-1":
                break
        writer.close()
        assert not keys, f"unused key presses {keys}"
        self.commands = commands
        return commands


async def _serve():
    server = FastAgiServer("127.0.0.1", 0)
    await server.start()
    return server


@pytest.fixture
async def asterisk(database):
    server = await _serve()
    yield FakeAsterisk(server.port)
    await server.stop()


@pytest.fixture
async def asterisk_sqlite(sqlite_database):
    """For tests of the AGI dialogue itself (SQLite only)."""
    server = await _serve()
    yield FakeAsterisk(server.port)
    await server.stop()


async def test_reminder_confirmed_over_fastagi(asterisk):
    message_id, client_id, _ = make_call("reminder", language="ro")
    commands = await asterisk.call("reminder", str(message_id), keys=["1"])
    assert commands == [
        "ANSWER",
        'SET VARIABLE "CHANNEL(language)" "ro"',
        "EXEC Playback callcard/reminder-intro",
        "GET DATA callcard/reminder-ask 6000 1",
        "EXEC Playback callcard/reminder-confirmed",
        "HANGUP",
    ]
    got = outcome(message_id)
    assert (got["outcome"], got["via"], got["digit"]) == ("confirmed", "asterisk", "1")
    assert got["call_sid"] == "pbx-1714000000.17"
    assert history(client_id) == [
        ("call", "reminder", "confirmed", "Automated reminder call: confirmed", "outbound")
    ]


async def test_wrong_key_and_silence_then_goodbye_over_fastagi(asterisk_sqlite):
    asterisk = asterisk_sqlite
    message_id, client_id, _ = make_call("reminder", language="en")
    commands = await asterisk.call("reminder", str(message_id), keys=["8", None, "#"])
    ask = "GET DATA callcard/reminder-ask 6000 1"
    assert commands == [
        "ANSWER",
        'SET VARIABLE "CHANNEL(language)" "en"',
        "EXEC Playback callcard/reminder-intro",
        ask,
        "EXEC Playback callcard/sorry",
        ask,
        "EXEC Playback callcard/sorry",
        ask,
        "EXEC Playback callcard/no-answer-goodbye",
        "HANGUP",
    ]
    assert outcome(message_id)["outcome"] == "no_input"
    assert history(client_id)[0][2] == "no_input"


async def test_rating_over_fastagi(asterisk_sqlite):
    asterisk = asterisk_sqlite
    message_id, client_id, _ = make_call("rating", language="ru")
    commands = await asterisk.call("rating", str(message_id), keys=["5"])
    assert commands[1] == 'SET VARIABLE "CHANNEL(language)" "ru"'
    assert commands[2:] == [
        "EXEC Playback callcard/rating-intro",
        "GET DATA callcard/rating-ask 6000 1",
        "EXEC Playback callcard/rating-thanks",
        "HANGUP",
    ]
    got = outcome(message_id)
    assert (got["outcome"], got["rating"]) == ("rating", 5)
    assert ratings(client_id) == ([("answered", 5, "call")], 5)


async def test_low_rating_answers_the_survey_and_alerts_a_manager(asterisk, users):
    from sqlalchemy import select

    from crm_core.clients.models import Client
    from crm_core.database import session_scope
    from crm_core.tasks.models import Task
    from notifier.surveys.models import Survey
    from voicebots.service import enqueue_call

    manager = users.add("maria", role="manager", team="Sales")
    with session_scope() as db:
        client = Client(kind="person", first_name="Ion", display_name="Ion Popa", language="ro")
        db.add(client)
        db.flush()
        survey = Survey(
            client_id=client.id,
            phone_e164="+40722000111",
            source="visit",
            source_ref="task-77",
            team_id=manager.team_id,
        )
        db.add(survey)
        db.flush()
        message = enqueue_call(
            db,
            script="rating",
            recipient="+40722000111",
            idempotency_key="agi-low-rating",
            client_id=client.id,
            survey_id=survey.id,
        )
        message_id, client_id, survey_id = message.id, client.id, survey.id
    commands = await asterisk.call("rating", str(message_id), keys=["2"])
    assert commands[1] == 'SET VARIABLE "CHANNEL(language)" "ro"'  # the client's language
    with session_scope() as db:
        survey = db.get(Survey, survey_id)
        assert (survey.status, survey.rating) == ("answered", 2)
        task = db.scalar(select(Task).where(Task.client_id == client_id))
        assert task is not None and task.id == survey.low_rating_task_id
        assert task.assignee_id == manager.id and "2/5" in task.title
    assert ratings(client_id) == ([("answered", 2, "visit")], 2)


async def test_announcement_plays_the_prompt_named_by_the_message(asterisk_sqlite):
    asterisk = asterisk_sqlite
    from crm_core.database import session_scope
    from voicebots.service import enqueue_call

    with session_scope() as db:
        message = enqueue_call(
            db,
            script="announcement",
            recipient="+40722123456",
            idempotency_key="agi-announcement",
            body="Closed on Monday.",
            values={"prompt": "closed-monday"},
        )
        message_id = message.id
    commands = await asterisk.call("announcement", str(message_id))
    assert commands[2:] == [
        "EXEC Playback callcard/announcement-intro",
        "EXEC Playback callcard/closed-monday",
        "EXEC Playback callcard/goodbye",
        "HANGUP",
    ]
    assert outcome(message_id)["outcome"] == "played"


async def test_caller_hanging_up_records_nothing(asterisk_sqlite):
    asterisk = asterisk_sqlite
    message_id, client_id, _ = make_call("reminder", language="en")
    commands = await asterisk.call("reminder", str(message_id), keys=["hangup"])
    assert commands[-1] == "GET DATA callcard/reminder-ask 6000 1"
    await asyncio.sleep(0.1)
    assert outcome(message_id) == {} and history(client_id) == []


async def test_unknown_message_or_script_hangs_up_and_server_keeps_serving(asterisk_sqlite):
    asterisk = asterisk_sqlite
    assert await asterisk.call("reminder", "999999") == ["HANGUP"]
    assert await asterisk.call("reminder") == ["HANGUP"]
    assert await asterisk.call("poem", "1") == []  # no such route: connection closed
    # a peer that disconnects in the middle of its header block is dropped
    reader, writer = await asyncio.open_connection("127.0.0.1", asterisk.port)
    writer.write(b"agi_network: yes\nagi_network_scr")
    await writer.drain()
    writer.close()
    message_id, _, _ = make_call("reminder", language="en")
    commands = await asterisk.call("reminder", str(message_id), keys=["2"])
    assert commands[-2:] == ["EXEC Playback callcard/reminder-cancel", "HANGUP"]
    assert outcome(message_id)["outcome"] == "cancel_requested"


async def test_cancel_request_gives_the_owner_a_call_back_task(asterisk, users):
    from datetime import UTC, datetime

    from crm_core.auth.principal import SYSTEM
    from crm_core.clients.models import Client
    from crm_core.database import session_scope
    from crm_core.tasks.models import Task
    from crm_core.tasks.service import create_task
    from voicebots.service import enqueue_call

    owner = users.add("olga", role="operator", team="Sales")
    with session_scope() as db:
        client = Client(kind="person", first_name="Vera", display_name="Vera Lungu")
        client.owner_id = owner.id
        db.add(client)
        db.flush()
        event = create_task(
            db,
            SYSTEM,
            title="Dental check-up",
            kind="event",
            client_id=client.id,
            starts_at=datetime(2030, 5, 6, 7, 30, tzinfo=UTC),
        )
        message_id = enqueue_call(
            db,
            script="reminder",
            recipient="+40722000222",
            idempotency_key="agi-cancel-owner",
            client_id=client.id,
            task_id=event.id,
        ).id
    await asterisk.call("reminder", str(message_id), keys=["2"])
    with session_scope() as db:
        task = db.get(Task, outcome(message_id)["callback_task_id"])
        assert task.assignee_id == owner.id
        assert task.title == "Call back Vera Lungu: wants to cancel Dental check-up"
        assert "2030-05-06 07:30 UTC" in task.description
    _reads_in_romanian(outcome(message_id)["callback_task_id"])


def _reads_in_romanian(task_id: int) -> None:
    """The task and the call's history entry as a Romanian manager in Chisinau reads them."""
    from sqlalchemy import select

    from callcard.parts import connect_parts
    from crm_core import wording
    from crm_core.auth.principal import Principal
    from crm_core.database import session_scope
    from crm_core.history.models import Interaction
    from crm_core.tasks.models import Task

    connect_parts()
    reader = Principal(1, "dana", "manager", language="ro", timezone="Europe/Chisinau")
    with session_scope() as db, wording.reading_as(reader):
        task = db.get(Task, task_id)
        shown = wording.shown_tasks(db, [task])[0]
        assert shown.title == "Sună înapoi pe Vera Lungu: vrea să anuleze Dental check-up"
        assert "anula Dental check-up din 06.05.2030, 10:30." in shown.description
        entry = db.scalars(
            select(Interaction).where(
                Interaction.client_id == task.client_id, Interaction.kind == "call"
            )
        ).one()
        assert entry.subject == "Automated reminder call: cancellation requested"
        subjects = wording.shown_subjects(db, [entry])
        assert subjects == ["Apel automat de reamintire: a cerut anularea"]


REPLIES = st.one_of(
    st.sampled_from(
        [
            "200 result=0",
            "200 result=1",
            "200 result=2",
            "200 result=9",
            "200 result=*",
            "200 result= (timeout)",
            "200 result=-1",
            "510 Invalid or unknown command",
            "HANGUP",
            "",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_characters="\n\r", codec="utf-8"), max_size=30),
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(script=st.sampled_from(["reminder", "rating"]), replies=st.lists(REPLIES, max_size=12))
def test_any_answers_from_asterisk_end_the_call_cleanly(sqlite_database, script, replies):
    """Whatever Asterisk answers (hang-ups, errors, garbage), the server ends the call, never
    hangs, and the message has at most one outcome, from the script's list."""
    from voicebots.service import enqueue_call

    with session_scope() as db:
        message_id = enqueue_call(
            db,
            script=script,
            recipient="+40722000333",
            idempotency_key=f"agi-fuzz-{uuid.uuid4().hex}",
        ).id

    async def run() -> list[str]:
        server = await _serve()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(
                f"agi_network: yes\nagi_network_script: {script}\nagi_arg_1: {message_id}\n\n".encode()
            )
            answers = list(replies)
            commands = []
            while True:
                line = await asyncio.wait_for(reader.readline(), 10)
                if not line:
                    break
                commands.append(line.decode())
                assert len(commands) <= 20, "the server does not end the call"
                reply = answers.pop(0) if answers else "200 result= (timeout)"
                writer.write(f"{reply}\n".encode())
                await writer.drain()
            writer.close()
            return commands
        finally:
            await server.stop()

    commands = asyncio.run(run())
    assert commands and commands[0] == "ANSWER\n"
    got = outcome(message_id)
    if got:
        assert got["outcome"] in {"confirmed", "cancel_requested", "rating", "no_input"}


def test_embedded_fastagi_server_runs_with_the_app(sqlite_database, monkeypatch):
    """CALLCARD_VOICE_AGI_EMBEDDED=true: the web process itself answers Asterisk."""
    from tests.conftest import free_port
    from tests.voicebots.test_voicebots_webhooks import _app

    port = free_port()
    with _app(
        monkeypatch,
        embedded_dispatcher="false",
        voice_agi_embedded="true",
        voice_agi_port=str(port),
    ):
        message_id, _, _ = make_call("reminder", language="en")
        commands = asyncio.run(FakeAsterisk(port).call("reminder", str(message_id), keys=["1"]))
    assert commands[-2:] == ["EXEC Playback callcard/reminder-confirmed", "HANGUP"]
    assert outcome(message_id)["outcome"] == "confirmed"
    with pytest.raises(OSError):  # stopped with the app
        asyncio.run(asyncio.open_connection("127.0.0.1", port))


class RecordingPbx:
    """CTI's AMI replay server (a real TCP AMI server) that also keeps each Originate."""

    @staticmethod
    async def start():
        from cti.simulator.server import AmiReplayServer

        class Server(AmiReplayServer):
            def _originate(self, session, action):
                self.originates.append(dict(action))
                super()._originate(session, action)

        server = Server(username="crm", secret="s3cret")
        server.originates = []
        return await server.start()


def _use_pbx(monkeypatch, port: int) -> None:
    from callcard.settings import get_settings

    for key, value in {
        "VOICE_CHANNEL": "asterisk",
        "AMI_HOST": "127.0.0.1",
        "AMI_PORT": str(port),
        "AMI_USERNAME": "crm",
        "AMI_SECRET": "s3cret",
        "VOICE_ORIGINATE_CALLER_ID": "+40312000000",
    }.items():
        monkeypatch.setenv(f"CALLCARD_{key}", value)
    get_settings.cache_clear()


def _dispatch() -> None:
    from callcard.settings import get_settings
    from notifier.outbox.dispatch import Dispatcher

    dispatcher = Dispatcher(get_settings())
    try:
        dispatcher.drain(timeout=10)
    finally:
        dispatcher.close()


def _status(message_id: int) -> tuple[str, str | None, str]:
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        row = db.get(OutboxMessage, message_id)
        return row.status, row.provider_id, row.error_code


async def test_outbox_dials_through_asterisk_then_the_script_runs(asterisk, monkeypatch):
    pbx = await RecordingPbx.start()
    try:
        _use_pbx(monkeypatch, pbx.port)
        message_id, client_id, _ = make_call("reminder", language="en", quiet_hours=False)
        await asyncio.to_thread(_dispatch)
        (originate,) = pbx.originates
        assert originate["channel"] == "PJSIP/40722123456@trunk"
        assert (originate["context"], originate["exten"], originate["async"]) == (
            "callcard-voice",
            "s",
            "true",
        )
        assert originate["variable"] == f"VOICE_SCRIPT=reminder,MESSAGE_ID={message_id}"
        status, provider_id, _ = _status(message_id)
        assert status == "sent" and provider_id == originate["actionid"]
        # the client answers: the dialplan runs AGI(agi://.../${VOICE_SCRIPT},${MESSAGE_ID})
        variables = dict(v.split("=", 1) for v in originate["variable"].split(","))
        await asterisk.call(variables["VOICE_SCRIPT"], variables["MESSAGE_ID"], keys=["1"])
        assert outcome(message_id)["outcome"] == "confirmed"
        assert history(client_id)[0][2] == "confirmed"
    finally:
        await pbx.stop()


def test_unreachable_pbx_means_retry_later_not_lost(sqlite_database, monkeypatch):
    from tests.conftest import free_port

    _use_pbx(monkeypatch, free_port())  # nobody listens there
    message_id, _, _ = make_call("rating", language="en", quiet_hours=False)
    _dispatch()
    status, provider_id, error_code = _status(message_id)
    assert (status, provider_id, error_code) == ("retry", None, "connect")

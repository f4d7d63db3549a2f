"""Rating surveys: created after answered calls / completed visits, answered by SMS replies."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import notifier.hooks  # noqa: F401
from crm_core.auth.models import Team, User
from crm_core.auth.principal import SYSTEM
from crm_core.bus import get_bus
from crm_core.clients.models import Client
from crm_core.database import session_scope, utcnow
from crm_core.history.models import Interaction
from crm_core.tasks import service as tasks
from crm_core.tasks.models import Task
from cti.calllog.models import Call
from notifier.inbound.service import handle_inbound_sms
from notifier.surveys import csat
from notifier.surveys import service as surveys
from notifier.surveys.models import Survey
from notifier.surveys.parsing import parse_rating
from tests.factories import client_row, outbox_rows

PHONE = "+40712345678"


def _call(db, client, operator, *, minutes_ago=10, **kw) -> Call:
    ended = utcnow() - timedelta(minutes=minutes_ago)
    values = dict(
        linkedid=kw.pop("linkedid", f"1700000000.{db.scalar(select(Call.id).order_by(Call.id.desc()).limit(1)) or 0 + 1}{minutes_ago}"),
        direction="inbound", number=PHONE, e164=client.phone_e164 if hasattr(client, "phone_e164") else PHONE,
        started_at=ended - timedelta(minutes=4), answered_at=ended - timedelta(minutes=3),
        ended_at=ended, talk_s=180.0, disposition="answered", client_id=client.id,
        answered_extension=operator.extension if operator else None,
        answered_user_id=operator.id if operator else None,
        team_id=operator.team_id if operator else None, created_at=ended,
    )  # fmt: skip
    values.update(kw)
    call = Call(**values)
    db.add(call)
    db.flush()
    return call


@pytest.fixture
def team(db, users):
    boss = users.add("maria", role="manager", team="Sales")
    op = users.add("ion", role="operator", team="Sales", extension="101")
    team = db.scalar(select(Team).where(Team.name == "Sales"))
    team.manager_id = boss.id
    db.commit()
    return {"manager": boss, "operator": op, "team": team}


def test_answered_inbound_call_gets_one_survey_after_the_delay(db, team):
    client = client_row(db)
    call = _call(db, client, team["operator"], linkedid="1.1")
    db.commit()
    assert surveys.scan_calls(db) == 1
    db.commit()
    survey = db.scalar(select(Survey))
    assert (survey.client_id, survey.call_id, survey.operator_user_id) == (
        client.id, call.id, team["operator"].id,
    )  # fmt: skip
    [sms] = outbox_rows(db, "survey:")
    assert sms.recipient == PHONE and sms.channel == "sms"
    assert sms.due_at >= call.ended_at + timedelta(minutes=5)
    assert "1" in sms.body and "5" in sms.body
    assert surveys.scan_calls(db) == 0  # nothing twice
    db.commit()
    assert len(outbox_rows(db, "survey:")) == 1


def test_only_answered_inbound_long_enough_calls_are_surveyed(db, team):
    op = team["operator"]
    a = client_row(db, name="A A", phone="+40712000001")
    b = client_row(db, name="B B", phone="+40712000002")
    c = client_row(db, name="C C", phone="+40712000003")
    _call(
        db, a, op, linkedid="2.1", e164="+40712000001", disposition="missed", answered_user_id=None
    )
    _call(db, b, op, linkedid="2.2", e164="+40712000002", direction="outbound")
    _call(db, c, op, linkedid="2.3", e164="+40712000003", talk_s=3.0)
    db.commit()
    assert surveys.scan_calls(db) == 0
    db.commit()
    assert db.scalar(select(Survey.id)) is None


def test_at_most_one_survey_per_client_per_period(db, team):
    client = client_row(db)
    _call(db, client, team["operator"], linkedid="3.1", minutes_ago=20)
    _call(db, client, team["operator"], linkedid="3.2", minutes_ago=10)
    db.commit()
    assert surveys.scan_calls(db) == 1
    db.commit()
    assert len(list(db.scalars(select(Survey)))) == 1


def test_a_call_logged_moments_ago_waits_for_the_next_scan(db, team):
    client = client_row(db)
    call = _call(db, client, team["operator"], linkedid="4.1", minutes_ago=0)
    call.created_at = utcnow()
    db.commit()
    assert surveys.scan_calls(db) == 0
    db.commit()
    assert surveys.scan_calls(db, now=utcnow() + timedelta(minutes=1)) == 1


def test_no_survey_to_an_opted_out_number(db, team):
    client = client_row(db)
    handle_inbound_sms(
        db, from_number=PHONE, to_number="+15005550006", body="STOP", provider_id="SM-stop"
    )
    _call(db, client, team["operator"], linkedid="5.1")
    db.commit()
    assert surveys.scan_calls(db) == 0


def _open_survey(db, team, linkedid="6.1"):
    client = client_row(db)
    call = _call(db, client, team["operator"], linkedid=linkedid)
    db.commit()
    surveys.scan_calls(db)
    survey = db.scalar(select(Survey))
    survey.send_at = utcnow() - timedelta(minutes=1)  # the SMS has gone out
    db.commit()
    return client, call, survey


def _collect(coro_fn):
    async def run():
        async with get_bus().subscribe() as sub:
            coro_fn()
            await asyncio.sleep(0.05)
            out = []
            while not sub.queue.empty():
                out.append(sub.queue.get_nowait())
            return out

    return asyncio.run(run())


def test_a_reply_is_stored_as_the_rating_of_the_call_and_the_operator(db, team):
    client, call, survey = _open_survey(db, team)

    def reply():
        with session_scope() as s:
            result = handle_inbound_sms(s, from_number="0712 345 678", to_number="+15005550006",
                                        body="5 stars, thank you!", provider_id="SM1")  # fmt: skip
            assert (result.outcome, result.rating) == ("rating", 5)

    events = _collect(reply)
    db.expire_all()
    survey = db.get(Survey, survey.id)
    assert (survey.status, survey.rating) == ("answered", 5)
    fresh = db.get(Client, client.id)
    assert fresh.last_rating == 5 and fresh.last_rated_at is not None
    entry = db.scalar(select(Interaction).where(Interaction.kind == "rating"))
    assert entry.client_id == client.id and entry.call_id == call.linkedid
    rated = [e for e in events if e["type"] == "survey.rated"]
    assert len(rated) == 1
    assert rated[0]["audience"] == ["wall", f"user:{team['operator'].id}"]
    assert rated[0]["operator_user_id"] == team["operator"].id and rated[0]["rating"] == 5
    assert not [e for e in events if e["type"] == "survey.low_rating"]
    assert db.scalar(select(Task.id)) is None
    [thanks] = outbox_rows(db, f"survey:{survey.id}:thanks")
    assert thanks.recipient == PHONE and "Thank you" in thanks.body


def test_a_low_rating_creates_a_task_for_the_operators_manager(db, team):
    client, call, survey = _open_survey(db, team)

    def reply():
        with session_scope() as s:
            handle_inbound_sms(s, from_number=PHONE, to_number="", body="doi", provider_id="SM2")

    events = _collect(reply)
    db.expire_all()
    task = db.scalar(select(Task))
    assert task.assignee_id == team["manager"].id
    assert task.client_id == client.id and task.call_id == call.linkedid
    assert "2/5" in task.title
    _reads_in_russian(db, task)
    low = [e for e in events if e["type"] == "survey.low_rating"]
    assert len(low) == 1
    assert low[0]["audience"] == ["wall", f"user:{team['manager'].id}"]
    assert low[0]["task_id"] == task.id and low[0]["manager_user_id"] == team["manager"].id


def _reads_in_russian(db, task) -> None:
    """The manager reads the task and the rating entry in Russian; the stored English stays."""
    from callcard.parts import connect_parts
    from crm_core import wording
    from crm_core.auth.principal import Principal

    connect_parts()
    assert task.title.startswith("Low rating 2/5 from ")
    entry = db.scalar(select(Interaction).where(Interaction.kind == "rating"))
    assert entry.subject == "Rating 2/5"
    with wording.reading_as(Principal(1, "vera", "manager", language="ru")):
        shown = wording.shown_tasks(db, [task])[0]
        assert shown.title.startswith("Низкая оценка 2/5 от клиента ")
        assert shown.description.startswith("Клиент оценил обслуживание на 2/5 (звонок принял(а) ")
        assert shown.description.endswith("Ответ: doi")
        assert wording.shown_subjects(db, [entry]) == ["Оценка 2/5"]


def test_an_unreadable_reply_gets_exactly_one_polite_clarification(db, team):
    client, _, survey = _open_survey(db, team)
    first = handle_inbound_sms(db, from_number=PHONE, to_number="", body="what?", provider_id="SM3")
    second = handle_inbound_sms(
        db, from_number=PHONE, to_number="", body="hmm no idea", provider_id="SM4"
    )
    db.commit()
    assert first.outcome == "clarification"
    assert second.outcome == "history"  # the second lands in the history, no new clarification
    clarifications = outbox_rows(db, f"survey:{survey.id}:clarify")
    assert len(clarifications) == 1 and "1" in clarifications[0].body
    third = handle_inbound_sms(db, from_number=PHONE, to_number="", body="пять", provider_id="SM5")
    db.commit()
    assert (third.outcome, third.rating) == ("rating", 5)


def test_a_repeated_webhook_is_processed_once(db, team):
    _open_survey(db, team)
    a = handle_inbound_sms(db, from_number=PHONE, to_number="", body="1", provider_id="SM6")
    b = handle_inbound_sms(db, from_number=PHONE, to_number="", body="1", provider_id="SM6")
    db.commit()
    assert a.outcome == "rating" and b.duplicate
    assert len(list(db.scalars(select(Task)))) == 1


def test_a_completed_visit_gets_a_survey(db, team):
    client = client_row(db)
    visit = tasks.create_task(
        db, SYSTEM, title="Visit", client_id=client.id, kind="event", event_type="visit",
        starts_at=utcnow() - timedelta(hours=1), assignee_id=team["operator"].id,
    )  # fmt: skip
    db.commit()
    assert db.scalar(select(Survey.id)) is None
    tasks.complete_task(db, SYSTEM, visit.id)
    db.commit()
    survey = db.scalar(select(Survey))
    assert (survey.source, survey.source_ref, survey.operator_user_id) == (
        "visit", str(visit.id), team["operator"].id,
    )  # fmt: skip
    assert len(outbox_rows(db, "survey:")) == 1


def test_csat_per_operator_and_team(db, team, users):
    other = users.add("dan", role="operator", team="Support", extension="201")
    now = utcnow()
    for i, (op, rating) in enumerate(
        [(team["operator"], 5), (team["operator"], 4), (team["operator"], 2), (other, 5)]
    ):
        client = client_row(db, name=f"K {i}", phone=f"+4071300000{i}")
        op_row = db.get(User, op.id)
        db.add(Survey(client_id=client.id, phone_e164=f"+4071300000{i}", source="call",
                      source_ref=f"x{i}", operator_user_id=op.id, team_id=op_row.team_id,
                      status="answered", rating=rating, answered_at=now - timedelta(hours=1)))  # fmt: skip
    db.add(Survey(client_id=client.id, phone_e164="+40713000009", source="call", source_ref="old",
                  operator_user_id=other.id, team_id=db.get(User, other.id).team_id,
                  status="answered", rating=1, answered_at=now - timedelta(days=20)))  # fmt: skip
    db.commit()
    from tests.factories import principal_of

    result = csat.csat(db, principal_of(team["manager"]), "7d")
    ops = {o["user_id"]: o for o in result["operators"]}
    assert ops[team["operator"].id]["responses"] == 3
    assert ops[team["operator"].id]["average"] == pytest.approx(3.67, abs=0.01)
    assert ops[team["operator"].id]["csat"] == pytest.approx(66.7, abs=0.1)
    assert ops[other.id]["responses"] == 1  # the 20-day-old rating is outside 7d
    assert result["overall"]["responses"] == 4
    assert {t["name"] for t in result["teams"]} == {"Sales", "Support"}
    mine = csat.csat(db, principal_of(team["operator"]), "30d")
    assert {o["user_id"] for o in mine["operators"]} == {team["operator"].id}


# --- reply parsing (property tests) ---------------------------------------------------

WORDS = {
    1: ["one", "unu", "один", "terrible", "ужасно"],
    2: ["two", "doi", "două", "два", "bad", "плохо"],
    3: ["three", "trei", "три", "ok"],
    4: ["four", "patru", "четыре", "good", "bine", "хорошо"],
    5: ["five", "cinci", "пять", "excellent", "excelent", "отлично"],
}
FILLER = st.sampled_from(["", " ", "!", ".", " thanks", " мерси", " multumesc", " :)"])


@given(st.integers(1, 5), FILLER, FILLER, st.sampled_from(["", " stars", " stele", " звезд", "/5"]))
def test_a_lone_digit_is_the_rating(value, before, after, unit):
    assert parse_rating(f"{before.strip()} {value}{unit}{after}") == value


@given(st.integers(1, 5), st.sampled_from(["⭐", "★", "⭐️"]), FILLER)
def test_stars_are_counted(count, star, after):
    assert parse_rating(star * count + after) == count


@given(st.sampled_from([(v, w) for v, ws in WORDS.items() for w in ws]), st.booleans(), FILLER)
def test_words_in_three_languages(pair, upper, after):
    value, word = pair
    assert parse_rating((word.upper() if upper else word.capitalize()) + after) == value


@given(st.integers().filter(lambda n: not 1 <= n <= 5), FILLER)
def test_numbers_out_of_range_are_not_ratings(number, after):
    assert parse_rating(f"{number}{after}") is None


@given(st.text(alphabet="xyzqwvkjh ,.?", max_size=40))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_text_without_a_rating_is_none(text):
    assert parse_rating(text) is None


@given(st.integers(1, 5), st.integers(1, 5).filter(lambda n: True))
def test_two_different_numbers_are_ambiguous(a, b):
    if a != b:
        assert parse_rating(f"{a} or {b}") is None


def test_periodic_jobs_survey_new_calls_and_expire_unanswered_surveys(db, team):
    from notifier.jobs import run_all

    client = client_row(db)
    _call(db, client, team["operator"], linkedid="9.1")
    other = client_row(db, name="Old Survey", phone="+40712999999")
    db.add(Survey(client_id=other.id, phone_e164="+40712999999", source="call", source_ref="old",
                  status="open", send_at=utcnow() - timedelta(days=4)))  # fmt: skip
    db.commit()
    counts = run_all()
    assert counts["call_surveys"] == 1 and counts["expired_surveys"] == 1
    db.expire_all()
    assert db.scalar(select(Survey.status).where(Survey.source_ref == "old")) == "expired"
    # a reply to an expired survey is an ordinary message
    result = handle_inbound_sms(
        db, from_number="+40712999999", to_number="", body="5", provider_id="SMx"
    )
    assert result.outcome == "history"


@pytest.mark.parametrize("reply", ["-3", "3.5", "4,5", "-4/5", "5 or 4", "10/10"])
def test_negative_decimal_and_ambiguous_numbers_are_not_ratings(reply):
    assert parse_rating(reply) is None

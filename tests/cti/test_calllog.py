"""The call log: every finished call stored once, in the client's history, missed calls to return."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import CALL_START, client_row, finished_call


def _log(facts):
    from crm_core.database import session_scope
    from cti.calllog.finished import log_call

    with session_scope() as s:
        call = log_call(s, facts)
        return call.id if call else None


def test_answered_call_is_logged_once_and_lands_in_client_history(db, users):
    from crm_core.history.models import Interaction
    from cti.calllog.models import Call, CallLeg

    ana = users.add("ana", extension="101")
    client = client_row(db, "Ion Popescu", "+40721234567", email=None, team_id=ana.team_id)
    db.commit()
    facts = finished_call("1700000000.1", transfers=[{"from": "101", "to": "103", "kind": "blind"}])
    assert _log(facts) is not None
    assert _log(facts) is None  # a resync or reconnect reports the same call again
    db.expire_all()
    calls = db.scalars(select(Call)).all()
    assert len(calls) == 1
    call = calls[0]
    assert (call.client_id, call.answered_user_id, call.team_id) == (client.id, ana.id, ana.team_id)
    assert (call.number, call.e164, call.disposition) == ("0721234567", "+40721234567", "answered")
    assert call.transfers == [{"from": "101", "to": "103", "kind": "blind"}]
    assert [(leg.extension, leg.user_id, leg.answered) for leg in db.scalars(select(CallLeg))] == [
        ("101", ana.id, True)
    ]
    entry = db.scalars(select(Interaction).where(Interaction.client_id == client.id)).one()
    assert (entry.kind, entry.call_id, entry.duration_s) == ("call", "1700000000.1", 35)
    assert (entry.direction, entry.result_code, entry.author_id) == ("inbound", "answered", ana.id)


def test_missed_call_from_known_client_creates_one_callback_task_for_the_owner(db, users):
    from crm_core.tasks.models import Task

    owner = users.add("olga", extension="105")
    users.add("ana", extension="102")
    client = client_row(
        db, "Maria", "+40721234567", email=None, team_id=owner.team_id, owner_id=owner.id
    )
    db.commit()
    facts = finished_call("1700000000.2", disposition="missed", rang=["102"])
    _log(facts)
    _log(facts)
    tasks = db.scalars(select(Task).where(Task.source == "missed_call")).all()
    assert len(tasks) == 1
    task = tasks[0]
    assert (task.assignee_id, task.client_id, task.call_id) == (owner.id, client.id, "1700000000.2")
    assert task.status == "open"


def test_missed_call_from_unknown_number_goes_to_the_team_that_was_called(db, users):
    from crm_core.tasks.models import Task
    from cti.calllog.models import Call

    ana = users.add("ana", team="Support", extension="102")
    _log(
        finished_call(
            "1700000000.3",
            disposition="abandoned",
            number="+40744999888",
            rang=["102"],
            queue="support",
        )
    )
    call = db.scalars(select(Call)).one()
    assert call.client_id is None and call.number == "+40744999888"
    task = db.scalars(select(Task)).one()
    assert (task.assignee_id, task.team_id, task.client_id) == (None, ana.team_id, None)
    assert call.callback_task_id == task.id


def test_callback_task_to_team_setting_skips_the_owner(db, users, monkeypatch):
    from callcard.settings import get_settings
    from crm_core.tasks.models import Task

    monkeypatch.setenv("CALLCARD_CALLBACK_TASK_TO", "team")
    get_settings.cache_clear()
    owner = users.add("olga", team="Sales")
    ana = users.add("ana", team="Support", extension="102")
    client_row(db, "Maria", "+40721234567", email=None, team_id=owner.team_id, owner_id=owner.id)
    db.commit()
    _log(finished_call("1700000000.4", disposition="missed", rang=["102"]))
    task = db.scalars(select(Task)).one()
    assert (task.assignee_id, task.team_id) == (None, ana.team_id)


def test_withheld_missed_call_is_logged_without_a_callback(db, users):
    from crm_core.tasks.models import Task
    from cti.calllog.models import Call

    users.add("ana", extension="101")
    _log(finished_call("1700000000.5", disposition="missed", number="", e164=None, withheld=True))
    call = db.scalars(select(Call)).one()
    assert call.withheld and call.disposition == "missed"
    assert db.scalar(select(func.count(Task.id))) == 0


def test_answered_callback_closes_the_task_and_to_return_counts_attempts(client, users):
    from crm_core.database import session_scope

    ana = users.add("ana", extension="101")
    token = {"Authorization": f"Bearer {users.token('ana')}"}
    with session_scope() as s:
        client_row(s, "Maria", "+40721234567", email=None, team_id=ana.team_id, owner_id=ana.id)
    _log(finished_call("m1", disposition="missed", rang=["101"]))
    r = client.get("/api/calls/to-return", headers=token)
    assert r.status_code == 200
    [item] = r.json()
    assert (item["number"], item["client_name"], item["attempts"]) == ("0721234567", "Maria", 0)
    # a failed attempt counts, the task stays open
    _log(
        finished_call(
            "o1",
            direction="outbound",
            disposition="failed",
            rang=["101"],
            start=CALL_START + timedelta(minutes=5),
        )
    )
    [item] = client.get("/api/calls/to-return", headers=token).json()
    assert item["attempts"] == 1
    _log(finished_call("o2", direction="outbound", start=CALL_START + timedelta(minutes=10)))
    assert client.get("/api/calls/to-return", headers=token).json() == []


def test_explicit_completion_of_a_call_to_return(client, users):
    users.add("ana", team="Support", extension="102")
    token = {"Authorization": f"Bearer {users.token('ana')}"}
    _log(finished_call("m2", disposition="missed", number="+40744999888", rang=["102"]))
    [item] = client.get("/api/calls/to-return", headers=token).json()
    assert (
        client.post(f"/api/calls/to-return/{item['task_id']}/done", headers=token).status_code
        == 204
    )
    assert client.get("/api/calls/to-return", headers=token).json() == []


def test_operators_see_their_teams_and_their_own_calls_only(client, users, as_user):
    from crm_core.database import session_scope

    ana = users.add("ana", team="Sales", extension="101")
    users.add("bob", team="Support", extension="102")
    mgr = as_user("mia", role="manager", team=None)
    with session_scope() as s:
        sales = client_row(s, "Sales client", "+40721000001", email=None, team_id=ana.team_id)
        sales_id = sales.id
        client_row(
            s, "Support client", "+40721000002", email=None, team_id=users.created["bob"].team_id
        )
    _log(finished_call("c-sales", number="+40721000001", rang=["102"], answered_by="102"))
    _log(finished_call("c-support", number="+40721000002", rang=["102"], answered_by="102"))
    _log(finished_call("c-unknown-ana", number="+40744000003", rang=["101"], answered_by="101"))
    _log(finished_call("c-unknown-bob", number="+40744000004", rang=["102"], answered_by="102"))
    ana_h = {"Authorization": f"Bearer {users.token('ana')}"}
    seen = {c["linkedid"] for c in client.get("/api/calls", headers=ana_h).json()["items"]}
    assert seen == {"c-sales", "c-unknown-ana"}
    everything = client.get("/api/calls", headers=mgr).json()
    assert everything["total"] == 4
    hidden = next(c for c in everything["items"] if c["linkedid"] == "c-support")
    assert client.get(f"/api/calls/{hidden['id']}", headers=ana_h).status_code == 404
    assert client.get(f"/api/calls/{hidden['id']}", headers=mgr).status_code == 200
    by_client = client.get(f"/api/calls?client_id={sales_id}", headers=mgr).json()
    assert [c["linkedid"] for c in by_client["items"]] == ["c-sales"]


def test_filters_and_pagination(client, users, as_user):
    users.add("ana", extension="101")
    mgr = as_user("mia", role="manager")
    for i in range(5):
        _log(
            finished_call(
                f"f{i}",
                number=f"+4074400000{i}",
                start=CALL_START + timedelta(minutes=i),
                disposition="missed" if i % 2 else "answered",
                rang=["101"] if i < 3 else ["102"],
            )
        )
    page = client.get("/api/calls?limit=2&offset=1", headers=mgr).json()
    assert page["total"] == 5 and [c["linkedid"] for c in page["items"]] == ["f3", "f2"]
    missed = client.get("/api/calls?disposition=missed", headers=mgr).json()
    assert {c["linkedid"] for c in missed["items"]} == {"f1", "f3"}
    on_102 = client.get("/api/calls?extension=102", headers=mgr).json()
    assert {c["linkedid"] for c in on_102["items"]} == {"f3", "f4"}
    window = client.get(
        "/api/calls",
        params={
            "since": (CALL_START + timedelta(minutes=1)).isoformat(),
            "until": (CALL_START + timedelta(minutes=3)).isoformat(),
        },
        headers=mgr,
    ).json()
    assert {c["linkedid"] for c in window["items"]} == {"f1", "f2"}
    assert client.get("/api/calls?direction=outbound", headers=mgr).json()["total"] == 0


@pytest.mark.parametrize(
    "query, field",
    [
        ("disposition=lost", "disposition"),
        ("direction=sideways", "direction"),
        ("limit=0", "limit"),
    ],
)
def test_bad_filters_are_422_naming_the_field(client, as_user, query, field):
    r = client.get(f"/api/calls?{query}", headers=as_user("mia", role="manager"))
    assert r.status_code == 422
    assert field in str(r.json()["detail"][0]["loc"])


def test_note_written_during_the_call_lands_on_its_history_entry(client, users):
    from crm_core.database import session_scope
    from crm_core.history.models import Interaction

    ana = users.add("ana", extension="101")
    h = {"Authorization": f"Bearer {users.token('ana')}"}
    with session_scope() as s:
        client_row(s, "Maria", "+40721234567", email=None, team_id=ana.team_id)
    r = client.put("/api/calls/live-1/note", json={"body": "wants a quote"}, headers=h)
    assert r.status_code == 200 and r.json() == {
        "call_id": "live-1",
        "body": "wants a quote",
        "logged": False,
    }
    _log(finished_call("live-1"))
    [call] = client.get("/api/calls", headers=h).json()["items"]
    assert call["note"] == "wants a quote"
    r = client.put("/api/calls/live-1/note", json={"body": "wants a quote for 3"}, headers=h)
    assert r.json()["logged"] is True
    with session_scope() as s:
        entry = s.scalars(select(Interaction).where(Interaction.call_id == "live-1")).one()
        assert entry.body == "wants a quote for 3"


def test_note_of_someone_elses_logged_call_is_404(client, users):
    users.add("ana", team="Sales", extension="101")
    users.add("bob", team="Support", extension="102")
    _log(finished_call("other", number="+40744000004", rang=["102"], answered_by="102"))
    h = {"Authorization": f"Bearer {users.token('ana')}"}
    assert client.put("/api/calls/other/note", json={"body": "x"}, headers=h).status_code == 404
    too_long = client.put("/api/calls/x/note", json={"body": "x" * 20_001}, headers=h)
    assert too_long.status_code == 422 and "body" in str(too_long.json()["detail"][0]["loc"])


def test_required_custom_fields_do_not_stop_calls_being_logged(db, users):
    """An admin makes an interaction field and a task field required: people must fill them
    in, but the call log (which cannot) still records calls and creates callback tasks."""
    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import principal_of
    from crm_core.customfields.service import create_field
    from crm_core.errors import Invalid
    from crm_core.history.models import Interaction
    from crm_core.history.service import add_interaction
    from crm_core.tasks.models import Task

    ana = users.add("ana", extension="101")
    client = client_row(
        db, "Ion Popescu", "+40721234567", email=None, team_id=ana.team_id, owner_id=ana.id
    )
    db.commit()
    for entity in ("interaction", "task"):
        create_field(db, SYSTEM, entity=entity, key="topic", label="Topic", kind="text",
                     required=True)  # fmt: skip
    db.commit()

    assert _log(finished_call("1700000100.1")) is not None
    assert _log(finished_call("1700000100.2", disposition="missed")) is not None
    db.expire_all()
    assert (
        db.scalar(select(func.count(Interaction.id)).where(Interaction.client_id == client.id)) == 2
    )
    assert db.scalar(select(func.count(Task.id)).where(Task.call_id == "1700000100.2")) == 1

    with pytest.raises(Invalid) as err:  # a person adding a note must give the topic
        add_interaction(db, principal_of(ana), client_id=client.id, kind="note", body="hi")
    assert err.value.loc == ["custom", "topic"]

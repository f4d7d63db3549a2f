"""Tasks and events: filters, rights, derived overdue, audit and in-transaction signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import audit_entries, colleagues, loc, make_client, user_id


def iso(dt: datetime) -> str:
    return dt.isoformat()


NOW = datetime.now(UTC)


@pytest.fixture
def people(client):
    made = colleagues(
        root=("admin", None),
        boss=("manager", "Sales"),
        ana=("operator", "Sales"),
        ion=("operator", "Sales"),
        vlad=("operator", "Support"),
    )
    return {
        "admin": made["root"],
        "boss": made["boss"],
        "ana": made["ana"],
        "ion": made["ion"],
        "vlad": made["vlad"],
    }


def test_overdue_is_derived_from_due_time_and_status(client, people):
    past = client.post(
        "/api/tasks",
        json={"title": "Call back", "due_at": iso(NOW - timedelta(hours=2))},
        headers=people["ana"],
    )
    assert past.status_code == 201, past.text
    assert past.json()["overdue"] is True
    future = client.post(
        "/api/tasks",
        json={"title": "Send offer", "due_at": iso(NOW + timedelta(hours=2))},
        headers=people["ana"],
    ).json()
    assert future["overdue"] is False
    listed = client.get("/api/tasks?overdue=true", headers=people["ana"]).json()
    assert [t["id"] for t in listed["items"]] == [past.json()["id"]]
    done = client.post(f"/api/tasks/{past.json()['id']}/complete", headers=people["ana"]).json()
    assert done["status"] == "done" and done["overdue"] is False and done["completed_at"]
    assert client.get("/api/tasks?overdue=true", headers=people["ana"]).json()["total"] == 0


def test_overdue_is_not_a_stored_column(database):
    from crm_core.tasks.models import Task

    assert "overdue" not in Task.__table__.columns
    assert "is_overdue" not in Task.__table__.columns


def test_filters_mine_today_client_assignee_status(client, people):
    cid = make_client("Ion Popescu")
    ana, ion = user_id("ana"), user_id("ion")
    make = lambda **body: client.post("/api/tasks", json=body, headers=people["boss"]).json()  # noqa: E731
    t1 = make(title="A", assignee_id=ana, client_id=cid, due_at=iso(NOW + timedelta(minutes=1)))
    t2 = make(title="B", assignee_id=ion, due_at=iso(NOW + timedelta(days=3)))
    t3 = make(title="C", assignee_id=ana, priority="high")
    client.post(f"/api/tasks/{t3['id']}/cancel", headers=people["boss"])

    ids = lambda r: sorted(t["id"] for t in r.json()["items"])  # noqa: E731
    assert ids(client.get("/api/tasks?mine=true", headers=people["ana"])) == sorted(
        [t1["id"], t3["id"]]
    )
    assert ids(client.get(f"/api/tasks?client_id={cid}", headers=people["boss"])) == [t1["id"]]
    assert ids(client.get(f"/api/tasks?assignee_id={ion}", headers=people["boss"])) == [t2["id"]]
    assert ids(
        client.get("/api/tasks?status=open&status=in_progress", headers=people["boss"])
    ) == sorted([t1["id"], t2["id"]])
    assert ids(client.get("/api/tasks?status=cancelled", headers=people["boss"])) == [t3["id"]]
    today = ids(client.get("/api/tasks?today=true", headers=people["boss"]))
    assert t2["id"] not in today and t3["id"] not in today


def test_assign_to_colleague(client, people):
    task = client.post("/api/tasks", json={"title": "Visit"}, headers=people["ana"]).json()
    r = client.post(
        f"/api/tasks/{task['id']}/assign",
        json={"assignee_id": user_id("ion")},
        headers=people["ana"],
    )
    assert r.status_code == 200 and r.json()["assignee_id"] == user_id("ion")
    assert r.json()["creator_id"] == user_id("ana")
    mine = client.get("/api/tasks?mine=true", headers=people["ion"]).json()
    assert [t["title"] for t in mine["items"]] == ["Visit"]
    bad = client.post(
        f"/api/tasks/{task['id']}/assign", json={"assignee_id": 999999}, headers=people["ana"]
    )
    assert loc(bad) == [["body", "assignee_id"]]


def test_operator_cannot_see_another_teams_clients_tasks(client, people):
    theirs = make_client("Support client", team="Support")
    task = client.post(
        "/api/tasks", json={"title": "Theirs", "client_id": theirs}, headers=people["vlad"]
    ).json()
    assert client.get(f"/api/tasks/{task['id']}", headers=people["ana"]).status_code == 404
    assert (
        client.patch(
            f"/api/tasks/{task['id']}", json={"title": "x"}, headers=people["ana"]
        ).status_code
        == 404
    )
    assert client.get(f"/api/tasks?client_id={theirs}", headers=people["ana"]).status_code == 404
    assert client.get("/api/tasks", headers=people["ana"]).json()["total"] == 0
    # creating a task on a client the operator may not see names the field
    r = client.post("/api/tasks", json={"title": "x", "client_id": theirs}, headers=people["ana"])
    assert loc(r) == [["body", "client_id"]]
    # managers see it; once assigned to ana, ana sees it too
    assert client.get(f"/api/tasks/{task['id']}", headers=people["boss"]).status_code == 200
    client.post(
        f"/api/tasks/{task['id']}/assign",
        json={"assignee_id": user_id("ana")},
        headers=people["boss"],
    )
    assert client.get(f"/api/tasks/{task['id']}", headers=people["ana"]).status_code == 200


def test_validation_names_the_field(client, people):
    h = people["ana"]
    assert loc(client.post("/api/tasks", json={"title": ""}, headers=h)) == [["body", "title"]]
    assert loc(client.post("/api/tasks", json={"title": "   "}, headers=h)) == [["body", "title"]]
    naive = client.post("/api/tasks", json={"title": "x", "due_at": "2030-01-01T10:00"}, headers=h)
    assert loc(naive) == [["body", "due_at"]]
    assert loc(client.post("/api/tasks", json={"title": "x", "priority": "asap"}, headers=h)) == [
        ["body", "priority"]
    ]
    event = client.post("/api/tasks", json={"title": "Meeting", "kind": "event"}, headers=h)
    assert loc(event) == [["body", "starts_at"]]
    backwards = client.post(
        "/api/tasks",
        json={
            "title": "Meeting",
            "kind": "event",
            "starts_at": iso(NOW + timedelta(hours=2)),
            "ends_at": iso(NOW + timedelta(hours=1)),
        },
        headers=h,
    )
    assert loc(backwards) == [["body", "ends_at"]]


def test_event_with_place_and_time(client, people):
    start = NOW + timedelta(days=1)
    r = client.post(
        "/api/tasks",
        json={
            "title": "Demo at the client",
            "kind": "event",
            "event_type": "meeting",
            "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=1)),
            "location": "Chișinău, str. Ștefan cel Mare 1",
            "remind_at": iso(start - timedelta(minutes=30)),
        },
        headers=people["ana"],
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["location"] == "Chișinău, str. Ștefan cel Mare 1"
    assert body["due_at"] == body["starts_at"]  # an event is due when it starts
    assert client.get("/api/tasks?kind=event", headers=people["ana"]).json()["total"] == 1


def test_update_is_audited_with_before_and_after(client, people):
    task = client.post("/api/tasks", json={"title": "Offer"}, headers=people["ana"]).json()
    r = client.patch(
        f"/api/tasks/{task['id']}",
        json={"title": "Send the offer", "priority": "urgent"},
        headers=people["ana"],
    )
    assert r.status_code == 200
    entries = audit_entries("task", task["id"])
    assert [e[0] for e in entries] == ["create", "update"]
    action, actor, changes = entries[1]
    assert actor == user_id("ana")
    assert changes["title"] == ["Offer", "Send the offer"]
    assert changes["priority"] == ["normal", "urgent"]


def test_only_managers_delete_tasks(client, people):
    task = client.post("/api/tasks", json={"title": "Offer"}, headers=people["ana"]).json()
    assert client.delete(f"/api/tasks/{task['id']}", headers=people["ana"]).status_code == 403
    assert client.delete(f"/api/tasks/{task['id']}", headers=people["boss"]).status_code == 204
    assert client.get(f"/api/tasks/{task['id']}", headers=people["boss"]).status_code == 404
    assert [e[0] for e in audit_entries("task", task["id"])] == ["create", "delete"]


def test_task_saved_runs_in_the_same_transaction(client, people):
    """A receiver failing rolls the task back: nothing half-written."""
    from crm_core import signals

    seen = []

    def receiver(db, task, actor, created, before):
        seen.append((task.title, created, before and before["title"]))
        if task.title == "explode":
            raise RuntimeError("outbox unavailable")

    signals.task_saved.connect(receiver)
    try:
        ok = client.post("/api/tasks", json={"title": "fine"}, headers=people["ana"]).json()
        client.patch(f"/api/tasks/{ok['id']}", json={"title": "finer"}, headers=people["ana"])
        assert seen == [("fine", True, None), ("finer", False, "fine")]
        with pytest.raises(RuntimeError):
            client.post("/api/tasks", json={"title": "explode"}, headers=people["ana"])
    finally:
        signals.task_saved.disconnect(receiver)
    titles = [t["title"] for t in client.get("/api/tasks", headers=people["ana"]).json()["items"]]
    assert titles == ["finer"]


def test_task_deleted_signal(client, people):
    from crm_core import signals

    gone = []
    receiver = lambda db, task, actor: gone.append(task.id)  # noqa: E731
    signals.task_deleted.connect(receiver)
    try:
        task = client.post("/api/tasks", json={"title": "x"}, headers=people["boss"]).json()
        client.delete(f"/api/tasks/{task['id']}", headers=people["boss"])
    finally:
        signals.task_deleted.disconnect(receiver)
    assert gone == [task["id"]]


def test_is_overdue_function():
    from crm_core.tasks.models import Task
    from crm_core.tasks.service import is_overdue

    now = datetime(2025, 1, 1, 12, tzinfo=UTC)
    assert is_overdue(Task(status="open", due_at=now - timedelta(seconds=1)), now)
    assert is_overdue(Task(status="in_progress", due_at=now - timedelta(days=1)), now)
    assert not is_overdue(Task(status="done", due_at=now - timedelta(days=1)), now)
    assert not is_overdue(Task(status="cancelled", due_at=now - timedelta(days=1)), now)
    assert not is_overdue(Task(status="open", due_at=None), now)
    assert not is_overdue(Task(status="open", due_at=now + timedelta(seconds=1)), now)


def test_wall_and_anonymous_get_nothing(client, people):
    assert client.get("/api/tasks").status_code == 401

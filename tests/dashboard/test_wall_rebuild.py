"""A restarted server shows today's figures at once: the wall rebuilt from the database."""

from __future__ import annotations

from datetime import timedelta


def test_restarted_server_rebuilds_today_from_the_database(database, users):
    """Calls, ratings and overdue tasks stored before the start are on the wall at once."""
    from fastapi.testclient import TestClient

    from callcard.app import create_app
    from crm_core.clients.models import Client, Phone
    from crm_core.database import session_scope, utcnow
    from crm_core.tasks.models import Task
    from cti.calllog.models import Call
    from dashboard.i18n import local_zone
    from notifier.surveys.models import Survey

    ana = users.add("ana", extension="101")
    users.add("boss", role="manager")
    now = utcnow()
    with session_scope() as db:
        client = Client(
            display_name="Ion",
            first_name="Ion",
            phones=[Phone(number="+40721000001", e164="+40721000001")],
        )
        db.add(client)
        db.flush()
        # "today" starts at midnight in the office's zone: right after it, stay after it
        local_now = now.astimezone(local_zone())
        since_midnight = local_now - local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        ago = min(timedelta(minutes=5), since_midnight / 3)
        common = {"started_at": now - ago, "ended_at": now - ago / 5}
        db.add_all(
            [
                Call(
                    linkedid="r1",
                    direction="inbound",
                    disposition="answered",
                    rang=["101"],
                    answered_extension="101",
                    answered_user_id=ana.id,
                    wait_s=6,
                    talk_s=100,
                    **common,
                ),
                Call(
                    linkedid="r2",
                    direction="inbound",
                    disposition="missed",
                    rang=["101"],
                    wait_s=25,
                    **common,
                ),
                Call(
                    linkedid="r3",
                    direction="outbound",
                    disposition="answered",
                    rang=["101"],
                    answered_extension="101",
                    talk_s=50,
                    **common,
                ),
                Call(
                    linkedid="old",
                    direction="inbound",
                    disposition="missed",
                    rang=["101"],
                    started_at=now - timedelta(days=2),
                    ended_at=now - timedelta(days=2),
                ),
            ]
        )
        db.add(
            Survey(
                client_id=client.id,
                phone_e164="+40721000001",
                source="call",
                source_ref="r1",
                operator_user_id=ana.id,
                status="answered",
                rating=4,
                answered_at=now - ago / 5,
            )
        )
        db.add(
            Task(
                title="Call Ion back",
                assignee_id=ana.id,
                status="open",
                due_at=now - timedelta(hours=2),
            )
        )
        db.add(
            Task(title="Later", assignee_id=ana.id, status="open", due_at=now + timedelta(hours=2))
        )
    with TestClient(create_app()) as http:
        headers = {"Authorization": f"Bearer {users.token('boss')}"}
        snap = http.get("/api/wall/snapshot", headers=headers).json()
    today = snap["today"]
    assert (today["inbound_answered"], today["inbound_missed"], today["outbound"]) == (1, 1, 1)
    assert today["service_level"] == 0.5
    tile = next(op for op in snap["operators"] if op["extension"] == "101")
    assert tile["calls_today"] == 2 and tile["rating"] == {"avg": 4.0, "count": 1}
    assert snap["csat"]["today"] == {"avg": 4.0, "count": 1}
    assert snap["overdue"] == [{"user_id": ana.id, "name": "Ana", "count": 1}]

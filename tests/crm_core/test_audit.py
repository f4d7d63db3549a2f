"""The audit trail API: admins and managers read who changed what, with filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import colleagues, user_id


@pytest.fixture
def people(client):
    made = colleagues(
        root=("admin", None),
        boss=("manager", "Sales"),
        ana=("operator", "Sales"),
    )
    return {
        "admin": made["root"],
        "boss": made["boss"],
        "ana": made["ana"],
    }


def test_audit_lists_changes_with_before_and_after(client, people):
    t = client.post("/api/tasks", json={"title": "Ofertă"}, headers=people["ana"]).json()
    client.patch(f"/api/tasks/{t['id']}", json={"status": "in_progress"}, headers=people["ana"])
    client.post("/api/tasks", json={"title": "Other"}, headers=people["boss"])
    r = client.get(f"/api/audit?entity=task&entity_id={t['id']}", headers=people["boss"])
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2
    update, create = page["items"]  # newest first
    assert (update["action"], update["actor"]) == ("update", "ana")
    assert update["changes"]["status"] == ["open", "in_progress"]
    assert create["changes"]["title"] == [None, "Ofertă"]
    by_actor = client.get(f"/api/audit?actor_id={user_id('boss')}", headers=people["admin"]).json()
    assert {i["actor"] for i in by_actor["items"]} == {"boss"}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    later = client.get("/api/audit", params={"since": future}, headers=people["admin"]).json()
    assert later["total"] == 0
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert (
        client.get("/api/audit", params={"since": past}, headers=people["admin"]).json()["total"]
        >= 3
    )


def test_operators_may_not_read_the_audit(client, people):
    assert client.get("/api/audit", headers=people["ana"]).status_code == 403
    assert client.get("/api/audit").status_code == 401


def test_bad_time_filter_is_422(client, people):
    r = client.get("/api/audit", params={"since": "yesterday"}, headers=people["admin"])
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "since"]

"""Row rights on task writes as on reads: an operator's tasks stay in their team (issue 13,
finding 9)."""

from __future__ import annotations

from tests.factories import colleagues, loc, team_id


def test_an_operator_cannot_create_or_move_a_task_into_another_team(client):
    made = colleagues(ana=("operator", "Sales"), vlad=("operator", "Support"))
    ana = made["ana"]
    support = team_id("Support")
    refused = client.post("/api/tasks", json={"title": "x", "team_id": support}, headers=ana)
    assert loc(refused) == [["body", "team_id"]]
    own = client.post("/api/tasks", json={"title": "mine"}, headers=ana)
    assert own.status_code == 201 and own.json()["team_id"] == team_id("Sales")
    moved = client.patch(f"/api/tasks/{own.json()['id']}", json={"team_id": support}, headers=ana)
    assert loc(moved) == [["body", "team_id"]]
    vlad_sees = client.get("/api/tasks", headers=made["vlad"]).json()
    assert not [t for t in vlad_sees["items"] if t["title"] in ("x", "mine")]


def test_managers_may_put_tasks_in_any_team(client):
    made = colleagues(boss=("manager", "Sales"), vlad=("operator", "Support"))
    support = team_id("Support")
    made_task = client.post(
        "/api/tasks", json={"title": "for support", "team_id": support}, headers=made["boss"]
    )
    assert made_task.status_code == 201 and made_task.json()["team_id"] == support

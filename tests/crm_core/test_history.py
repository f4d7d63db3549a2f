"""A client's history: calls, meetings, notes... with types and results from admin lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import audit_entries, colleagues, loc, make_client, user_id


@pytest.fixture
def people(client):
    made = colleagues(
        root=("admin", None),
        boss=("manager", "Sales"),
        ana=("operator", "Sales"),
        vlad=("operator", "Support"),
    )
    return {
        "admin": made["root"],
        "boss": made["boss"],
        "ana": made["ana"],
        "vlad": made["vlad"],
    }


def test_log_a_call_and_list_newest_first(client, people):
    cid = make_client()
    earlier = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    first = client.post(
        f"/api/clients/{cid}/interactions",
        json={
            "kind": "call",
            "direction": "outbound",
            "occurred_at": earlier,
            "type_code": "sale",
            "result_code": "no_answer",
            "duration_s": 0,
            "phone_number": "+40721234567",
        },
        headers=people["ana"],
    )
    assert first.status_code == 201, first.text
    assert first.json()["author_id"] == user_id("ana")
    note = client.post(
        f"/api/clients/{cid}/interactions",
        json={"kind": "note", "body": "Просит перезвонить 🙂 — Ș/Ț"},
        headers=people["ana"],
    ).json()
    page = client.get(f"/api/clients/{cid}/interactions", headers=people["ana"]).json()
    assert page["total"] == 2
    assert [i["id"] for i in page["items"]] == [note["id"], first.json()["id"]]
    assert page["items"][0]["body"] == "Просит перезвонить 🙂 — Ș/Ț"
    calls = client.get(f"/api/clients/{cid}/interactions?kind=call", headers=people["ana"]).json()
    assert [i["result_code"] for i in calls["items"]] == ["no_answer"]


def test_unknown_type_or_result_is_422_naming_the_field(client, people):
    cid = make_client()
    r = client.post(
        f"/api/clients/{cid}/interactions",
        json={"kind": "call", "result_code": "exploded"},
        headers=people["ana"],
    )
    assert loc(r) == [["body", "result_code"]]
    assert "answered" in r.json()["detail"][0]["msg"]
    r = client.post(
        f"/api/clients/{cid}/interactions",
        json={"kind": "visit", "type_code": "nope"},
        headers=people["ana"],
    )
    assert loc(r) == [["body", "type_code"]]
    r = client.post(
        f"/api/clients/{cid}/interactions", json={"kind": "telegram"}, headers=people["ana"]
    )
    assert loc(r) == [["body", "kind"]]
    assert (
        client.get(f"/api/clients/{cid}/interactions", headers=people["ana"]).json()["total"] == 0
    )


def test_admin_configures_the_result_list(client, people):
    cid = make_client()
    defaults = client.get("/api/choices/interaction_result", headers=people["ana"]).json()
    assert {"answered", "no_answer", "busy"} <= {c["code"] for c in defaults}
    add = {"code": "promised_payment", "label": "Promised to pay"}
    assert (
        client.post("/api/choices/interaction_result", json=add, headers=people["ana"]).status_code
        == 403
    )
    created = client.post("/api/choices/interaction_result", json=add, headers=people["admin"])
    assert created.status_code == 201
    body = {"kind": "call", "result_code": "promised_payment"}
    assert (
        client.post(
            f"/api/clients/{cid}/interactions", json=body, headers=people["ana"]
        ).status_code
        == 201
    )
    # deactivated: no longer accepted, still listed for admins, old records keep it
    busy = next(c for c in defaults if c["code"] == "busy")
    assert (
        client.delete(f"/api/choices/items/{busy['id']}", headers=people["admin"]).status_code
        == 204
    )
    r = client.post(
        f"/api/clients/{cid}/interactions",
        json={"kind": "call", "result_code": "busy"},
        headers=people["ana"],
    )
    assert loc(r) == [["body", "result_code"]]
    everything = client.get(
        "/api/choices/interaction_result?include_inactive=true", headers=people["admin"]
    ).json()
    assert any(c["code"] == "busy" and not c["active"] for c in everything)
    dup = client.post("/api/choices/interaction_result", json=add, headers=people["admin"])
    assert dup.status_code == 409


def test_system_actor_adds_unknown_call_outcomes_instead_of_losing_the_call(db, users):
    from crm_core.auth.principal import SYSTEM
    from crm_core.history import choices
    from crm_core.history.service import add_interaction

    cid = make_client()
    item = add_interaction(
        db, SYSTEM, client_id=cid, kind="call", direction="inbound", result_code="transferred"
    )
    db.commit()
    assert item.result_code == "transferred"
    assert "transferred" in choices.codes(db, "interaction_result")


def test_interaction_added_signal(client, people):
    from crm_core import signals

    seen = []
    receiver = lambda db, interaction, actor: seen.append((interaction.kind, actor.username))  # noqa: E731
    signals.interaction_added.connect(receiver)
    try:
        cid = make_client()
        client.post(f"/api/clients/{cid}/interactions", json={"kind": "sms"}, headers=people["ana"])
    finally:
        signals.interaction_added.disconnect(receiver)
    assert seen == [("sms", "ana")]


def test_other_teams_client_history_is_404(client, people):
    theirs = make_client("Support client", team="Support")
    r = client.post(
        f"/api/clients/{theirs}/interactions", json={"kind": "note"}, headers=people["vlad"]
    )
    note = r.json()
    assert (
        client.get(f"/api/clients/{theirs}/interactions", headers=people["ana"]).status_code == 404
    )
    assert (
        client.post(
            f"/api/clients/{theirs}/interactions", json={"kind": "note"}, headers=people["ana"]
        ).status_code
        == 404
    )
    assert client.get(f"/api/interactions/{note['id']}", headers=people["ana"]).status_code == 404
    assert (
        client.delete(f"/api/interactions/{note['id']}", headers=people["ana"]).status_code == 404
    )
    assert client.get(f"/api/interactions/{note['id']}", headers=people["boss"]).status_code == 200


def test_notes_edited_and_deleted_by_author_calls_only_by_managers(client, people, as_user):
    cid = make_client()
    note = client.post(
        f"/api/clients/{cid}/interactions",
        json={"kind": "note", "body": "v1"},
        headers=people["ana"],
    ).json()
    call = client.post(
        f"/api/clients/{cid}/interactions", json={"kind": "call"}, headers=people["ana"]
    ).json()
    ion = as_user("ion", role="operator", team="Sales")
    assert (
        client.patch(f"/api/interactions/{note['id']}", json={"body": "x"}, headers=ion).status_code
        == 403
    )
    r = client.patch(f"/api/interactions/{note['id']}", json={"body": "v2"}, headers=people["ana"])
    assert r.status_code == 200 and r.json()["body"] == "v2"
    assert (
        client.delete(f"/api/interactions/{call['id']}", headers=people["ana"]).status_code == 403
    )
    assert (
        client.delete(f"/api/interactions/{note['id']}", headers=people["ana"]).status_code == 204
    )
    assert (
        client.delete(f"/api/interactions/{call['id']}", headers=people["boss"]).status_code == 204
    )
    actions = [e[0] for e in audit_entries("interaction", note["id"])]
    assert actions == ["create", "update", "delete"]
    changes = audit_entries("interaction", note["id"])[1][2]
    assert changes["body"] == ["v1", "v2"]


def test_naive_time_is_refused(client, people):
    cid = make_client()
    r = client.post(
        f"/api/clients/{cid}/interactions",
        json={"kind": "meeting", "occurred_at": "2024-05-01T10:00:00"},
        headers=people["ana"],
    )
    assert loc(r) == [["body", "occurred_at"]]

"""Inputs that used to give a 500 are 422s naming the field (issue 13, finding 12)."""

from __future__ import annotations

import pytest

from tests.factories import add_client, colleagues, loc


@pytest.fixture
def admin(client):
    return colleagues(root=("admin", None))["root"]


@pytest.mark.parametrize("field", ["team_id", "owner_id"])
def test_patch_with_a_missing_team_or_owner_is_a_422_as_post_is(client, admin, field):
    client_id = add_client("Ana Pop", team=None)
    posted = client.post("/api/clients", json={"first_name": "Ion", field: 999_999}, headers=admin)
    assert loc(posted) == [["body", field]]
    patched = client.patch(f"/api/clients/{client_id}", json={field: 999_999}, headers=admin)
    assert loc(patched) == [["body", field]]
    assert client.get(f"/api/clients/{client_id}", headers=admin).status_code == 200


def test_control_characters_leave_names_and_bidi_overrides_are_refused(client, admin):
    made = client.post(
        "/api/clients", json={"first_name": " An\x1b[31ma\t", "last_name": "Pop\n"}, headers=admin
    )
    assert made.status_code == 201, made.text
    assert (made.json()["first_name"], made.json()["last_name"]) == ("An[31ma", "Pop")
    spoofed = client.post(
        "/api/clients", json={"first_name": "Ana", "org_name": "x\u202egpj.exe"}, headers=admin
    )
    assert loc(spoofed) == [["body", "org_name"]]
    renamed = client.patch(
        f"/api/clients/{made.json()['id']}", json={"last_name": "\u2067Pop"}, headers=admin
    )
    assert loc(renamed) == [["body", "last_name"]]
    blank = client.post("/api/clients", json={"first_name": "\x07\x08"}, headers=admin)
    assert loc(blank) == [["body", "last_name"]]  # no name left: the service's own rule


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/clients?created_to=0.5", "created_to"),
        ("/api/clients?created_from=1700000000", "created_from"),
        ("/api/calls?since=0.5", "since"),
    ],
)
def test_a_number_is_not_a_date(client, admin, path, field):
    answer = client.get(path, headers=admin)
    assert answer.status_code == 422 and field in str(answer.json()["detail"][0]["loc"])


def test_a_task_due_at_a_number_is_refused(client, admin):
    answer = client.post("/api/tasks", json={"title": "x", "due_at": 0.5}, headers=admin)
    assert loc(answer) == [["body", "due_at"]]


@pytest.mark.parametrize(
    "path", ["/api/clients", "/api/tasks", "/api/calls", "/api/interactions", "/api/audit"]
)
def test_an_offset_past_64_bits_is_a_422(client, admin, path):
    answer = client.get(f"{path}?offset={2**63}", headers=admin)
    if path == "/api/interactions":
        answer = client.get(
            f"/api/clients/{add_client('Ana')}/interactions?offset={2**63}", headers=admin
        )
    assert answer.status_code == 422 and "offset" in str(answer.json()["detail"][0]["loc"])


def test_the_unknown_inbox_offset_past_64_bits_is_a_422(client, admin):
    answer = client.get(f"/api/notifier/inbox/unknown?offset={2**63}", headers=admin)
    assert answer.status_code == 422


def test_team_names_differing_only_in_control_characters_are_a_422(client, admin):
    """Also ``ÉQUIPE`` twice and ``Ⱦ``/``ⱦ`` on SQLite, whose lower() knows only ASCII."""
    assert client.post("/api/teams", json={"name": "ÉQUIPE"}, headers=admin).status_code == 201
    again = client.post("/api/teams", json={"name": "Équipe\x07"}, headers=admin)
    assert again.status_code in (409, 422), again.text

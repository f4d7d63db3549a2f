"""Client CRUD through the HTTP API, on SQLite and PostgreSQL: validation, Unicode, duplicates,
merge, soft delete and restore, audit, organizations with contact persons."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm_core.audit.models import AuditEntry


@pytest.fixture
def admin(as_user):
    return as_user("root", role="admin", team=None)


def make(client, headers, **fields):
    body = {"first_name": "Ion", "last_name": "Popescu", **fields}
    response = client.post("/api/clients", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def audit_actions(db, client_id: int) -> list[str]:
    db.expire_all()
    rows = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "client", AuditEntry.entity_id == str(client_id))
        .order_by(AuditEntry.id)
    )
    return [r.action for r in rows]


def test_create_read_update_person(client, admin, db):
    created = make(
        client,
        admin,
        phones=[
            {"kind": "mobile", "number": "0721 234 567"},
            {"kind": "work", "number": "+40 (31) 123-4567"},
        ],
        emails=[{"kind": "work", "address": "Ion.Popescu@Example.ro"}],
        addresses=[{"city": "Cluj-Napoca", "street": "Str. Memorandumului 1", "country": "ro"}],
        handles=[{"network": "telegram", "handle": "@ionp"}],
        tags=["golf", "newsletter", "golf"],
        category="VIP",
        status="lead",
        birthday="1980-05-17",
        discount_percent="12.5",
        comment="Prefers calls after 10",
        language="ro",
    )
    assert created["display_name"] == "Ion Popescu"
    assert created["is_vip"] is True
    assert [(p["kind"], p["number"], p["e164"]) for p in created["phones"]] == [
        ("mobile", "0721 234 567", "+40721234567"),
        ("work", "+40 (31) 123-4567", "+40311234567"),
    ]
    assert created["emails"][0]["address"] == "Ion.Popescu@example.ro"  # domain normalised
    assert created["addresses"][0]["country"] == "RO"
    assert created["tags"] == ["golf", "newsletter"]
    assert created["discount_percent"] == "12.50"

    fetched = client.get(f"/api/clients/{created['id']}", headers=admin).json()
    assert fetched == created

    changed = client.patch(
        f"/api/clients/{created['id']}",
        json={"status": "active", "phones": [{"number": "+40 741 112 233"}]},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["status"] == "active"
    assert [p["e164"] for p in body["phones"]] == ["+40741112233"]
    assert body["emails"] == created["emails"]  # not sent, not touched
    assert audit_actions(db, created["id"]) == ["create", "update"]
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.changes["status"] == ["lead", "active"]
    assert entry.changes["phones"][1] == ["mobile:+40741112233"]


@pytest.mark.parametrize(
    "first,last",
    [
        ("Ștefan", "Țurcanu"),
        ("Анна", "Кузнецова-Żółć"),
        ("Zoë 🎧", "O'Brien 李"),
    ],
)
def test_names_in_any_script_round_trip(client, admin, first, last):
    created = make(client, admin, first_name=first, last_name=last, comment=f"{first} ✓ {last}")
    fetched = client.get(f"/api/clients/{created['id']}", headers=admin).json()
    assert (fetched["first_name"], fetched["last_name"]) == (first, last)
    assert fetched["display_name"] == f"{first} {last}"
    assert fetched["comment"] == f"{first} ✓ {last}"


def test_invalid_input_is_422_naming_the_field(client, admin):
    bad_phone = client.post(
        "/api/clients",
        json={"last_name": "X", "phones": [{"number": "0721"}]},
        headers=admin,
    )
    assert bad_phone.status_code == 422
    error = bad_phone.json()["detail"][0]
    assert error["loc"] == ["body", "phones", 0, "number"]
    assert "digits" in error["msg"]

    bad_email = client.post(
        "/api/clients",
        json={"last_name": "X", "emails": [{"address": "ion@"}]},
        headers=admin,
    )
    assert bad_email.status_code == 422
    assert bad_email.json()["detail"][0]["loc"] == ["body", "emails", 0, "address"]

    nameless = client.post("/api/clients", json={"first_name": " "}, headers=admin)
    assert nameless.status_code == 422
    assert nameless.json()["detail"][0]["loc"] == ["body", "last_name"]

    org = client.post("/api/clients", json={"kind": "organization"}, headers=admin)
    assert org.json()["detail"][0]["loc"] == ["body", "org_name"]

    for field, value in [
        ("owner_id", 999999),
        ("team_id", 999999),
        ("organization_id", 999999),
        ("discount_percent", 150),
        ("status", "vip"),
        ("first_name", "nul\x00byte"),
        ("birthday", "1980-13-40"),
    ]:
        response = client.post("/api/clients", json={"last_name": "X", field: value}, headers=admin)
        assert response.status_code == 422, (field, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", field]
    assert client.get("/api/clients", headers=admin).json()["total"] == 0


def test_duplicate_phone_or_email_is_409_unless_forced(client, admin):
    first = make(client, admin, phones=[{"number": "+40721234567"}], emails=[{"address": "a@b.ro"}])
    again = client.post(
        "/api/clients",
        json={"last_name": "Other", "phones": [{"number": "0040 721-234-567"}]},
        headers=admin,
    )
    assert again.status_code == 409
    body = again.json()
    assert body["existing"] == {"id": first["id"], "name": "Ion Popescu"}
    assert body["field"] == "phones[0]"

    by_mail = client.post(
        "/api/clients",
        json={"last_name": "Other", "emails": [{"address": "A@B.ro"}]},
        headers=admin,
    )
    assert by_mail.status_code == 409
    assert by_mail.json()["existing"]["id"] == first["id"]

    forced = client.post(
        "/api/clients?force=true",
        json={"last_name": "Other", "phones": [{"number": "0721234567"}]},
        headers=admin,
    )
    assert forced.status_code == 201
    assert forced.json()["phones"][0]["e164"] == "+40721234567"


def test_soft_delete_and_admin_restore(client, as_user, admin, db):
    manager = as_user("maria", role="manager")
    created = make(client, admin, phones=[{"number": "0722000111"}])
    url = f"/api/clients/{created['id']}"
    assert client.delete(url, headers=manager).status_code == 204
    assert client.get(url, headers=admin).status_code == 404
    assert client.get("/api/clients", headers=admin).json()["total"] == 0
    assert client.get("/api/lookup/phone?number=0722000111", headers=admin).status_code == 404
    # a deleted client no longer blocks its number
    assert make(client, admin, last_name="New", phones=[{"number": "0722000111"}])

    deleted = client.get("/api/clients?deleted=true", headers=admin).json()
    assert [c["id"] for c in deleted["items"]] == [created["id"]]
    assert client.get("/api/clients?deleted=true", headers=manager).status_code == 403
    assert client.post(f"{url}/restore", headers=manager).status_code == 403
    restored = client.post(f"{url}/restore", headers=admin)
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert client.get(url, headers=manager).status_code == 200
    assert audit_actions(db, created["id"]) == ["create", "delete", "restore"]


def test_organization_lists_its_contact_persons(client, admin):
    org = make(
        client,
        admin,
        kind="organization",
        first_name="",
        last_name="",
        org_name="Dacia Logistic SRL",
        phones=[{"kind": "work", "number": "021 312 0000"}],
    )
    assert org["display_name"] == "Dacia Logistic SRL"
    person = make(client, admin, organization_id=org["id"], job_title="Buyer")
    assert person["organization"] == {"id": org["id"], "name": "Dacia Logistic SRL"}
    card = client.get(f"/api/clients/{org['id']}", headers=admin).json()
    assert [(c["id"], c["job_title"]) for c in card["contacts"]] == [(person["id"], "Buyer")]
    # an organization cannot belong to an organization; a person cannot be one
    bad = client.patch(
        f"/api/clients/{org['id']}", json={"organization_id": org["id"]}, headers=admin
    )
    assert bad.status_code == 422
    bad = client.post(
        "/api/clients", json={"last_name": "X", "organization_id": person["id"]}, headers=admin
    )
    assert bad.json()["detail"][0]["loc"] == ["body", "organization_id"]


def test_merge_folds_source_into_target(client, admin, db, users):
    from crm_core.auth.principal import SYSTEM
    from crm_core.history.models import Interaction
    from crm_core.tasks.models import Task

    org = make(client, admin, kind="organization", org_name="Acme", first_name="", last_name="")
    target = make(
        client, admin, phones=[{"number": "0721234567"}], tags=["a"], emails=[{"address": "x@y.ro"}]
    )
    source = make(
        client,
        admin,
        kind="organization",
        org_name="Acme Dup",
        first_name="",
        last_name="",
        phones=[{"number": "0741112233"}],
    )
    person_source = client.post(
        "/api/clients?force=true",
        json={
            "first_name": "Ion",
            "last_name": "Popescu (dup)",
            "phones": [{"number": "+40721234567"}, {"number": "+40 722 000 111"}],
            "emails": [{"address": "X@y.ro"}, {"address": "ion@home.ro"}],
            "tags": ["b"],
            "birthday": "1970-01-02",
        },
        headers=admin,
    ).json()
    db.add_all(
        [
            Interaction(client_id=person_source["id"], kind="call", subject="old call"),
            Task(client_id=person_source["id"], title="call back"),
            Interaction(client_id=target["id"], kind="note", subject="target note"),
        ]
    )
    db.commit()
    assert SYSTEM  # the merge is done by the admin below

    wrong_kind = client.post(
        f"/api/clients/{target['id']}/merge", json={"source_id": source["id"]}, headers=admin
    )
    assert wrong_kind.status_code == 422
    del org
    merged = client.post(
        f"/api/clients/{target['id']}/merge",
        json={"source_id": person_source["id"]},
        headers=admin,
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert [p["e164"] for p in body["phones"]] == ["+40721234567", "+40722000111"]
    assert sorted(e["address"].lower() for e in body["emails"]) == ["ion@home.ro", "x@y.ro"]
    assert body["tags"] == ["a", "b"]
    assert body["birthday"] == "1970-01-02"
    db.expire_all()
    subjects = sorted(
        i.subject
        for i in db.scalars(select(Interaction).where(Interaction.client_id == target["id"]))
    )
    assert subjects == ["old call", "target note"]
    assert db.scalar(select(Task.client_id).where(Task.title == "call back")) == target["id"]
    assert client.get(f"/api/clients/{person_source['id']}", headers=admin).status_code == 404
    assert audit_actions(db, target["id"])[-1] == "merge"
    assert audit_actions(db, person_source["id"])[-1] == "delete"
    card = client.get("/api/lookup/phone?number=0722000111", headers=admin).json()
    assert card["client_id"] == target["id"]


def test_client_saved_signal_fires_on_create_and_update(client, admin):
    from crm_core import signals

    seen = []

    def receiver(db, client, actor, created):
        seen.append((client.id, actor.username, created))

    signals.client_saved.connect(receiver)
    try:
        created = make(client, admin)
        client.patch(f"/api/clients/{created['id']}", json={"comment": "x"}, headers=admin)
    finally:
        signals.client_saved.disconnect(receiver)
    assert seen == [(created["id"], "root", True), (created["id"], "root", False)]


def test_custom_field_values_are_saved_validated_and_filterable(client, admin, db):
    from crm_core.auth.principal import SYSTEM
    from crm_core.customfields.service import create_field

    create_field(db, SYSTEM, entity="client", key="contract", label="Contract no.", kind="text")
    create_field(db, SYSTEM, entity="client", key="seats", label="Seats", kind="number")
    db.commit()
    a = make(client, admin, custom={"contract": "RO-2024-117", "seats": 12})
    make(client, admin, last_name="Ionescu", custom={"contract": "RO-2025-001"})
    assert client.get(f"/api/clients/{a['id']}", headers=admin).json()["custom"] == {
        "contract": "RO-2024-117",
        "seats": 12,
    }
    bad = client.post(
        "/api/clients", json={"last_name": "X", "custom": {"seats": "many"}}, headers=admin
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "custom", "seats"]
    listed = client.get("/api/clients?cf.seats=12", headers=admin).json()
    assert [c["id"] for c in listed["items"]] == [a["id"]]
    listed = client.get("/api/clients?cf.contract=ro-2024-117", headers=admin).json()
    assert [c["id"] for c in listed["items"]] == [a["id"]]
    unknown = client.get("/api/clients?cf.colour=red", headers=admin)
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["query", "cf.colour"]
    found = client.get("/api/search?q=2024-117", headers=admin).json()
    assert [c["id"] for c in found["items"]] == [a["id"]]

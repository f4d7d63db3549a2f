"""Custom fields (admin-defined, validated, filterable), label renames and choice lists."""

from __future__ import annotations

import pytest

from tests.factories import audit_entries, colleagues, loc


@pytest.fixture
def people(client):
    made = colleagues(
        root=("admin", None),
        ana=("operator", "Sales"),
    )
    return {
        "admin": made["root"],
        "ana": made["ana"],
    }


def define(client, headers, **body):
    r = client.post("/api/custom-fields", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_only_admins_define_fields_everyone_reads_them(client, people):
    body = {"entity": "task", "key": "budget", "label": "Budget", "kind": "number"}
    assert client.post("/api/custom-fields", json=body, headers=people["ana"]).status_code == 403
    field = define(client, people["admin"], **body)
    listed = client.get("/api/custom-fields?entity=task", headers=people["ana"]).json()
    assert [f["key"] for f in listed] == ["budget"]
    assert client.get("/api/custom-fields?entity=client", headers=people["ana"]).json() == []
    assert client.post("/api/custom-fields", json=body, headers=people["admin"]).status_code == 409
    assert audit_entries("custom_field", field["id"])[0][0] == "create"


def test_definition_errors_name_the_field(client, people):
    h = people["admin"]
    bad_key = {"key": "Has Space", "label": "X", "kind": "text"}
    assert loc(client.post("/api/custom-fields", json=bad_key, headers=h)) == [["body", "key"]]
    no_choices = {"key": "tier", "label": "Tier", "kind": "choice"}
    assert loc(client.post("/api/custom-fields", json=no_choices, headers=h)) == [
        ["body", "choices"]
    ]
    bad_kind = {"key": "tier", "label": "Tier", "kind": "colour"}
    assert loc(client.post("/api/custom-fields", json=bad_kind, headers=h)) == [["body", "kind"]]


def test_values_are_validated_and_stored_typed_on_tasks(client, people):
    h = people["admin"]
    define(client, h, entity="task", key="budget", label="Budget", kind="number", required=True)
    define(
        client,
        h,
        entity="task",
        key="channel",
        label="Channel",
        kind="choice",
        choices=["phone", "email"],
    )
    define(client, h, entity="task", key="deadline", label="Deadline", kind="date")
    define(client, h, entity="task", key="paid", label="Paid", kind="bool")

    def create(custom):
        return client.post(
            "/api/tasks", json={"title": "t", "custom": custom}, headers=people["ana"]
        )

    assert loc(create({})) == [["body", "custom", "budget"]]
    assert loc(create({"budget": "lots"})) == [["body", "custom", "budget"]]
    assert loc(create({"budget": 1, "channel": "fax"})) == [["body", "custom", "channel"]]
    assert loc(create({"budget": 1, "deadline": "31/12/2024"})) == [["body", "custom", "deadline"]]
    assert loc(create({"budget": 1, "paid": "maybe"})) == [["body", "custom", "paid"]]
    assert loc(create({"budget": 1, "colour": "red"})) == [["body", "custom", "colour"]]
    ok = create({"budget": "1250.50", "channel": "email", "deadline": "2024-12-31", "paid": "yes"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["custom"] == {
        "budget": 1250.5,
        "channel": "email",
        "deadline": "2024-12-31",
        "paid": True,
    }
    task_id = ok.json()["id"]
    upd = client.patch(
        f"/api/tasks/{task_id}", json={"custom": {"paid": False}}, headers=people["ana"]
    )
    assert upd.json()["custom"]["paid"] is False and upd.json()["custom"]["budget"] == 1250.5
    cleared = client.patch(
        f"/api/tasks/{task_id}", json={"custom": {"budget": None}}, headers=people["ana"]
    )
    assert loc(cleared) == [["body", "custom", "budget"]]


def test_filter_clause_compares_by_kind(db, users):
    from sqlalchemy import select

    from crm_core.auth.principal import SYSTEM
    from crm_core.clients.models import Client
    from crm_core.customfields import service
    from crm_core.errors import Invalid

    service.create_field(
        db, SYSTEM, entity="client", key="employees", label="Employees", kind="number"
    )
    service.create_field(db, SYSTEM, entity="client", key="sector", label="Sector", kind="text")
    a_row, b_row = Client(display_name="A"), Client(display_name="B")
    db.add_all([a_row, b_row])
    db.flush()
    a, b = a_row.id, b_row.id
    service.save_values(
        db,
        "client",
        a,
        service.validate_values(db, "client", {"employees": "9", "sector": "Retail"}),
    )
    service.save_values(db, "client", b, service.validate_values(db, "client", {"employees": 10}))
    db.flush()

    def ids(key, raw):
        return sorted(
            db.scalars(select(Client.id).where(service.filter_clause(db, "client", key, raw)))
        )

    assert ids("employees", "9") == [a]  # 9 == 9, not the text "9" < "10"
    assert ids("employees", "10.0") == [b]
    assert ids("sector", "retail") == [a]
    with pytest.raises(Invalid) as exc:
        service.filter_clause(db, "client", "nope", "x")
    assert exc.value.loc == ["nope"]
    assert service.values_for(db, "client", [a, b]) == {
        a: {"employees": 9, "sector": "Retail"},
        b: {"employees": 10},
    }


def test_deleting_a_field_removes_its_values(client, people):
    h = people["admin"]
    f = define(client, h, entity="task", key="note", label="Note", kind="text")
    t = client.post("/api/tasks", json={"title": "t", "custom": {"note": "x"}}, headers=h).json()
    assert client.delete(f"/api/custom-fields/{f['id']}", headers=h).status_code == 204
    assert client.get(f"/api/tasks/{t['id']}", headers=h).json()["custom"] == {}


def test_label_renames_per_language(client, people):
    h = people["admin"]
    r = client.put(
        "/api/labels",
        json={"entity": "client", "field": "org_name", "language": "ro", "label": "Companie"},
        headers=h,
    )
    assert r.status_code == 200, r.text
    client.put(
        "/api/labels",
        json={"entity": "client", "field": "org_name", "language": "", "label": "Company"},
        headers=h,
    )
    again = client.put(
        "/api/labels",
        json={"entity": "client", "field": "org_name", "language": "ro", "label": "Firmă"},
        headers=h,
    )
    assert again.json()["id"] == r.json()["id"]
    ro = client.get("/api/labels?language=ro", headers=people["ana"]).json()
    assert sorted((x["language"], x["label"]) for x in ro) == [("", "Company"), ("ro", "Firmă")]
    ru = client.get("/api/labels?language=ru", headers=people["ana"]).json()
    assert [x["label"] for x in ru] == ["Company"]
    bad = client.put(
        "/api/labels",
        json={"entity": "client", "field": "org_name", "language": "de", "label": "Firma"},
        headers=h,
    )
    assert loc(bad) == [["body", "language"]]
    assert (
        client.put(
            "/api/labels",
            json={"entity": "client", "field": "org_name", "language": "", "label": "X"},
            headers=people["ana"],
        ).status_code
        == 403
    )

    from crm_core.customfields.labels import label_map
    from crm_core.database import session_scope

    with session_scope() as s:
        assert label_map(s, "ro")["client"]["org_name"] == "Firmă"
        assert label_map(s, "en")["client"]["org_name"] == "Company"


def test_category_and_source_lists_have_defaults(client, people):
    cats = client.get("/api/choices/client_category", headers=people["ana"]).json()
    assert {"vip", "regular", "prospect"} <= {c["code"] for c in cats}
    sources = client.get("/api/choices/client_source", headers=people["ana"]).json()
    assert "referral" in {c["code"] for c in sources}
    assert client.get("/api/choices/planets", headers=people["ana"]).status_code == 422


def test_text_values_no_database_can_hold_are_422(client, people):
    define(client, people["admin"], entity="task", key="memo", label="Memo", kind="text")
    # as JSON escapes: a lone surrogate cannot even be encoded by the test client
    for bad in ("a\\u0000b", "\\ud800"):
        r = client.post(
            "/api/tasks",
            content='{"title": "t", "custom": {"memo": "' + bad + '"}}',
            headers={**people["ana"], "Content-Type": "application/json"},
        )
        assert loc(r) == [["body", "custom", "memo"]]
    r = client.post("/api/tasks", json={"title": "nul\x00title"}, headers=people["ana"])
    assert loc(r) == [["body", "title"]]

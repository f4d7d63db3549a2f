"""Contracts: numbered per series and year, rights by client, the signed scan, the owner's
reminder before expiry (a task for them only, then the in-app task reminder), auto-renewal;
and the invoice reminders to the client through the outbox."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories import colleagues, loc, make_client, team_id, user_id


@pytest.fixture
def people(client):
    return colleagues(ana=("operator", "Sales"), ion=("operator", "Sales"),
                      vlad=("operator", "Support"), boss=("manager", "Sales"))  # fmt: skip


@pytest.fixture
def buyer(people) -> int:
    return make_client("Ion Țurcanu", "Sales", phone="+40 721 000 222")


def new_contract(client, headers, client_id, **extra):
    body = {"client_id": client_id, "title": "Mentenanță", "starts_on": "2026-01-01",
            "ends_on": "2026-12-31", "amount": "1200.00", **extra}  # fmt: skip
    response = client.post("/api/contracts", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_contracts_are_numbered_per_series_and_year(client, people, buyer):
    first = new_contract(client, people["ana"], buyer)
    second = new_contract(client, people["ana"], buyer)
    other_year = new_contract(client, people["ana"], buyer, starts_on="2027-02-01", ends_on=None)
    assert (first["number"], second["number"]) == ("C-2026-0001", "C-2026-0002")
    assert other_year["number"] == "C-2027-0001"
    assert first["owner_id"] == user_id("ana") and first["amount"] == "1200.00"
    assert first["remind_at"].startswith("2026-12-01")


def test_bad_contract_input_names_the_field(client, people, buyer):
    bad = client.post("/api/contracts", json={"client_id": buyer, "starts_on": "2026-05-01",
                                              "ends_on": "2026-04-01"}, headers=people["ana"])  # fmt: skip
    assert loc(bad) == [["body", "ends_on"]]
    assert loc(client.post("/api/contracts", json={"client_id": buyer}, headers=people["ana"])) == [
        ["body", "starts_on"]
    ]
    assert client.get("/api/contracts", headers=people["boss"]).json()["total"] == 0


def test_other_teams_contracts_are_missing(client, people, buyer):
    made = new_contract(client, people["ana"], buyer)
    url = f"/api/contracts/{made['id']}"
    assert client.get(url, headers=people["vlad"]).status_code == 404
    assert client.patch(url, json={"title": "x"}, headers=people["vlad"]).status_code == 404
    files = {"file": ("scan.pdf", b"%PDF-1.4 signed", "application/pdf")}
    assert client.post(f"{url}/scan", files=files, headers=people["vlad"]).status_code == 404
    assert client.get("/api/contracts", headers=people["vlad"]).json()["total"] == 0
    assert client.get(url, headers=people["ion"]).status_code == 200


def test_the_signed_scan_is_kept_as_a_file_of_the_client(client, people, buyer):
    made = new_contract(client, people["ana"], buyer)
    files = {"file": ("semnat.pdf", b"%PDF-1.4 signed scan", "application/pdf")}
    response = client.post(f"/api/contracts/{made['id']}/scan", files=files, headers=people["ana"])
    assert response.status_code == 200, response.text
    scan_id = response.json()["scan_attachment_id"]
    listed = client.get(f"/api/clients/{buyer}/attachments", headers=people["ana"]).json()
    assert [a["id"] for a in listed] == [scan_id]
    content = client.get(f"/api/attachments/{scan_id}/download", headers=people["ana"])
    assert content.content == b"%PDF-1.4 signed scan"


def test_an_invoice_issued_from_a_contract_bills_its_amount(client, people, buyer):
    made = new_contract(client, people["ana"], buyer)
    inv = client.post("/api/invoices", json={"client_id": buyer, "contract_id": made["id"]},
                      headers=people["ana"]).json()  # fmt: skip
    assert inv["contract_id"] == made["id"] and inv["net_total"] == "1200.00"
    assert client.get(f"/api/contracts/{made['id']}", headers=people["ana"]).json()[
        "invoice_ids"
    ] == [inv["id"]]


def test_the_owner_alone_is_reminded_before_expiry(client, people, buyer):
    from crm_core.database import session_scope
    from crm_core.tasks.models import Task
    from notifier.invoice_reminders.service import remind_contract_owners
    from notifier.reminders.service import publish_due_task_reminders

    soon = (date.today() + timedelta(days=10)).isoformat()
    made = new_contract(client, people["ana"], buyer, starts_on="2025-01-01", ends_on=soon,
                        owner_id=user_id("ion"), remind_days_before=30)  # fmt: skip
    new_contract(client, people["ana"], buyer, starts_on="2025-01-01",
                 ends_on=(date.today() + timedelta(days=200)).isoformat())  # fmt: skip
    now = datetime.now(UTC)
    with session_scope() as db:
        assert remind_contract_owners(db, now) == 1
    with session_scope() as db:
        assert remind_contract_owners(db, now) == 0  # never twice
        tasks = db.scalars(select(Task).where(Task.source == "contract_expiry")).all()
        assert [(t.assignee_id, t.client_id) for t in tasks] == [(user_id("ion"), buyer)]
        assert tasks[0].title == f"Contract {made['number']} ends on {soon}"
        assert publish_due_task_reminders(db, now + timedelta(seconds=1)) == 1
        _reads_in_romanian(db, tasks[0], made["number"], date.fromisoformat(soon))
        _pops_up_in_romanian(db, made["number"], date.fromisoformat(soon))


def _pops_up_in_romanian(db, number: str, ends_on: date) -> None:
    """The buyer calls: the popup's card lists the contract's end task in Romanian (its
    tasks carry no client of their own: they are the card's client's)."""
    from babel.dates import format_date

    from crm_core.auth.principal import Principal
    from crm_core.clients.lookup import card_for_e164

    ion = Principal(user_id("ion"), "ion", "operator", team_id=team_id("Sales"), language="ro")
    card = card_for_e164(db, "+40721000222", ion)
    day = format_date(ends_on, "medium", locale="ro")
    assert [t.title for t in card.open_tasks] == [f"Contractul {number} se încheie pe {day}"]


def _reads_in_romanian(db, task, number: str, ends_on: date) -> None:
    """The owner reading Romanian sees the contract's end in Romanian words and date."""
    from babel.dates import format_date

    from crm_core import wording
    from crm_core.auth.principal import Principal

    with wording.reading_as(Principal(1, "ion", "operator", language="ro")):
        title = wording.shown_tasks(db, [task])[0].title
    day = format_date(ends_on, "medium", locale="ro")
    assert title == f"Contractul {number} se încheie pe {day}"


def test_expired_contracts_renew_or_expire(client, people, buyer):
    from crm_core.database import session_scope
    from notifier.invoice_reminders.service import remind_contract_owners

    renewing = new_contract(client, people["ana"], buyer, starts_on="2024-01-01",
                            ends_on="2024-12-31", auto_renew=True, renewal_months=12)  # fmt: skip
    ending = new_contract(
        client, people["ana"], buyer, starts_on="2024-01-01", ends_on="2024-12-31"
    )
    with session_scope() as db:
        remind_contract_owners(db)
    renewed = client.get(f"/api/contracts/{renewing['id']}", headers=people["ana"]).json()
    assert renewed["status"] == "active" and date.fromisoformat(renewed["ends_on"]) >= date.today()
    assert client.get(f"/api/contracts/{ending['id']}", headers=people["ana"]).json()["status"] == (
        "expired"
    )


def test_clients_are_reminded_of_invoices_before_and_after_the_due_date(client, people, buyer):
    from crm_core.database import session_scope
    from notifier.invoice_reminders.service import run_invoice_reminders
    from tests.factories import outbox_rows

    line = {"description": "Servicii", "quantity": "1", "unit_price": "50.00", "vat_rate": "0"}
    soon = (date.today() + timedelta(days=2)).isoformat()
    late = (date.today() - timedelta(days=8)).isoformat()
    for due in (soon, late):
        made = client.post("/api/invoices", json={"client_id": buyer, "due_date": due, "issue": True,
                                                  "lines": [line]}, headers=people["ana"])  # fmt: skip
        assert made.status_code == 201, made.text
    with session_scope() as db:
        assert run_invoice_reminders(db) == 2
    with session_scope() as db:
        assert run_invoice_reminders(db) == 0
        rows = outbox_rows(db, "invoice-remind:")
        assert len(rows) == 2 and {r.recipient for r in rows} == {"+40721000222"}
        assert any("50.00 RON" in r.body and soon in r.body for r in rows)

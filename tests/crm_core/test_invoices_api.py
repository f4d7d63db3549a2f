"""Invoices through the API: totals to the cent, the life cycle, payments, credit notes,
bad input refused with the field named and nothing written, other teams' invoices 404."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import audit_entries, colleagues, loc, make_client


@pytest.fixture
def people(client):
    return colleagues(
        boss=("manager", "Sales"),
        ana=("operator", "Sales"),
        vlad=("operator", "Support"),
    )


@pytest.fixture
def buyer(people) -> int:
    return make_client("Ștefan Țurcanu", "Sales", phone="+40 721 000 111")


def counts() -> tuple[int, int, int]:
    from crm_core.database import session_scope
    from crm_core.invoices.models import Invoice, InvoiceLine, Payment

    with session_scope() as s:
        return tuple(s.scalar(select(func.count(m.id))) for m in (Invoice, InvoiceLine, Payment))


LINES = [
    # 3 x 33.33 less 10 % = 89.991 -> 89.99; VAT 21 % = 18.8979 -> 18.90
    {"description": "Consultanță", "quantity": "3", "unit_price": "33.33",
     "discount_percent": "10", "vat_rate": "21"},
    # 1.5 x 19.99 = 29.985 -> 29.99; VAT 11 % = 3.2989 -> 3.30
    {"description": "Хлеб", "quantity": "1.5", "unit_price": "19.99", "vat_rate": "11"},
    # 7 x 0.05 = 0.35; VAT 0
    {"description": "Stamp", "quantity": "7", "unit_price": "0.05", "vat_rate": "0"},
]  # fmt: skip


def new_invoice(client, headers, client_id, **extra):
    body = {"client_id": client_id, "currency": "RON", "lines": LINES, **extra}
    response = client.post("/api/invoices", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_totals_are_sums_of_lines_rounded_half_up_to_the_cent(client, people, buyer):
    inv = new_invoice(client, people["ana"], buyer)
    assert inv["status"] == "draft" and inv["number"] is None
    assert [line["net"] for line in inv["lines"]] == ["89.99", "29.99", "0.35"]
    assert [line["vat"] for line in inv["lines"]] == ["18.90", "3.30", "0.00"]
    assert inv["net_total"] == "120.33"
    assert inv["vat_total"] == "22.20"
    assert inv["total"] == "142.53"
    assert inv["balance"] == "142.53"
    assert isinstance(inv["total"], str)


def test_issue_numbers_then_payments_move_status_and_balance(client, people, buyer):
    inv = new_invoice(client, people["ana"], buyer, series="ab")
    issued = client.post(f"/api/invoices/{inv['id']}/issue", headers=people["ana"]).json()
    assert issued["status"] == "issued"
    assert issued["number"].startswith("AB-") and issued["number"].endswith("-0001")
    assert issued["due_date"] is not None
    url = f"/api/invoices/{inv['id']}/payments"
    first = client.post(url, json={"amount": "42.53", "method": "card"}, headers=people["ana"])
    assert first.status_code == 201, first.text
    after = client.get(f"/api/invoices/{inv['id']}", headers=people["ana"]).json()
    assert after["status"] == "partially_paid" and after["balance"] == "100.00"
    assert client.get(f"/api/clients/{buyer}/balance", headers=people["ana"]).json() == {
        "client_id": buyer,
        "balances": {"RON": "100.00"},
    }
    client.post(url, json={"amount": "100.00", "reference": "OP 17"}, headers=people["ana"])
    paid = client.get(f"/api/invoices/{inv['id']}", headers=people["ana"]).json()
    assert paid["status"] == "paid" and paid["balance"] == "0.00"
    assert [p["amount"] for p in paid["payments"]] == ["42.53", "100.00"]
    refund = client.post(
        f"/api/invoices/{inv['id']}/refunds",
        json={"amount": "10.00", "reason": "damaged item"},
        headers=people["ana"],
    )
    assert refund.status_code == 201 and refund.json()["amount"] == "-10.00"
    back = client.get(f"/api/invoices/{inv['id']}", headers=people["ana"]).json()
    assert back["status"] == "partially_paid" and back["balance"] == "10.00"
    assert [a for a, *_ in audit_entries("invoice", inv["id"])][:2] == ["create", "issue"]


def test_payment_above_balance_is_refused_unless_kept_as_credit(client, people, buyer):
    inv = new_invoice(client, people["ana"], buyer, issue=True)
    url = f"/api/invoices/{inv['id']}/payments"
    before = counts()
    refused = client.post(url, json={"amount": "150.00"}, headers=people["ana"])
    assert loc(refused) == [["body", "amount"]]
    assert counts() == before
    kept = client.post(url, json={"amount": "150.00", "as_credit": True}, headers=people["ana"])
    assert kept.status_code == 201, kept.text
    assert [(p["kind"], p["amount"]) for p in kept.json()] == [
        ("payment", "142.53"),
        ("credit", "7.47"),
    ]
    balance = client.get(f"/api/clients/{buyer}/balance", headers=people["ana"]).json()
    assert balance["balances"] == {"RON": "-7.47"}  # the client's credit


def test_an_issued_invoice_is_never_edited_or_deleted(client, people, buyer):
    inv = new_invoice(client, people["ana"], buyer, issue=True)
    before = client.get(f"/api/invoices/{inv['id']}", headers=people["ana"]).json()
    patched = client.patch(
        f"/api/invoices/{inv['id']}", json={"notes": "changed"}, headers=people["ana"]
    )
    assert loc(patched) == [["body", "status"]]
    deleted = client.delete(f"/api/invoices/{inv['id']}", headers=people["boss"])
    assert loc(deleted) == [["body", "status"]]
    assert client.get(f"/api/invoices/{inv['id']}", headers=people["ana"]).json() == before


def test_a_draft_is_edited_and_deleted(client, people, buyer):
    inv = new_invoice(client, people["ana"], buyer)
    changed = client.patch(
        f"/api/invoices/{inv['id']}",
        json={"lines": [{"description": "One", "quantity": "2", "unit_price": "5", "vat_rate": "21"}]},
        headers=people["ana"],
    ).json()  # fmt: skip
    assert changed["total"] == "12.10"
    assert client.delete(f"/api/invoices/{inv['id']}", headers=people["ana"]).status_code == 204
    assert counts() == (0, 0, 0)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "1", "vat_rate": "21"}, "quantity"),
        ({"description": "x", "quantity": "0", "unit_price": "1", "vat_rate": "21"}, "quantity"),
        ({"description": "x", "quantity": "1", "unit_price": "1", "vat_rate": "19"}, "vat_rate"),
        ({"description": "x", "quantity": "1", "unit_price": "-1", "vat_rate": "21"}, "unit_price"),
        ({"description": "x", "quantity": "1", "unit_price": "1.001", "vat_rate": "21"}, "unit_price"),
        ({"quantity": "1", "unit_price": "1", "vat_rate": "21"}, "description"),
        ({"product_id": 999, "quantity": "1", "vat_rate": "21"}, "product_id"),
        ({"description": "x", "quantity": "1", "unit_price": "1", "vat_rate": "21",
          "discount_percent": "101"}, "discount_percent"),
    ],
)  # fmt: skip
def test_bad_lines_are_refused_naming_the_field_and_nothing_is_written(
    client, people, buyer, line, field
):
    response = client.post(
        "/api/invoices",
        json={"client_id": buyer, "lines": [LINES[0], line]},
        headers=people["ana"],
    )
    assert loc(response)[0][-1] == field
    assert loc(response)[0][-2:] == [1, field]
    assert counts() == (0, 0, 0)


def test_other_teams_invoices_are_missing_on_reads_and_writes(client, people, buyer):
    inv = new_invoice(client, people["ana"], buyer, issue=True)
    vlad = people["vlad"]
    base = f"/api/invoices/{inv['id']}"
    assert client.get(base, headers=vlad).status_code == 404
    assert client.get(f"{base}/payments", headers=vlad).status_code == 404
    assert client.patch(base, json={"notes": "x"}, headers=vlad).status_code == 404
    assert client.delete(base, headers=vlad).status_code == 404
    assert client.post(f"{base}/issue", headers=vlad).status_code == 404
    pay = client.post(f"{base}/payments", json={"amount": "1.00"}, headers=vlad)
    assert pay.status_code == 404
    note = client.post(f"{base}/credit-note", json={"reason": "x"}, headers=vlad)
    assert note.status_code == 404
    assert client.get(f"/api/clients/{buyer}/balance", headers=vlad).status_code == 404
    assert client.get("/api/invoices", headers=vlad).json()["total"] == 0
    refused = client.post("/api/invoices", json={"client_id": buyer, "lines": LINES}, headers=vlad)
    assert loc(refused) == [["body", "client_id"]]
    assert counts()[2] == 0
    assert client.get(base, headers=people["boss"]).status_code == 200


def test_a_credit_note_cancels_the_invoice_and_its_debt(client, people, buyer):
    inv = new_invoice(client, people["ana"], buyer, issue=True)
    client.post(
        f"/api/invoices/{inv['id']}/payments", json={"amount": "40.00"}, headers=people["ana"]
    )
    note = client.post(
        f"/api/invoices/{inv['id']}/credit-note",
        json={"reason": "wrong buyer"},
        headers=people["ana"],
    )
    assert note.status_code == 201, note.text
    body = note.json()
    assert body["kind"] == "credit_note" and body["number"].startswith("CN-")
    assert body["total"] == "-142.53" and body["credit_of_id"] == inv["id"]
    cancelled = client.get(f"/api/invoices/{inv['id']}", headers=people["ana"]).json()
    assert cancelled["status"] == "cancelled" and cancelled["credit_note_id"] == body["id"]
    balance = client.get(f"/api/clients/{buyer}/balance", headers=people["ana"]).json()
    assert balance["balances"] == {"RON": "-40.00"}  # what was paid is now credit
    again = client.post(
        f"/api/invoices/{inv['id']}/credit-note", json={"reason": "again"}, headers=people["ana"]
    )
    assert loc(again) == [["body", "status"]]
    pay = client.post(
        f"/api/invoices/{inv['id']}/payments", json={"amount": "1"}, headers=people["ana"]
    )
    assert loc(pay) == [["body", "status"]]


def test_list_filters_and_totals(client, people, buyer):
    other = make_client("Ion Popescu", "Sales")
    a = new_invoice(client, people["ana"], buyer, issue=True)
    b = new_invoice(client, people["ana"], other, issue=True, due_date="2020-01-31")
    new_invoice(client, people["ana"], other)  # a draft
    client.post(
        f"/api/invoices/{a['id']}/payments", json={"amount": "142.53"}, headers=people["ana"]
    )
    h = people["ana"]
    listed = client.get("/api/invoices", headers=h).json()
    assert listed["total"] == 3
    assert listed["sums"]["RON"] == {"total": "285.06", "paid": "142.53", "balance": "142.53"}
    assert [
        i["id"] for i in client.get("/api/invoices?overdue=true", headers=h).json()["items"]
    ] == [b["id"]]
    assert [
        i["id"] for i in client.get("/api/invoices?debtors=true", headers=h).json()["items"]
    ] == [b["id"]]
    assert client.get("/api/invoices?status=paid", headers=h).json()["items"][0]["id"] == a["id"]
    assert client.get(f"/api/invoices?client_id={buyer}", headers=h).json()["total"] == 1
    assert client.get("/api/invoices?status=bogus", headers=h).status_code == 422
    assert client.get("/api/invoices?series=INV", headers=h).json()["total"] == 3
    listed_b = client.get("/api/invoices?overdue=true", headers=h).json()["items"][0]
    assert listed_b["overdue"] is True and listed_b["client_name"] == "Ion Popescu"


def test_invoice_from_an_order_copies_its_lines(client, people, buyer, db):
    from crm_core.database import session_scope
    from crm_core.orders.models import Order, OrderLine

    with session_scope() as s:
        order = Order(number="2026-000001", client_id=buyer, status="new", public_token="t" * 32,
                      currency="RON")  # fmt: skip
        order.lines = [
            OrderLine(position=0, description="Masă", quantity=Decimal("2"), unit="pcs",
                      unit_price=Decimal("100.00"), vat_rate=Decimal("21"), net=Decimal("200.00"),
                      vat=Decimal("42.00")),
        ]  # fmt: skip
        s.add(order)
        s.flush()
        order_id = order.id
    inv = client.post(
        "/api/invoices", json={"client_id": buyer, "order_id": order_id}, headers=people["ana"]
    ).json()
    assert inv["order_id"] == order_id
    assert [(line["description"], line["total"]) for line in inv["lines"]] == [("Masă", "242.00")]

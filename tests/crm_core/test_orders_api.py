"""Orders through the API: lines from the catalog priced for the client, bad input as 422
naming the field with nothing written, row rights (404 for other teams' orders), the status
pipeline with its history, overdue orders, and the public status by token."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from crm_core.auth.principal import SYSTEM
from crm_core.catalog import pricelists
from crm_core.catalog import service as catalog
from crm_core.database import session_scope
from crm_core.orders import service as orders
from crm_core.orders.models import Order, OrderLine
from tests.factories import add_client, audit_entries, colleagues, loc, user_id


def _catalog() -> int:
    from decimal import Decimal

    with session_scope() as db:
        tea = catalog.create_product(
            db,
            SYSTEM,
            {"name": "Ceai de tei", "sku": "TEA", "vat_rate": Decimal("11"), "unit": "kg"},
        )
        pricelists.create_price_list(
            db, SYSTEM, {"name": "Retail", "is_default": True,
                         "items": [{"product_id": tea.id, "price": Decimal("45.90")}]},
        )  # fmt: skip
        return tea.id


def _order(client, headers, client_id, **extra):
    body = {"client_id": client_id, "lines": [{"description": "Montaj", "quantity": "2",
            "unit_price": "100", "vat_rate": "21"}], **extra}  # fmt: skip
    response = client.post("/api/orders", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _count(model) -> int:
    with session_scope() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_an_order_from_the_catalog_priced_for_the_client(client):
    h = colleagues(ana=("operator", "Sales"))
    tea = _catalog()
    cid = add_client("Ana Popescu", discount_percent="10")
    made = client.post(
        "/api/orders",
        json={"client_id": cid, "deadline": "2030-01-31",
              "lines": [{"product_id": tea, "quantity": "1.5"},
                        {"description": "Livrare", "unit_price": "15", "vat_rate": "21",
                         "discount_percent": "0"}]},
        headers=h["ana"],
    )  # fmt: skip
    assert made.status_code == 201, made.text
    order = made.json()
    first, second = order["lines"]
    assert (first["description"], first["unit"], first["unit_price"]) == (
        "Ceai de tei",
        "kg",
        "45.90",
    )
    assert (first["discount_percent"], first["vat_rate"], first["quantity"]) == (
        "10.00",
        "11.00",
        "1.5",
    )
    # 1.5 x 45.90 = 68.85, less 10 % = 61.965 -> 61.97; VAT 11 % = 6.8167 -> 6.82
    assert (first["net"], first["vat"]) == ("61.97", "6.82")
    assert (second["net"], second["vat"]) == ("15.00", "3.15")
    assert (order["net_total"], order["vat_total"], order["total"]) == ("76.97", "9.97", "86.94")
    assert order["status"] == "new" and order["number"].endswith("-000001")
    assert order["public_url"].split("/o/")[1] and len(order["public_url"].split("/o/")[1]) >= 20
    again = _order(client, h["ana"], cid)
    assert again["number"].endswith("-000002")
    assert [a for a, _, _ in audit_entries("order", order["id"])] == ["create"]


def test_bad_input_names_the_field_and_writes_nothing(client):
    h = colleagues(ana=("operator", "Sales"))
    tea = _catalog()
    cid = add_client("Ana Popescu")
    cases = [
        ({"lines": [{"product_id": tea, "quantity": "-1"}]}, ["body", "lines", 0, "quantity"]),
        ({"lines": [{"product_id": tea, "vat_rate": "19"}]}, ["body", "lines", 0, "vat_rate"]),
        ({"lines": [{"product_id": 9999}]}, ["body", "lines", 0, "product_id"]),
        ({"lines": [{"product_id": tea}, {"description": "x", "vat_rate": "0"}]},
         ["body", "lines", 1, "unit_price"]),
        ({"lines": [{"product_id": tea, "discount_percent": "101"}]},
         ["body", "lines", 0, "discount_percent"]),
        ({"lines": [{"product_id": tea, "unit_price": "abc"}]}, ["body", "lines", 0, "unit_price"]),
        ({"status": "lost"}, ["body", "status"]),
        ({"assignee_id": 4242}, ["body", "assignee_id"]),
    ]  # fmt: skip
    for extra, where in cases:
        response = client.post("/api/orders", json={"client_id": cid, **extra}, headers=h["ana"])
        assert loc(response) == [where], extra
    assert loc(client.post("/api/orders", json={"client_id": 4242}, headers=h["ana"])) == [
        ["body", "client_id"]
    ]
    assert _count(Order) == 0 and _count(OrderLine) == 0
    # an edit with a bad line leaves the order as it was
    order = _order(client, h["ana"], cid)
    bad = client.patch(
        f"/api/orders/{order['id']}",
        json={"lines": [{"product_id": tea, "quantity": "0"}]},
        headers=h["ana"],
    )
    assert loc(bad) == [["body", "lines", 0, "quantity"]]
    kept = client.get(f"/api/orders/{order['id']}", headers=h["ana"]).json()
    assert [ln["description"] for ln in kept["lines"]] == ["Montaj"] and kept["total"] == "242.00"


def test_other_teams_orders_are_missing_for_reads_and_writes(client):
    h = colleagues(
        ana=("operator", "Sales"), ion=("operator", "Support"), boss=("manager", "Support")
    )
    theirs = add_client("Ion Rusu", team="Support")
    order = _order(client, h["ion"], theirs)
    oid = order["id"]
    assert client.get(f"/api/orders/{oid}", headers=h["ana"]).status_code == 404
    assert (
        client.patch(f"/api/orders/{oid}", json={"note": "x"}, headers=h["ana"]).status_code == 404
    )
    moved = client.post(f"/api/orders/{oid}/status", json={"status": "confirmed"}, headers=h["ana"])
    assert moved.status_code == 404
    assert client.get("/api/orders", headers=h["ana"]).json()["total"] == 0
    assert loc(client.post("/api/orders", json={"client_id": theirs}, headers=h["ana"])) == [
        ["body", "client_id"]
    ]
    listed = client.get("/api/orders", params={"client_id": theirs}, headers=h["ana"])
    assert listed.status_code == 404
    # the order is untouched; the managers and its own team see it
    for who in ("ion", "boss"):
        seen = client.get(f"/api/orders/{oid}", headers=h[who]).json()
        assert (seen["status"], seen["note"]) == ("new", "")


def test_status_pipeline_with_history_and_audit(client):
    h = colleagues(ana=("operator", "Sales"))
    cid = add_client("Ana Popescu")
    order = _order(client, h["ana"], cid)
    for code in ("confirmed", "in_work", "ready"):
        moved = client.post(
            f"/api/orders/{order['id']}/status", json={"status": code}, headers=h["ana"]
        )
        assert moved.status_code == 200 and moved.json()["status"] == code
    history = moved.json()["history"]
    assert [(x["from_status"], x["to_status"]) for x in history] == [
        (None, "new"), ("new", "confirmed"), ("confirmed", "in_work"), ("in_work", "ready")
    ]  # fmt: skip
    assert all(x["actor_id"] == user_id("ana") for x in history)
    same = client.post(
        f"/api/orders/{order['id']}/status", json={"status": "ready"}, headers=h["ana"]
    )
    assert loc(same) == [["body", "status"]]
    unknown = client.post(
        f"/api/orders/{order['id']}/status", json={"status": "x"}, headers=h["ana"]
    )
    assert loc(unknown) == [["body", "status"]]
    changes = [c for a, _, c in audit_entries("order", order["id"]) if a == "update"]
    assert changes[-1] == {"status": ["in_work", "ready"]}
    filtered = client.get("/api/orders", params={"status": "ready"}, headers=h["ana"]).json()
    assert [o["id"] for o in filtered["items"]] == [order["id"]]


def test_overdue_orders_are_past_deadline_and_not_closed(client, db):
    h = colleagues(ana=("operator", "Sales"), bob=("operator", "Sales"))
    cid = add_client("Ana Popescu")
    today = orders.local_today()
    late = _order(client, h["ana"], cid, deadline=str(today - timedelta(days=2)),
                  assignee_id=user_id("bob"))  # fmt: skip
    done = _order(client, h["ana"], cid, deadline=str(today - timedelta(days=3)))
    client.post(f"/api/orders/{done['id']}/status", json={"status": "delivered"}, headers=h["ana"])
    _order(client, h["ana"], cid, deadline=str(today))  # due today: not overdue yet
    _order(client, h["ana"], cid)  # no deadline
    listed = client.get("/api/orders", params={"overdue": "true"}, headers=h["ana"]).json()
    assert [o["number"] for o in listed["items"]] == [late["number"]]
    assert listed["items"][0]["overdue"] is True
    assert [o.id for o in orders.overdue_orders(db)] == [late["id"]]
    assert [o.id for o in orders.overdue_orders(db, assignee_id=user_id("bob"))] == [late["id"]]
    assert orders.overdue_orders(db, assignee_id=user_id("ana")) == []
    mine = client.get(
        "/api/orders", params={"overdue": "true", "assignee_id": user_id("bob")}, headers=h["ana"]
    )
    assert mine.json()["total"] == 1


def test_public_status_by_token_without_login(client):
    h = colleagues(ana=("operator", "Sales"))
    cid = add_client("Ana Popescu", phone="+40712345678")
    order = _order(client, h["ana"], cid, deadline="2031-03-01")
    token = order["public_url"].split("/o/")[1]
    client.post(f"/api/orders/{order['id']}/status", json={"status": "in_work"}, headers=h["ana"])
    shown = client.get(f"/api/public/orders/{token}", params={"lang": "ro"})
    assert shown.status_code == 200
    data = shown.json()
    assert (data["number"], data["status"], data["status_label"]) == (
        order["number"],
        "in_work",
        "În lucru",
    )
    assert data["first_name"] == "Ana" and data["deadline"] == "2031-03-01"
    assert data["lines"] == [{"description": "Montaj", "quantity": "2", "unit": "pcs"}]
    text = shown.text
    assert "Popescu" not in text and "712345678" not in text and str(cid) not in data.values()
    russian = client.get(
        f"/api/public/orders/{token}", headers={"Accept-Language": "ru-RU,ru;q=0.9"}
    )
    assert russian.json()["status_label"] == "В работе"
    assert client.get("/api/public/orders/" + "x" * 22).status_code == 404
    assert client.get("/api/public/orders/" + token[:-1]).status_code == 404

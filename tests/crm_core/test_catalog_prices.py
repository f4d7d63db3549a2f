"""Catalog and prices through the API: products with VAT rates from the rates table, price
lists per client category, the category's or the client's own discount, overrides per line."""

from __future__ import annotations

from decimal import Decimal

from crm_core.auth.principal import SYSTEM
from crm_core.catalog import pricelists
from crm_core.catalog import service as catalog
from tests.factories import add_client, audit_entries, colleagues, loc


def _product(client, headers, sku="SKU-1", name="Ceai verde", vat="21", **extra):
    response = client.post(
        "/api/products",
        json={"name": name, "sku": sku, "vat_rate": vat, "unit": "buc", **extra},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_products_in_categories_with_shipped_vat_rates(client):
    h = colleagues(boss=("manager", "Sales"), ana=("operator", "Sales"))
    rates = client.get("/api/vat-rates", headers=h["ana"]).json()
    assert {r["rate"] for r in rates} >= {"21.00", "11.00", "22.00", "10.00", "0.00"}
    cat = client.post("/api/product-categories", json={"name": "Напитки"}, headers=h["boss"])
    assert cat.status_code == 201
    made = _product(client, h["boss"], name="Чай «Ș»", category_id=cat.json()["id"], vat="11")
    assert made["vat_rate"] == "11.00" and made["name"] == "Чай «Ș»"
    found = client.get("/api/products", params={"q": "чай"}, headers=h["ana"]).json()
    assert [p["sku"] for p in found["items"]] == ["SKU-1"]
    assert client.get(f"/api/products/{made['id']}", headers=h["ana"]).json()["unit"] == "buc"
    changed = client.patch(
        f"/api/products/{made['id']}", json={"is_active": False}, headers=h["boss"]
    )
    assert changed.json()["is_active"] is False
    assert [a for a, _, _ in audit_entries("product", made["id"])] == ["create", "update"]
    # operators read the catalog but do not change it
    assert (
        client.post(
            "/api/products", json={"name": "x", "sku": "x", "vat_rate": "0"}, headers=h["ana"]
        ).status_code
        == 403
    )


def test_bad_product_input_names_the_field_and_writes_nothing(client):
    h = colleagues(boss=("manager", "Sales"))
    _product(client, h["boss"])
    bad_vat = client.post(
        "/api/products", json={"name": "A", "sku": "A-1", "vat_rate": "19"}, headers=h["boss"]
    )
    assert loc(bad_vat) == [["body", "vat_rate"]]
    dup = client.post(
        "/api/products", json={"name": "B", "sku": "sku-1", "vat_rate": "0"}, headers=h["boss"]
    )
    assert loc(dup) == [["body", "sku"]]
    no_cat = client.post(
        "/api/products",
        json={"name": "C", "sku": "C-1", "vat_rate": "0", "category_id": 999},
        headers=h["boss"],
    )
    assert loc(no_cat) == [["body", "category_id"]]
    assert client.get("/api/products", headers=h["boss"]).json()["total"] == 1


def test_vat_rates_are_configured_by_admins(client):
    h = colleagues(root=("admin", None), boss=("manager", "Sales"))
    body = {"rate": "5", "label": "RO 5", "country": "ro"}
    assert client.post("/api/vat-rates", json=body, headers=h["boss"]).status_code == 403
    made = client.post("/api/vat-rates", json=body, headers=h["root"])
    assert made.status_code == 201 and made.json()["country"] == "RO"
    _product(client, h["boss"], vat="5")
    off = client.patch(
        f"/api/vat-rates/{made.json()['id']}", json={"is_active": False}, headers=h["root"]
    )
    assert off.json()["is_active"] is False
    refused = client.post(
        "/api/products", json={"name": "D", "sku": "D", "vat_rate": "5"}, headers=h["boss"]
    )
    assert loc(refused) == [["body", "vat_rate"]]


def test_price_comes_from_the_category_list_with_its_discount(client, db):
    h = colleagues(boss=("manager", "Sales"))
    tea = _product(client, h["boss"])
    retail = client.post(
        "/api/price-lists",
        json={
            "name": "Retail",
            "is_default": True,
            "items": [{"product_id": tea["id"], "price": "10.50"}],
        },
        headers=h["boss"],
    )
    assert retail.status_code == 201, retail.text
    wholesale = client.post(
        "/api/price-lists",
        json={"name": "Partners", "client_category": "partner",
              "items": [{"product_id": tea["id"], "price": "8.00"}]},
        headers=h["boss"],
    )  # fmt: skip
    assert wholesale.json()["items"][0]["price"] == "8.00"
    put = client.put(
        "/api/client-category-discounts/partner", json={"discount_percent": "5"}, headers=h["boss"]
    )
    assert put.status_code == 200
    walk_in = add_client("Ion Rusu")
    partner = add_client("Maria Lungu", category="partner")
    loyal = add_client("Olga Popa", category="partner", discount_percent=Decimal("12.5"))

    assert catalog.quote_price(db, walk_in, tea["id"]) == (
        Decimal("10.50"),
        Decimal("0.00"),
        Decimal("21.00"),
    )
    assert catalog.quote_price(db, partner, tea["id"]) == (
        Decimal("8.00"),
        Decimal("5.00"),
        Decimal("21.00"),
    )
    unit_price, discount, vat = catalog.quote_price(db, loyal, tea["id"])
    assert (unit_price, discount) == (Decimal("8.00"), Decimal("12.50"))  # the client's own
    assert catalog.quote_price(db, None, tea["id"]).unit_price == Decimal("10.50")
    # the page's auto-fill uses the same quote
    shown = client.get(
        f"/api/products/{tea['id']}/quote", params={"client_id": partner}, headers=h["boss"]
    ).json()
    assert (shown["unit_price"], shown["discount_percent"], shown["vat_rate"]) == ("8.00", "5.00", "21.00")  # fmt: skip


def test_a_product_missing_from_the_category_list_falls_back_to_retail(db):
    tea = catalog.create_product(db, SYSTEM, {"name": "Tea", "sku": "T", "vat_rate": Decimal("0")})
    coffee = catalog.create_product(
        db, SYSTEM, {"name": "Coffee", "sku": "C", "vat_rate": Decimal("22")}
    )
    pricelists.create_price_list(
        db, SYSTEM, {"name": "Retail", "is_default": True, "currency": "RUB",
                     "items": [{"product_id": tea.id, "price": Decimal("100")},
                               {"product_id": coffee.id, "price": Decimal("300")}]},
    )  # fmt: skip
    pricelists.create_price_list(
        db, SYSTEM, {"name": "VIP", "client_category": "vip",
                     "items": [{"product_id": tea.id, "price": Decimal("90")}]},
    )  # fmt: skip
    db.commit()
    vip = add_client("Anna Petrova", category="vip")
    assert catalog.quote_price(db, vip, tea.id).unit_price == Decimal("90.00")
    assert catalog.quote_price(db, vip, coffee.id) == (Decimal("300.00"), Decimal("0.00"), Decimal("22.00"))  # fmt: skip


def test_price_list_bad_items_name_the_item(client):
    h = colleagues(boss=("manager", "Sales"))
    tea = _product(client, h["boss"])
    neg = client.post(
        "/api/price-lists",
        json={"name": "X", "items": [{"product_id": tea["id"], "price": "-1"}]},
        headers=h["boss"],
    )
    assert loc(neg) == [["body", "items", 0, "price"]]
    unknown = client.post(
        "/api/price-lists",
        json={"name": "X", "items": [{"product_id": 4242, "price": "1"}]},
        headers=h["boss"],
    )
    assert loc(unknown) == [["body", "items", 0, "product_id"]]
    bad_cat = client.post(
        "/api/price-lists", json={"name": "X", "client_category": "nope"}, headers=h["boss"]
    )
    assert loc(bad_cat) == [["body", "client_category"]]
    assert client.get("/api/price-lists", headers=h["boss"]).json() == []

"""Demo sales data: a small catalog in three categories, a retail and a partner price list, and
a dozen orders in various statuses (some overdue). Called by ``crm_core.demo.load_demo``.

Statuses are set directly (with their history rows) rather than through ``change_status``, so
loading the demo queues no SMS to the demo clients."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.auth.principal import SYSTEM
from crm_core.catalog import pricelists
from crm_core.catalog import service as catalog
from crm_core.catalog.models import Product
from crm_core.clients.models import Client
from crm_core.database import utcnow
from crm_core.orders import service as orders
from crm_core.orders.models import OrderStatusChange

#: category -> (name, sku, unit, VAT %, retail price, partner price or None)
CATALOG = {
    "Cafea și ceai": [
        ("Cafea boabe Arabica 1 kg", "CAF-001", "kg", "11", "89.90", "79.00"),
        ("Cafea măcinată 250 g", "CAF-002", "buc", "11", "24.50", "21.00"),
        ("Ceai verde Sencha 100 g", "CEA-001", "buc", "11", "18.00", None),
        ("Ceai de tei 50 g", "CEA-002", "buc", "11", "9.90", "8.50"),
        ("Capsule espresso (10)", "CAF-003", "cutie", "11", "21.00", "18.90"),
    ],
    "Echipamente": [
        ("Espressor automat", "ECH-001", "buc", "21", "2499.00", "2199.00"),
        ("Râșniță de cafea", "ECH-002", "buc", "21", "349.00", "309.00"),
        ("Fierbător electric", "ECH-003", "buc", "21", "159.00", None),
        ("Кофемашина капсульная", "ECH-004", "шт", "21", "899.00", "799.00"),
        ("Filtru de apă", "ECH-005", "buc", "21", "59.90", "52.00"),
    ],
    "Servicii": [
        ("Instalare espressor", "SRV-001", "oră", "21", "150.00", "120.00"),
        ("Detartrare și revizie", "SRV-002", "buc", "21", "220.00", None),
        ("Livrare în oraș", "SRV-003", "buc", "21", "25.00", "0.00"),
        ("Instruire barista", "SRV-004", "oră", "21", "180.00", "160.00"),
        ("Chirie espressor / lună", "SRV-005", "lună", "21", "300.00", "250.00"),
    ],
}
#: status, deadline in days from today (None: no deadline), assignee, [(sku, quantity)]
ORDERS = [
    ("new", 5, "ana", [("CAF-001", "2"), ("SRV-003", "1")]),
    ("new", None, None, [("ECH-003", "1")]),
    ("confirmed", 3, "bogdan", [("ECH-001", "1"), ("SRV-001", "2")]),
    ("confirmed", -2, "ana", [("CAF-003", "10"), ("CEA-002", "5")]),
    ("in_work", 1, "olga", [("SRV-002", "1")]),
    ("in_work", -4, "bogdan", [("ECH-004", "1"), ("CAF-003", "3")]),
    ("in_work", -1, "ana", [("SRV-004", "3")]),
    ("ready", 0, "bogdan", [("ECH-002", "1"), ("CAF-002", "4")]),
    ("ready", 2, "olga", [("ECH-005", "6")]),
    ("delivered", -10, "ana", [("CAF-001", "1.5"), ("CEA-001", "2")]),
    ("delivered", -20, "bogdan", [("SRV-005", "3")]),
    ("cancelled", -7, None, [("ECH-001", "1")]),
]
PIPELINE = ("new", "confirmed", "in_work", "ready", "delivered")


def _catalog(db: Session) -> dict[str, Product]:
    products: dict[str, Product] = {}
    retail, partner = [], []
    for position, (category_name, rows) in enumerate(CATALOG.items()):
        category = catalog.create_category(
            db, SYSTEM, {"name": category_name, "position": position}
        )
        for name, sku, unit, vat, price, partner_price in rows:
            product = catalog.create_product(
                db, SYSTEM, {"name": name, "sku": sku, "unit": unit, "vat_rate": Decimal(vat),
                             "category_id": category.id, "kind": "service" if sku.startswith("SRV") else "goods"},
            )  # fmt: skip
            products[sku] = product
            retail.append({"product_id": product.id, "price": Decimal(price)})
            if partner_price is not None:
                partner.append({"product_id": product.id, "price": Decimal(partner_price)})
    pricelists.create_price_list(
        db, SYSTEM, {"name": "Retail", "is_default": True, "currency": "RON", "items": retail}
    )
    pricelists.create_price_list(
        db, SYSTEM, {"name": "Partners (wholesale)", "client_category": "partner",
                     "currency": "RON", "items": partner},
    )  # fmt: skip
    pricelists.set_category_discount(db, SYSTEM, "vip", Decimal("5"))
    return products


def _move(db: Session, order, target: str, actor_id: int | None) -> None:
    path = (
        ["cancelled"] if target == "cancelled" else list(PIPELINE[1 : PIPELINE.index(target) + 1])
    )
    for code in path:
        db.add(OrderStatusChange(order_id=order.id, from_status=order.status, to_status=code,
                                 actor_id=actor_id, changed_at=utcnow()))  # fmt: skip
        order.status = code


def load_sales_demo(db: Session) -> dict[str, int] | None:
    """Create the demo catalog, price lists and orders; None when a catalog exists already."""
    if db.scalar(select(Product.id).limit(1)) is not None:
        return None
    products = _catalog(db)
    clients = list(
        db.scalars(select(Client).where(Client.deleted_at.is_(None)).order_by(Client.id).limit(12))
    )
    if not clients:
        return {"products": len(products), "orders": 0}
    users = {u.username: u.id for u in db.scalars(select(User))}
    today = orders.local_today()
    made = 0
    for index, (status, days, assignee, lines) in enumerate(ORDERS):
        client = clients[index % len(clients)]
        order = orders.create_order(
            db,
            SYSTEM,
            {"client_id": client.id, "assignee_id": users.get(assignee or ""),
             "deadline": today + timedelta(days=days) if days is not None else None,
             "lines": [{"product_id": products[sku].id, "quantity": Decimal(qty)}
                       for sku, qty in lines]},
        )  # fmt: skip
        if status != "new":
            _move(db, order, status, users.get(assignee or ""))
        made += 1
    db.flush()
    return {"products": len(products), "orders": made}

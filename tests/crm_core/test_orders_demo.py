"""The demo's sales data: a catalog in three categories, two price lists, a dozen orders in
several statuses with some overdue, and no SMS queued for the demo clients."""

from __future__ import annotations

from sqlalchemy import func, select

from crm_core.catalog.models import PriceList, Product, ProductCategory
from crm_core.demo import load_demo
from crm_core.orders import service as orders
from crm_core.orders.models import Order
from notifier.outbox.models import OutboxMessage


def test_demo_sales_data(app, db):
    load_demo(db)
    db.commit()
    assert db.scalar(select(func.count(ProductCategory.id))) == 3
    assert db.scalar(select(func.count(Product.id))) == 15
    assert db.scalar(select(func.count(PriceList.id))) == 2
    statuses = set(db.scalars(select(Order.status)))
    assert statuses == {"new", "confirmed", "in_work", "ready", "delivered", "cancelled"}
    assert db.scalar(select(func.count(Order.id))) == 12
    assert len(orders.overdue_orders(db)) == 3
    assert all(o.total > 0 for o in db.scalars(select(Order)))
    assert (
        db.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.purpose == "order_status")
        )
        == 0
    )

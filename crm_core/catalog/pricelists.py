"""Price lists (retail, wholesale, per client category) and client-category discounts.

Managers and admins change them; every change is audited. ``service.quote_price`` reads them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.catalog.models import CategoryDiscount, PriceList, PriceListItem, Product
from crm_core.catalog.money import cents
from crm_core.catalog.service import get_product, require_manager
from crm_core.errors import Invalid, NotFound
from crm_core.history.choices import ensure_defaults
from crm_core.history.models import ChoiceItem

# --- price lists --------------------------------------------------------------------------


def get_price_list(db: Session, list_id: int) -> PriceList:
    row = db.get(PriceList, list_id)
    if row is None:
        raise NotFound(f"price list {list_id} not found")
    return row


def list_price_lists(db: Session) -> list[PriceList]:
    return list(db.scalars(select(PriceList).order_by(PriceList.is_default.desc(), PriceList.name)))


def price_list_items(db: Session, list_id: int) -> list[tuple[PriceListItem, Product]]:
    rows = db.execute(
        select(PriceListItem, Product)
        .join(Product, Product.id == PriceListItem.product_id)
        .where(PriceListItem.price_list_id == list_id)
        .order_by(Product.name)
    )
    return [(item, product) for item, product in rows]


def _check_items(db: Session, items: list[dict], currency: str) -> list[PriceListItem]:
    seen: set[int] = set()
    result = []
    for index, item in enumerate(items):
        product_id = item["product_id"]
        if db.get(Product, product_id) is None:
            raise Invalid(["items", index, "product_id"], f"no product {product_id}")
        if product_id in seen:
            raise Invalid(["items", index, "product_id"], "listed twice")
        seen.add(product_id)
        price = Decimal(item["price"])
        if price < 0:
            raise Invalid(["items", index, "price"], "must not be negative")
        result.append(
            PriceListItem(
                product_id=product_id,
                price=cents(price),
                currency=(item.get("currency") or currency).upper(),
            )
        )
    return result


def _one_default(db: Session, row: PriceList) -> None:
    if row.is_default:
        for other in db.scalars(select(PriceList).where(PriceList.id != (row.id or 0))):
            other.is_default = False


def _check_category(db: Session, category: str | None) -> None:
    if category and category not in client_categories(db):
        raise Invalid("client_category", f"no client category {category!r}")


def _unique_list_name(db: Session, name: str, own_id: int | None = None) -> None:
    if db.scalar(select(PriceList.id).where(PriceList.name == name, PriceList.id != (own_id or 0))):
        raise Invalid("name", f"a price list named {name!r} exists already")


def create_price_list(db: Session, actor: Principal, data: dict[str, Any]) -> PriceList:
    require_manager(actor)
    _unique_list_name(db, data["name"])
    _check_category(db, data.get("client_category"))
    row = PriceList(
        name=data["name"],
        client_category=data.get("client_category") or None,
        currency=data.get("currency", "RON").upper(),
        is_default=bool(data.get("is_default")),
        is_active=data.get("is_active", True),
    )
    items = _check_items(db, data.get("items") or [], row.currency)
    _one_default(db, row)
    db.add(row)
    db.flush()
    for item in items:
        item.price_list_id = row.id
        db.add(item)
    db.flush()
    record(db, actor, "create", "price_list", row.id, None, _list_snapshot(db, row))
    return row


def update_price_list(db: Session, actor: Principal, list_id: int, changes: dict) -> PriceList:
    """Change a list; ``items`` (when given) replaces all prices of the list."""
    require_manager(actor)
    row = get_price_list(db, list_id)
    before = _list_snapshot(db, row)
    if changes.get("name") is not None:
        _unique_list_name(db, changes["name"], row.id)
        row.name = changes["name"]
    if "client_category" in changes:
        _check_category(db, changes["client_category"])
        row.client_category = changes["client_category"] or None
    for key in ("currency", "is_default", "is_active"):
        if changes.get(key) is not None:
            setattr(row, key, changes[key].upper() if key == "currency" else changes[key])
    _one_default(db, row)
    if changes.get("items") is not None:
        items = _check_items(db, changes["items"], row.currency)
        for old, _product in price_list_items(db, row.id):
            db.delete(old)
        db.flush()
        for item in items:
            item.price_list_id = row.id
            db.add(item)
    db.flush()
    record(db, actor, "update", "price_list", row.id, before, _list_snapshot(db, row))
    return row


def set_item_price(
    db: Session, actor: Principal, list_id: int, product_id: int, price: Decimal | None
) -> PriceList:
    """Set (or with ``None`` remove) one product's price in a list."""
    require_manager(actor)
    row = get_price_list(db, list_id)
    before = _list_snapshot(db, row)
    get_product(db, product_id)
    item = db.scalar(
        select(PriceListItem).where(
            PriceListItem.price_list_id == list_id, PriceListItem.product_id == product_id
        )
    )
    if price is None:
        if item is not None:
            db.delete(item)
    else:
        if price < 0:
            raise Invalid("price", "must not be negative")
        if item is None:
            item = PriceListItem(
                price_list_id=list_id, product_id=product_id, currency=row.currency
            )
            db.add(item)
        item.price = cents(Decimal(price))
    db.flush()
    record(db, actor, "update", "price_list", row.id, before, _list_snapshot(db, row))
    return row


def _list_snapshot(db: Session, row: PriceList) -> dict[str, Any]:
    data = snapshot(row)
    data["items"] = {
        str(item.product_id): f"{item.price} {item.currency}"
        for item, _p in price_list_items(db, row.id)
    }
    return data


# --- client category discounts ------------------------------------------------------------


def client_categories(db: Session) -> list[str]:
    """The codes of the ``client_category`` choice list (seeded with its defaults)."""
    ensure_defaults(db, "client_category")
    return list(
        db.scalars(
            select(ChoiceItem.code)
            .where(ChoiceItem.list_name == "client_category")
            .order_by(ChoiceItem.position, ChoiceItem.id)
        )
    )


def list_category_discounts(db: Session) -> dict[str, Decimal]:
    return {r.category: r.discount_percent for r in db.scalars(select(CategoryDiscount))}


def set_category_discount(db: Session, actor: Principal, category: str, percent: Decimal) -> None:
    require_manager(actor)
    if not 0 <= percent <= 100:
        raise Invalid("discount_percent", "must be between 0 and 100")
    if category not in client_categories(db):
        raise Invalid("category", f"no client category {category!r}")
    row = db.get(CategoryDiscount, category)
    before = snapshot(row) if row is not None else None
    if row is None:
        row = CategoryDiscount(category=category)
        db.add(row)
    row.discount_percent = cents(percent)
    db.flush()
    record(db, actor, "update", "client_category_discount", category, before, snapshot(row))

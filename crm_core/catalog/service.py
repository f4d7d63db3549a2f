"""Catalog, VAT rates, price lists and the price a client pays for a product.

Rights: every staff member reads the catalog and the price lists; managers and admins change
them; only admins change the VAT rates table. Writes are audited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_core.apitypes import name_key
from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.catalog.models import (
    ENTITY_PRODUCT,
    PRODUCT_KINDS,
    CategoryDiscount,
    PriceList,
    PriceListItem,
    Product,
    ProductCategory,
    VatRate,
)
from crm_core.catalog.money import cents
from crm_core.clients.models import Client
from crm_core.database import like_escaped
from crm_core.errors import Forbidden, Invalid, NotFound

ZERO = Decimal("0.00")
#: shipped examples (Romania since August 2025, Russia since 2026) and zero
DEFAULT_VAT_RATES = (
    (Decimal("21.00"), "RO standard", "RO"),
    (Decimal("11.00"), "RO reduced", "RO"),
    (Decimal("22.00"), "RU standard", "RU"),
    (Decimal("10.00"), "RU reduced", "RU"),
    (Decimal("0.00"), "Zero / exempt", ""),
)


class Quote(NamedTuple):
    unit_price: Decimal
    discount_percent: Decimal
    vat_rate: Decimal


# --- prices -------------------------------------------------------------------------------


def client_price_list(db: Session, category: str | None) -> PriceList | None:
    """The active list of a client category, else the default (retail) list."""
    if category:
        found = db.scalar(
            select(PriceList)
            .where(PriceList.client_category == category, PriceList.is_active.is_(True))
            .order_by(PriceList.id)
            .limit(1)
        )
        if found is not None:
            return found
    return default_price_list(db)


def default_price_list(db: Session) -> PriceList | None:
    return db.scalar(
        select(PriceList)
        .where(PriceList.is_active.is_(True))
        .order_by(PriceList.is_default.desc(), PriceList.id)
        .limit(1)
    )


def list_price(db: Session, price_list: PriceList | None, product_id: int) -> Decimal | None:
    if price_list is None:
        return None
    return db.scalar(
        select(PriceListItem.price).where(
            PriceListItem.price_list_id == price_list.id, PriceListItem.product_id == product_id
        )
    )


def category_discount(db: Session, category: str | None) -> Decimal:
    if not category:
        return ZERO
    value = db.scalar(
        select(CategoryDiscount.discount_percent).where(CategoryDiscount.category == category)
    )
    return Decimal(value) if value is not None else ZERO


def quote_price(db: Session, client_id: int | None, product_id: int) -> Quote:
    """What a new line for ``product_id`` costs ``client_id``: ``(unit_price,
    discount_percent, vat_rate)``.

    The price comes from the list of the client's category, else from the default (retail)
    list, else it is 0.00 (to be typed in). The discount is the client's own
    ``discount_percent`` when set (non-zero), else the category's. Callers may override any
    of the three on the line. Raises ``Invalid("product_id")`` for an unknown product (row
    rights on the client are the caller's business).
    """
    product = db.get(Product, product_id)
    if product is None:
        raise Invalid("product_id", f"no product {product_id}")
    client = db.get(Client, client_id) if client_id is not None else None
    category = client.category if client is not None else None
    price = list_price(db, client_price_list(db, category), product_id)
    if price is None and category:
        price = list_price(db, default_price_list(db), product_id)
    own = Decimal(client.discount_percent or 0) if client is not None else ZERO
    discount = own if own > 0 else category_discount(db, category)
    return Quote(
        cents(Decimal(price)) if price is not None else ZERO,
        cents(discount),
        cents(Decimal(product.vat_rate)),
    )


# --- VAT rates ----------------------------------------------------------------------------


def ensure_vat_rates(db: Session) -> None:
    """Seed the shipped rates the first time the table is read while empty."""
    if db.scalar(select(func.count(VatRate.id))):
        return
    for position, (rate, label, country) in enumerate(DEFAULT_VAT_RATES):
        db.add(VatRate(rate=rate, label=label, country=country, position=position))
    db.flush()


def list_vat_rates(db: Session, active_only: bool = False) -> list[VatRate]:
    ensure_vat_rates(db)
    query = select(VatRate).order_by(VatRate.position, VatRate.id)
    if active_only:
        query = query.where(VatRate.is_active.is_(True))
    return list(db.scalars(query))


def check_vat_rate(db: Session, rate: Decimal | None, loc: str | list = "vat_rate") -> Decimal:
    """The rate if it is one of the active rates of the table, else 422 on ``loc``."""
    if rate is None:
        raise Invalid(loc, "must not be empty")
    allowed = {cents(Decimal(r.rate)) for r in list_vat_rates(db, active_only=True)}
    value = cents(Decimal(rate))
    if value not in allowed:
        shown = ", ".join(str(r) for r in sorted(allowed))
        raise Invalid(loc, f"unknown VAT rate {rate}; allowed: {shown}")
    return value


def _admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise Forbidden("Only administrators may change VAT rates")


def require_manager(actor: Principal) -> None:
    if actor.role not in ("admin", "manager", "system"):
        raise Forbidden("Only managers and administrators may change the catalog and prices")


def create_vat_rate(db: Session, actor: Principal, data: dict[str, Any]) -> VatRate:
    _admin(actor)
    ensure_vat_rates(db)
    rate = cents(Decimal(data["rate"]))
    if db.scalar(select(VatRate.id).where(VatRate.rate == rate)):
        raise Invalid("rate", f"the rate {rate} exists already")
    row = VatRate(
        rate=rate,
        label=data.get("label") or "",
        country=(data.get("country") or "").upper(),
        is_active=data.get("is_active", True),
        position=data.get("position") or 0,
    )
    db.add(row)
    db.flush()
    record(db, actor, "create", "vat_rate", row.id, None, snapshot(row))
    return row


def update_vat_rate(db: Session, actor: Principal, rate_id: int, changes: dict) -> VatRate:
    _admin(actor)
    row = db.get(VatRate, rate_id)
    if row is None:
        raise NotFound(f"VAT rate {rate_id} not found")
    before = snapshot(row)
    for key in ("label", "country", "is_active", "position"):
        if key in changes and changes[key] is not None:
            setattr(row, key, changes[key].upper() if key == "country" else changes[key])
    db.flush()
    record(db, actor, "update", "vat_rate", row.id, before, snapshot(row))
    return row


# --- categories ---------------------------------------------------------------------------


def list_categories(db: Session) -> list[ProductCategory]:
    return list(db.scalars(select(ProductCategory).order_by(ProductCategory.position, "name")))


def _unique_category(db: Session, name: str, own_id: int | None = None) -> None:
    key = name_key(name)
    for row in list_categories(db):
        if row.id != own_id and name_key(row.name) == key:
            raise Invalid("name", f"a category named {row.name!r} exists already")


def create_category(db: Session, actor: Principal, data: dict) -> ProductCategory:
    require_manager(actor)
    _unique_category(db, data["name"])
    row = ProductCategory(name=data["name"], position=data.get("position") or 0)
    db.add(row)
    db.flush()
    record(db, actor, "create", "product_category", row.id, None, snapshot(row))
    return row


def update_category(db: Session, actor: Principal, category_id: int, changes: dict):
    require_manager(actor)
    row = db.get(ProductCategory, category_id)
    if row is None:
        raise NotFound(f"category {category_id} not found")
    before = snapshot(row)
    if changes.get("name") is not None:
        _unique_category(db, changes["name"], row.id)
        row.name = changes["name"]
    if changes.get("position") is not None:
        row.position = changes["position"]
    db.flush()
    record(db, actor, "update", "product_category", row.id, before, snapshot(row))
    return row


# --- products -----------------------------------------------------------------------------


def get_product(db: Session, product_id: int) -> Product:
    row = db.get(Product, product_id)
    if row is None:
        raise NotFound(f"product {product_id} not found")
    return row


def list_products(
    db: Session,
    *,
    q: str = "",
    category_id: int | None = None,
    active: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Product], int]:
    query = select(Product)
    if q.strip():
        query = query.where(Product.search_key.like(f"%{like_escaped(name_key(q))}%", escape="\\"))
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    if active is not None:
        query = query.where(Product.is_active.is_(active))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(query.order_by(Product.name, Product.id).limit(limit).offset(offset))
    return list(rows), total


def _check_product(db: Session, product: Product) -> None:
    if product.kind not in PRODUCT_KINDS:
        raise Invalid("kind", f"must be one of {', '.join(PRODUCT_KINDS)}")
    if product.category_id is not None and db.get(ProductCategory, product.category_id) is None:
        raise Invalid("category_id", f"no category {product.category_id}")
    product.vat_rate = check_vat_rate(db, product.vat_rate)
    product.search_key = f"{name_key(product.name)} {name_key(product.sku)}"[:320]
    clash = db.scalar(
        select(Product.id).where(
            func.lower(Product.sku) == product.sku.lower(), Product.id != (product.id or 0)
        )
    )
    if clash:
        raise Invalid("sku", f"the SKU {product.sku} is used by another product")


PRODUCT_FIELDS = (
    "kind",
    "category_id",
    "name",
    "sku",
    "unit",
    "vat_rate",
    "description",
    "is_active",
)


def create_product(db: Session, actor: Principal, data: dict[str, Any]) -> Product:
    require_manager(actor)
    product = Product(**{k: data[k] for k in PRODUCT_FIELDS if data.get(k) is not None})
    product.kind = product.kind or "goods"
    product.unit = product.unit or "pcs"
    product.is_active = True if product.is_active is None else product.is_active
    _check_product(db, product)
    db.add(product)
    _flush_unique(db)
    record(db, actor, "create", ENTITY_PRODUCT, product.id, None, snapshot(product))
    return product


def update_product(db: Session, actor: Principal, product_id: int, changes: dict) -> Product:
    require_manager(actor)
    product = get_product(db, product_id)
    before = snapshot(product)
    for key, value in changes.items():
        if key not in PRODUCT_FIELDS:
            raise Invalid(key, "cannot be changed")
        if value is None and key != "category_id":
            raise Invalid(key, "must not be empty")
        setattr(product, key, value)
    _check_product(db, product)
    _flush_unique(db)
    record(db, actor, "update", ENTITY_PRODUCT, product.id, before, snapshot(product))
    return product


def _flush_unique(db: Session) -> None:
    """A concurrent duplicate SKU is a 422 too, not a 500."""
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError:
        raise Invalid("sku", "the SKU is used by another product") from None

"""Catalog: products and their categories, VAT rates, price lists, client-category discounts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from crm_core.apitypes import ERROR_RESPONSES, QueryId, RowId
from crm_core.auth.deps import admins, managers, staff
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client
from crm_core.catalog import pricelists, service
from crm_core.catalog.models import PriceList
from crm_core.catalog.schemas import (
    CategoryDiscountIn,
    CategoryIn,
    CategoryOut,
    CategoryUpdate,
    ItemPrice,
    PriceItemOut,
    PriceListIn,
    PriceListOut,
    PriceListUpdate,
    ProductIn,
    ProductOut,
    ProductPage,
    ProductUpdate,
    QuoteOut,
    VatRateIn,
    VatRateOut,
    VatRateUpdate,
)
from crm_core.database import request_session

router = APIRouter(tags=["catalog"], responses=ERROR_RESPONSES)


# --- VAT rates ----------------------------------------------------------------------------


@router.get("/vat-rates", response_model=list[VatRateOut], summary="VAT rates")
def list_vat_rates(actor: Principal = Depends(staff), db: Session = request_session):
    return service.list_vat_rates(db)


@router.post("/vat-rates", response_model=VatRateOut, status_code=201, summary="Add a VAT rate")
def create_vat_rate(body: VatRateIn, actor: Principal = Depends(admins), db=request_session):
    return service.create_vat_rate(db, actor, body.model_dump())


@router.patch("/vat-rates/{rate_id}", response_model=VatRateOut, summary="Change a VAT rate")
def update_vat_rate(
    rate_id: RowId, body: VatRateUpdate, actor: Principal = Depends(admins), db=request_session
):
    return service.update_vat_rate(db, actor, rate_id, body.model_dump(exclude_unset=True))


# --- categories ---------------------------------------------------------------------------


@router.get("/product-categories", response_model=list[CategoryOut], summary="Categories")
def list_categories(actor: Principal = Depends(staff), db: Session = request_session):
    return service.list_categories(db)


@router.post(
    "/product-categories", response_model=CategoryOut, status_code=201, summary="Add a category"
)
def create_category(body: CategoryIn, actor: Principal = Depends(managers), db=request_session):
    return service.create_category(db, actor, body.model_dump())


@router.patch(
    "/product-categories/{category_id}", response_model=CategoryOut, summary="Rename a category"
)
def update_category(
    category_id: RowId,
    body: CategoryUpdate,
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    return service.update_category(db, actor, category_id, body.model_dump(exclude_unset=True))


# --- products -----------------------------------------------------------------------------


@router.get("/products", response_model=ProductPage, summary="Goods and services")
def list_products(
    q: str = Query("", max_length=200, description="part of the name or SKU"),
    category_id: QueryId = None,
    active: bool | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=10_000_000),
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    rows, total = service.list_products(
        db, q=q, category_id=category_id, active=active, limit=limit, offset=offset
    )
    return ProductPage(items=rows, total=total)


@router.post("/products", response_model=ProductOut, status_code=201, summary="Add a product")
def create_product(body: ProductIn, actor: Principal = Depends(managers), db=request_session):
    return service.create_product(db, actor, body.model_dump())


@router.get("/products/{product_id}", response_model=ProductOut, summary="One product")
def get_product(product_id: RowId, actor: Principal = Depends(staff), db=request_session):
    return service.get_product(db, product_id)


@router.patch("/products/{product_id}", response_model=ProductOut, summary="Change a product")
def update_product(
    product_id: RowId,
    body: ProductUpdate,
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    return service.update_product(db, actor, product_id, body.model_dump(exclude_unset=True))


@router.get(
    "/products/{product_id}/quote",
    response_model=QuoteOut,
    summary="The price, discount and VAT of a product for a client",
)
def quote(
    product_id: RowId,
    client_id: QueryId = None,
    actor: Principal = Depends(staff),
    db: Session = request_session,
):
    product = service.get_product(db, product_id)
    if client_id is not None:
        get_visible_client(db, actor, client_id)
    found = service.quote_price(db, client_id, product_id)
    return QuoteOut(
        product_id=product.id,
        client_id=client_id,
        unit=product.unit,
        description=product.name,
        **found._asdict(),
    )


# --- price lists --------------------------------------------------------------------------


def render_list(db: Session, row: PriceList) -> PriceListOut:
    items = [
        PriceItemOut(
            product_id=p.id, product_name=p.name, sku=p.sku, price=i.price, currency=i.currency
        )
        for i, p in pricelists.price_list_items(db, row.id)
    ]
    return PriceListOut(
        id=row.id,
        name=row.name,
        client_category=row.client_category,
        currency=row.currency,
        is_default=row.is_default,
        is_active=row.is_active,
        items=items,
    )


@router.get("/price-lists", response_model=list[PriceListOut], summary="Price lists")
def list_price_lists(actor: Principal = Depends(staff), db: Session = request_session):
    return [render_list(db, row) for row in pricelists.list_price_lists(db)]


@router.post(
    "/price-lists", response_model=PriceListOut, status_code=201, summary="Add a price list"
)
def create_price_list(body: PriceListIn, actor: Principal = Depends(managers), db=request_session):
    return render_list(db, pricelists.create_price_list(db, actor, body.model_dump()))


@router.get("/price-lists/{list_id}", response_model=PriceListOut, summary="One price list")
def get_price_list(list_id: RowId, actor: Principal = Depends(staff), db=request_session):
    return render_list(db, pricelists.get_price_list(db, list_id))


@router.patch(
    "/price-lists/{list_id}",
    response_model=PriceListOut,
    summary="Change a price list (items, when given, replace all its prices)",
)
def update_price_list(
    list_id: RowId,
    body: PriceListUpdate,
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    changes = body.model_dump(exclude_unset=True)
    return render_list(db, pricelists.update_price_list(db, actor, list_id, changes))


@router.put(
    "/price-lists/{list_id}/items/{product_id}",
    response_model=PriceListOut,
    summary="Set (or with null remove) one product's price",
)
def set_item_price(
    list_id: RowId,
    product_id: RowId,
    body: ItemPrice,
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    row = pricelists.set_item_price(db, actor, list_id, product_id, body.price)
    return render_list(db, row)


@router.get(
    "/client-category-discounts",
    response_model=dict[str, str],
    summary="Discount percent per client category",
)
def list_category_discounts(actor: Principal = Depends(staff), db: Session = request_session):
    found = pricelists.list_category_discounts(db)
    return {code: f"{found.get(code, 0):.2f}" for code in pricelists.client_categories(db)}


@router.put(
    "/client-category-discounts/{category}",
    response_model=dict[str, str],
    summary="Set a client category's discount",
)
def set_category_discount(
    category: str,
    body: CategoryDiscountIn,
    actor: Principal = Depends(managers),
    db: Session = request_session,
):
    pricelists.set_category_discount(db, actor, category, body.discount_percent)
    return {category: f"{body.discount_percent:.2f}"}

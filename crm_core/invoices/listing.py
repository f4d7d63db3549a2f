"""The invoice list: filters, newest first, a capped count and per-currency totals.

Each filter has an index to walk (status+created, client+created, series+created, issued_on,
status+due date); the count stops at :data:`COUNT_CAP` matches, and the totals are summed only
when the matches are fewer (a million-row sum is not a list page's business).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client, visible_clients
from crm_core.catalog.money import cents
from crm_core.clients.filters import unindexed
from crm_core.clients.models import Client
from crm_core.errors import Invalid
from crm_core.invoices.models import INVOICE_KINDS, INVOICE_STATUSES, Invoice
from crm_core.invoices.service import COUNT_CAP, OPEN_STATUSES, today, visible_invoices


@dataclass
class InvoiceFilter:
    status: str | None = None
    client_id: int | None = None
    series: str | None = None
    kind: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None
    overdue: bool = False
    debtors: bool = False


def filtered(db: Session, actor: Principal, f: InvoiceFilter, *columns) -> Select:
    """The invoices matching ``f`` that the actor may see, as ``SELECT columns`` (default:
    the id)."""
    columns = columns or (Invoice.id,)
    if actor.sees_all_clients:
        query = select(*columns).where(visible_invoices(actor))
    else:
        # the client row of each invoice checked by primary key (``+team_id``: SQLite must not
        # start from the team's clients, a subquery of hundreds of thousands of ids at 1M)
        query = (
            select(*columns)
            .join(Client, Client.id == Invoice.client_id)
            .where(visible_clients(actor, unindexed(Client.team_id)))
        )
    if f.status is not None:
        if f.status not in INVOICE_STATUSES:
            raise Invalid("status", f"must be one of {', '.join(INVOICE_STATUSES)}")
        query = query.where(Invoice.status == f.status)
    if f.kind is not None:
        if f.kind not in INVOICE_KINDS:
            raise Invalid("kind", f"must be one of {', '.join(INVOICE_KINDS)}")
        query = query.where(Invoice.kind == f.kind)
    if f.client_id is not None:
        get_visible_client(db, actor, f.client_id)
        query = query.where(Invoice.client_id == f.client_id)
    if f.series:
        query = query.where(Invoice.series == f.series.strip().upper())
    if f.issued_from is not None:
        query = query.where(Invoice.issued_on >= f.issued_from)
    if f.issued_to is not None:
        if f.issued_from is not None and f.issued_to < f.issued_from:
            raise Invalid("issued_to", "must not be before issued_from")
        query = query.where(Invoice.issued_on <= f.issued_to)
    if f.overdue:
        query = query.where(Invoice.status.in_(OPEN_STATUSES), Invoice.due_date < today())
    if f.debtors:
        query = query.where(Invoice.status.in_(OPEN_STATUSES), Invoice.balance > 0)
    return query


def list_invoices(
    db: Session, actor: Principal, f: InvoiceFilter, *, limit: int = 50, offset: int = 0
) -> tuple[list[tuple[Invoice, str]], int, dict[str, dict[str, Decimal]]]:
    """(invoice, client name) rows newest first; the count of matches (at most COUNT_CAP + 1,
    meaning "more"); totals per currency (empty when there are more than COUNT_CAP)."""
    ids = filtered(db, actor, f)
    capped = ids.limit(COUNT_CAP + 1).subquery()
    total = db.scalar(select(func.count()).select_from(capped)) or 0
    page = (
        select(Invoice, Client.display_name)
        .join(Client, Client.id == Invoice.client_id)
        .where(Invoice.id.in_(ids.order_by(Invoice.created_at.desc(), Invoice.id.desc())
                              .limit(limit).offset(offset).scalar_subquery()))
        .order_by(Invoice.created_at.desc(), Invoice.id.desc())
    )  # fmt: skip
    rows = [(inv, name) for inv, name in db.execute(page).all()]
    sums: dict[str, dict[str, Decimal]] = {}
    if total <= COUNT_CAP:
        totals = filtered(db, actor, f, Invoice.currency, func.sum(Invoice.total),
                          func.sum(Invoice.paid), func.sum(Invoice.balance))  # fmt: skip
        for currency, amount, paid, balance in db.execute(
            totals.where(Invoice.status != "draft").group_by(Invoice.currency)
        ):
            sums[currency] = {
                "total": cents(Decimal(amount or 0)),
                "paid": cents(Decimal(paid or 0)),
                "balance": cents(Decimal(balance or 0)),
            }
    return rows, total, sums

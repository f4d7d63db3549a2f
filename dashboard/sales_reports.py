"""Sales reports for ``/reports/sales``: sales by period, operator, product and client, and
debts by age.

Definitions (the page states them too):

- *sales* = the totals of invoices and credit notes issued (not drafts) with an issue date in
  the period, per currency (a credit note's negative total takes a cancelled invoice back out;
  the same rule as the wall's revenue);
- *operator* = the user who created the invoice (not the client's owner);
- *by product*: invoice lines; lines written as free text are grouped under one row;
- *debts by age*: the unpaid balance of open invoices today, by days past the due date
  (not due yet, 0-30, 31-60, 61-90, more than 90), whatever the period.

Amounts are ``Decimal`` rounded to the cent; every query is one grouped aggregate.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.catalog.models import Product
from crm_core.clients.models import Client
from crm_core.errors import Invalid
from crm_core.invoices.models import POSTED_STATUSES, Invoice, InvoiceLine
from crm_core.invoices.service import OPEN_STATUSES, visible_invoices

CENT = Decimal("0.01")
PERIODS = ("this_month", "last_month", "this_year", "custom")
MAX_DAYS = 3 * 366
#: a period longer than this is shown per month, else per day
DAILY_UP_TO = 62
AGE_BUCKETS = ("not_due", "d0_30", "d31_60", "d61_90", "d90_plus")
ROW_LIMIT = 200


@dataclass(frozen=True)
class SalesPeriod:
    key: str
    first_day: date
    last_day: date  # inclusive

    @property
    def monthly(self) -> bool:
        return (self.last_day - self.first_day).days + 1 > DAILY_UP_TO


def money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def _parse(value: str | None, field: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise Invalid(field, "must be a date like 2024-05-31") from None


def resolve_period(
    key: str | None, today: date, date_from: str | None = None, date_to: str | None = None
) -> SalesPeriod:
    """This month (the default), last month, this year (to today) or custom from/to."""
    key = key or "this_month"
    if key not in PERIODS:
        raise Invalid("period", f"must be one of {', '.join(PERIODS)}")
    if key == "this_month":
        return SalesPeriod(key, today.replace(day=1), today)
    if key == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return SalesPeriod(key, last.replace(day=1), last)
    if key == "this_year":
        return SalesPeriod(key, date(today.year, 1, 1), today)
    first, last = _parse(date_from, "from"), _parse(date_to, "to")
    if last < first:
        raise Invalid("to", "must not be before the start date")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid("to", f"a report covers at most {MAX_DAYS} days")
    return SalesPeriod(key, first, last)


def _posted(actor: Principal, period: SalesPeriod) -> tuple:
    return (
        Invoice.status.in_(POSTED_STATUSES),
        Invoice.issued_on >= period.first_day,
        Invoice.issued_on <= period.last_day,
        visible_invoices(actor),
    )


def _invoice_count():
    return func.sum(case((Invoice.kind == "invoice", 1), else_=0))


def by_period(db: Session, actor: Principal, period: SalesPeriod) -> list[dict[str, Any]]:
    """Per day (or per month for long periods) and currency: invoices, net, VAT, total."""
    rows = db.execute(
        select(
            Invoice.issued_on,
            Invoice.currency,
            _invoice_count(),
            func.sum(Invoice.net_total),
            func.sum(Invoice.vat_total),
            func.sum(Invoice.total),
        )
        .where(*_posted(actor, period))
        .group_by(Invoice.issued_on, Invoice.currency)
    ).all()
    out: dict[tuple[date, str], dict[str, Any]] = {}
    for day, currency, count, net, vat, total in rows:
        start = day.replace(day=1) if period.monthly else day
        zero = money(0)
        row = out.setdefault(
            (start, currency),
            {"start": start, "currency": currency, "invoices": 0, "net": zero, "vat": zero},
        )
        row.setdefault("total", zero)
        row["invoices"] += int(count or 0)
        row["net"] += money(net)
        row["vat"] += money(vat)
        row["total"] += money(total)
    for row in out.values():
        start = row["start"]
        month_end = start.replace(day=monthrange(start.year, start.month)[1])
        row["end"] = month_end if period.monthly else start
    return [out[key] for key in sorted(out)]


def by_operator(db: Session, actor: Principal, period: SalesPeriod) -> list[dict[str, Any]]:
    total = func.sum(Invoice.total)
    rows = db.execute(
        select(User.id, User.full_name, User.username, Invoice.currency, _invoice_count(), total)
        .outerjoin(User, User.id == Invoice.created_by_id)
        .where(*_posted(actor, period))
        .group_by(User.id, User.full_name, User.username, Invoice.currency)
        .order_by(total.desc())
        .limit(ROW_LIMIT)
    )
    return [
        {
            "name": full or username or "",
            "currency": cur,
            "invoices": int(n or 0),
            "total": money(t),
        }
        for _id, full, username, cur, n, t in rows
    ]


def by_product(db: Session, actor: Principal, period: SalesPeriod) -> list[dict[str, Any]]:
    """Per product and currency: quantity, net and total (VAT included); free-text lines in
    one row with an empty name."""
    net = func.sum(InvoiceLine.net)
    rows = db.execute(
        select(
            Product.id,
            Product.name,
            Product.sku,
            Invoice.currency,
            func.sum(InvoiceLine.quantity),
            net,
            func.sum(InvoiceLine.total),
        )
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(Product, Product.id == InvoiceLine.product_id)
        .where(*_posted(actor, period))
        .group_by(Product.id, Product.name, Product.sku, Invoice.currency)
        .order_by(net.desc())
        .limit(ROW_LIMIT)
    )
    return [
        {
            "name": name or "",
            "sku": sku or "",
            "currency": cur,
            "quantity": Decimal(qty or 0).normalize(),
            "net": money(n),
            "total": money(t),
        }
        for _id, name, sku, cur, qty, n, t in rows
    ]


def by_client(db: Session, actor: Principal, period: SalesPeriod) -> list[dict[str, Any]]:
    """Per client and currency: invoices, total invoiced, paid and still owed on them."""
    total = func.sum(Invoice.total)
    rows = db.execute(
        select(
            Client.id,
            Client.display_name,
            Invoice.currency,
            _invoice_count(),
            total,
            func.sum(Invoice.paid),
            func.sum(case((Invoice.kind == "invoice", Invoice.balance), else_=0)),
        )
        .join(Client, Client.id == Invoice.client_id)
        .where(*_posted(actor, period))
        .group_by(Client.id, Client.display_name, Invoice.currency)
        .order_by(total.desc())
        .limit(ROW_LIMIT)
    )
    return [
        {
            "client_id": cid,
            "name": name,
            "currency": cur,
            "invoices": int(n or 0),
            "total": money(t),
            "paid": money(p),
            "balance": money(b),
        }
        for cid, name, cur, n, t, p, b in rows
    ]


def _bucket_columns(today: date) -> list:
    """One ``sum(case ...)`` per age bucket, by the days between the due date and ``today``."""
    due = Invoice.due_date
    limits = {
        "not_due": due > today,
        "d0_30": (due <= today) & (due >= today - timedelta(days=30)),
        "d31_60": (due < today - timedelta(days=30)) & (due >= today - timedelta(days=60)),
        "d61_90": (due < today - timedelta(days=60)) & (due >= today - timedelta(days=90)),
        "d90_plus": due < today - timedelta(days=90),
    }
    return [func.sum(case((limits[b], Invoice.balance), else_=0)) for b in AGE_BUCKETS]


def debts_by_age(db: Session, actor: Principal, today: date) -> dict[str, Any]:
    """Open invoices' balances per client and currency in age buckets, and totals per currency.
    An open invoice without a due date counts as not due."""
    balance = func.sum(Invoice.balance)
    rows = db.execute(
        select(Client.id, Client.display_name, Invoice.currency, *_bucket_columns(today), balance)
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Invoice.kind == "invoice",
            Invoice.status.in_(OPEN_STATUSES),
            Invoice.balance > 0,
            visible_invoices(actor),
        )
        .group_by(Client.id, Client.display_name, Invoice.currency)
        .order_by(balance.desc())
    ).all()
    clients, totals = [], {}
    for cid, name, currency, *amounts in rows:
        values = [money(a) for a in amounts]
        values[0] += values[-1] - sum(values[:-1], Decimal("0.00"))  # no due date: not due
        row = {"client_id": cid, "name": name, "currency": currency, "total": values[-1]}
        row.update(zip(AGE_BUCKETS, values[:-1], strict=True))
        if len(clients) < ROW_LIMIT:
            clients.append(row)
        sums = totals.setdefault(currency, dict.fromkeys((*AGE_BUCKETS, "total"), money(0)))
        for key in (*AGE_BUCKETS, "total"):
            sums[key] += row[key]
    return {"clients": clients, "totals": [{"currency": c, **totals[c]} for c in sorted(totals)]}


def sales_report(db: Session, actor: Principal, period: SalesPeriod, today: date) -> dict:
    return {
        "by_period": by_period(db, actor, period),
        "by_operator": by_operator(db, actor, period),
        "by_product": by_product(db, actor, period),
        "by_client": by_client(db, actor, period),
        "debts": debts_by_age(db, actor, today),
    }

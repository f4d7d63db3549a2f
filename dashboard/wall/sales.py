"""The wall's sales tiles: revenue today and this month, payments today, orders due today and
overdue, and this month's sales per operator.

Definitions (the same on the wall and in the tests):

- *revenue* = the totals (VAT included) of invoices and credit notes issued (not drafts) on
  the local day / in the local month, by issue date; a credit note's negative total takes a
  cancelled invoice back out; per currency;
- *payments today* = payments and refunds recorded with ``paid_at`` in the local day (money
  kept as the client's credit is not a payment of an invoice and is left out);
- *orders due today* / *overdue*: deadline today / before today, status not terminal;
- *sales per operator*: this month's revenue per user who created the invoice.

These are read from the tables (a few indexed aggregate queries) when the wall is rebuilt
and on each refresh tick, not applied event by event: invoices and payments are written by
the API, not announced on the bus.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.auth.models import User

CENT = Decimal("0.01")


def _amount(value) -> str:
    return str(Decimal(value or 0).quantize(CENT))


def _money(rows) -> dict[str, str]:
    return {currency: _amount(total) for currency, total in rows if currency}


def revenue(db: Session, since: date, until: date) -> dict[str, str]:
    """Issued totals per currency for issue dates ``since`` .. ``until`` (inclusive)."""
    from crm_core.invoices.models import POSTED_STATUSES, Invoice

    rows = db.execute(
        select(Invoice.currency, func.sum(Invoice.total))
        .where(
            Invoice.status.in_(POSTED_STATUSES),
            Invoice.issued_on >= since,
            Invoice.issued_on <= until,
        )
        .group_by(Invoice.currency)
    )
    return _money(rows)


def payments(db: Session, start: datetime, end: datetime) -> tuple[dict[str, str], int]:
    from crm_core.invoices.models import Payment

    where = (Payment.paid_at >= start, Payment.paid_at < end, Payment.kind != "credit")
    rows = db.execute(
        select(Payment.currency, func.sum(Payment.amount)).where(*where).group_by(Payment.currency)
    )
    count = db.scalar(select(func.count(Payment.id)).where(*where)) or 0
    return _money(rows), count


def orders_due(db: Session, today: date) -> tuple[int, int]:
    from crm_core.orders.models import Order
    from crm_core.orders.service import terminal_codes

    terminal = terminal_codes(db)
    open_ = Order.status.not_in(terminal) if terminal else Order.id.is_not(None)
    due = db.scalar(select(func.count(Order.id)).where(open_, Order.deadline == today)) or 0
    overdue = db.scalar(select(func.count(Order.id)).where(open_, Order.deadline < today)) or 0
    return due, overdue


def per_operator(db: Session, since: date, until: date, limit: int = 12) -> list[dict[str, Any]]:
    from crm_core.invoices.models import POSTED_STATUSES, Invoice

    total = func.sum(Invoice.total)
    rows = db.execute(
        select(User.id, User.full_name, User.username, Invoice.currency, total)
        .join(User, User.id == Invoice.created_by_id)
        .where(
            Invoice.status.in_(POSTED_STATUSES),
            Invoice.issued_on >= since,
            Invoice.issued_on <= until,
        )
        .group_by(User.id, User.full_name, User.username, Invoice.currency)
        .order_by(total.desc())
        .limit(limit)
    )
    return [
        {"user_id": uid, "name": full or username, "currency": cur, "total": _amount(t)}
        for uid, full, username, cur, t in rows
    ]


def sales_figures(db: Session, day: date, day_start: datetime, day_end: datetime) -> dict | None:
    """The ``sales`` part of the wall's snapshot; None when the sales ledger is not installed."""
    try:
        import crm_core.invoices.models  # noqa: F401
        import crm_core.orders.models  # noqa: F401
    except ImportError:
        return None
    month_start = day.replace(day=1)
    paid, paid_count = payments(db, day_start, day_end)
    due, overdue = orders_due(db, day)
    return {
        "revenue_today": revenue(db, day, day),
        "revenue_month": revenue(db, month_start, day),
        "payments_today": paid,
        "payments_today_count": paid_count,
        "orders_due_today": due,
        "orders_overdue": overdue,
        "per_operator": per_operator(db, month_start, day),
    }

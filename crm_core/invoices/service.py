"""Invoices: drafts, issuing (numbered), credit notes, lists, and each client's balance.

Money rule (the print forms state it too): each line's net (quantity x unit price less the
line's discount) and each line's VAT (on the rounded net) are rounded half-up to the cent on
their own; an invoice's net, VAT and total are the sums of its rounded lines
(:func:`crm_core.catalog.money.line_amounts`). Never a float.

Life cycle: draft (editable, deletable, no number) -> issued (numbered in its series and year,
never edited or deleted again) -> partially paid -> paid; an issued invoice is cancelled only
by a credit note, a document of its own with the negated lines.

Rights: invoices follow their client (operators: their team's clients and unassigned ones);
any other invoice is reported missing (404), on reads and writes alike.

A client's balance (debt) = issued invoice totals - credit notes - payments (a payment's excess
kept as credit included); it is kept per currency in ``client_balances`` by adding each
change to it in the same transaction (an atomic ``balance = balance + delta``, safe under
concurrent writers), and :func:`ledger_balances` recomputes it from the documents.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from crm_core.audit.service import record, snapshot
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client, visible_client_ids
from crm_core.catalog import service as catalog
from crm_core.catalog.models import Product
from crm_core.catalog.money import cents, line_amounts, sum_lines
from crm_core.clients.models import Client
from crm_core.config import get_settings
from crm_core.database import utcnow
from crm_core.errors import Invalid, NotFound
from crm_core.invoices.models import (
    ENTITY,
    POSTED_STATUSES,
    ZERO,
    ClientBalance,
    Invoice,
    InvoiceLine,
    Payment,
)
from crm_core.invoices.numbering import clean_series, format_number, take_number

OPEN_STATUSES = ("issued", "partially_paid")
CREDIT_NOTE_SERIES = "CN"
DEFAULT_DUE_DAYS = 14
#: lists count at most this many matches; totals are summed only below it
COUNT_CAP = 10_000


def today() -> date:
    return utcnow().astimezone(ZoneInfo(get_settings().timezone)).date()


def visible_invoices(actor: Principal) -> ColumnElement[bool]:
    if actor.sees_all_clients:
        return true()
    return Invoice.client_id.in_(visible_client_ids(actor))


def get_invoice(db: Session, actor: Principal, invoice_id: int) -> Invoice:
    invoice = db.scalar(
        select(Invoice)
        .where(Invoice.id == invoice_id, visible_invoices(actor))
        .options(selectinload(Invoice.lines))
    )
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice


def locked_invoice(db: Session, actor: Principal, invoice_id: int) -> Invoice:
    """The invoice, locked against concurrent payments until the transaction ends (a row
    lock on PostgreSQL; on SQLite a no-op write first takes the database's write lock)."""
    get_invoice(db, actor, invoice_id)  # rights (404) before any lock
    if db.get_bind().dialect.name == "sqlite":
        db.execute(update(Invoice).where(Invoice.id == invoice_id).values(id=Invoice.id))
        query = select(Invoice).where(Invoice.id == invoice_id)
    else:
        query = select(Invoice).where(Invoice.id == invoice_id).with_for_update()
    return db.scalars(query.execution_options(populate_existing=True)).one()


def is_overdue(invoice: Invoice, on: date | None = None) -> bool:
    return (
        invoice.status in OPEN_STATUSES
        and invoice.due_date is not None
        and invoice.due_date < (on or today())
    )


# --- lines --------------------------------------------------------------------------------


def _line(db: Session, client_id: int, raw: dict[str, Any], index: int) -> InvoiceLine:
    """One line from the request: the product's price for the client, VAT rate checked,
    amounts rounded by the rule of the module."""
    loc = ["lines", index]
    product = None
    quote = None
    if raw.get("product_id") is not None:
        product = db.get(Product, raw["product_id"])
        if product is None:
            raise Invalid([*loc, "product_id"], f"no product {raw['product_id']}")
        quote = catalog.quote_price(db, client_id, product.id)
    description = (raw.get("description") or "").strip() or (product.name if product else "")
    if not description:
        raise Invalid([*loc, "description"], "give a product_id or a description")
    quantity = Decimal(raw["quantity"])
    if quantity <= 0:
        raise Invalid([*loc, "quantity"], "must be greater than 0")
    price = raw.get("unit_price")
    if price is None:
        if quote is None:
            raise Invalid([*loc, "unit_price"], "must be given for a line without a product")
        price = quote.unit_price
    if Decimal(price) < 0:
        raise Invalid([*loc, "unit_price"], "must not be negative")
    rate = raw.get("vat_rate")
    if rate is None:
        rate = quote.vat_rate if quote is not None else None
    rate = catalog.check_vat_rate(db, rate, [*loc, "vat_rate"])
    discount = Decimal(raw.get("discount_percent") or 0)
    if not 0 <= discount <= 100:
        raise Invalid([*loc, "discount_percent"], "must be between 0 and 100")
    amounts = line_amounts(quantity, Decimal(price), discount, rate)
    return InvoiceLine(
        position=index,
        product_id=product.id if product else None,
        description=description[:500],
        unit=(raw.get("unit") or (product.unit if product else ""))[:20],
        quantity=quantity,
        unit_price=cents(Decimal(price)),
        discount_percent=discount,
        vat_rate=rate,
        net=amounts.net,
        vat=amounts.vat,
        total=amounts.gross,
    )


def _set_lines(invoice: Invoice, lines: list[InvoiceLine]) -> None:
    invoice.lines = lines
    totals = sum_lines(line_amounts_of(line) for line in lines)
    invoice.net_total, invoice.vat_total, invoice.total = totals
    invoice.balance = invoice.total - invoice.credited - invoice.paid


def line_amounts_of(line: InvoiceLine):
    from crm_core.catalog.money import LineAmounts

    return LineAmounts(line.net, line.vat, line.total)


def _copied_lines(source_lines) -> list[dict[str, Any]]:
    return [
        {
            "product_id": line.product_id,
            "description": line.description,
            "unit": line.unit,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "vat_rate": line.vat_rate,
            "discount_percent": line.discount_percent,
        }
        for line in source_lines
    ]


# --- writes -------------------------------------------------------------------------------


def _source_order(db: Session, actor: Principal, client: Client, order_id: int | None):
    if order_id is None:
        return None
    from crm_core.orders.models import Order

    order = db.get(Order, order_id)
    if order is None or order.client_id != client.id:
        raise Invalid("order_id", f"no order {order_id} of this client")
    return order


def _source_contract(db: Session, client: Client, contract_id: int | None):
    if contract_id is None:
        return None
    from crm_core.contracts.models import Contract

    contract = db.get(Contract, contract_id)
    if contract is None or contract.client_id != client.id:
        raise Invalid("contract_id", f"no contract {contract_id} of this client")
    return contract


def _client_for_write(db: Session, actor: Principal, client_id: int) -> Client:
    try:
        return get_visible_client(db, actor, client_id)
    except NotFound:
        raise Invalid("client_id", f"no client {client_id}") from None


def create_invoice(db: Session, actor: Principal, data: dict[str, Any]) -> Invoice:
    """A draft for a client, from given lines, else copied from the order, else one line for
    the contract's amount; ``issue`` issues it at once."""
    client = _client_for_write(db, actor, data["client_id"])
    series = clean_series(data.get("series") or "INV")
    if series == CREDIT_NOTE_SERIES:
        raise Invalid("series", f"{CREDIT_NOTE_SERIES} is the credit notes' series")
    order = _source_order(db, actor, client, data.get("order_id"))
    contract = _source_contract(db, client, data.get("contract_id"))
    raw_lines = [dict(line) for line in data.get("lines") or []]
    if not raw_lines and order is not None:
        raw_lines = _copied_lines(order.lines)
    if not raw_lines and contract is not None and contract.amount:
        raw_lines = [_contract_line(db, contract)]
    invoice = Invoice(
        kind="invoice",
        client_id=client.id,
        series=series,
        status="draft",
        currency=data.get("currency") or (order.currency if order else "RON"),
        contract_id=contract.id if contract else None,
        order_id=order.id if order else None,
        due_date=data.get("due_date"),
        notes=data.get("notes") or "",
        created_by_id=actor.id,
        created_at=utcnow(),
        paid=ZERO,
        credited=ZERO,
    )
    _set_lines(invoice, [_line(db, client.id, raw, i) for i, raw in enumerate(raw_lines)])
    db.add(invoice)
    db.flush()
    record(db, actor, "create", ENTITY, invoice.id, None, snapshot(invoice))
    if data.get("issue"):
        issue_invoice(db, actor, invoice.id)
    return invoice


def _contract_line(db: Session, contract) -> dict[str, Any]:
    rates = catalog.list_vat_rates(db, active_only=True)
    return {
        "description": f"{contract.title or 'Services'} ({contract.number})",
        "quantity": Decimal("1"),
        "unit_price": contract.amount,
        "vat_rate": rates[0].rate if rates else Decimal("0"),
    }


def _frozen(invoice: Invoice) -> None:
    if invoice.status != "draft":
        raise Invalid(
            "status",
            f"invoice is {invoice.status}: an issued invoice is cancelled by a credit note",
        )


def update_invoice(db: Session, actor: Principal, invoice_id: int, changes: dict) -> Invoice:
    invoice = get_invoice(db, actor, invoice_id)
    _frozen(invoice)
    before = snapshot(invoice)
    for name in ("currency", "due_date", "notes"):
        if name in changes:
            if changes[name] is None and name != "due_date":
                raise Invalid(name, "must not be empty")
            setattr(invoice, name, changes[name])
    if changes.get("series") is not None:
        invoice.series = clean_series(changes["series"])
    if changes.get("lines") is not None:
        lines = [_line(db, invoice.client_id, dict(r), i) for i, r in enumerate(changes["lines"])]
        _set_lines(invoice, lines)
    db.flush()
    record(db, actor, "update", ENTITY, invoice.id, before, snapshot(invoice))
    return invoice


def delete_invoice(db: Session, actor: Principal, invoice_id: int) -> None:
    """Only a draft may be deleted (it has no number yet, so the series keeps no gap)."""
    invoice = get_invoice(db, actor, invoice_id)
    _frozen(invoice)
    before = snapshot(invoice)
    db.delete(invoice)
    db.flush()
    record(db, actor, "delete", ENTITY, invoice_id, before, None)


def issue_invoice(db: Session, actor: Principal, invoice_id: int) -> Invoice:
    """Give the draft its number (next in its series and year) and post it to the balance."""
    invoice = get_invoice(db, actor, invoice_id)
    _frozen(invoice)
    if not invoice.lines:
        raise Invalid("lines", "an invoice needs at least one line")
    before = snapshot(invoice)
    issued_on = today()
    seq = take_number(db, "invoice", invoice.series, issued_on.year)
    invoice = db.scalars(
        select(Invoice).where(Invoice.id == invoice_id).execution_options(populate_existing=True)
    ).one()
    _frozen(invoice)  # issued meanwhile by someone else: we waited for their lock
    invoice.year, invoice.seq = issued_on.year, seq
    invoice.number = format_number(invoice.series, issued_on.year, seq)
    invoice.issued_on = issued_on
    invoice.issued_at = utcnow()
    invoice.due_date = invoice.due_date or issued_on + timedelta(days=DEFAULT_DUE_DAYS)
    invoice.status = "issued"
    invoice.balance = invoice.total - invoice.credited - invoice.paid
    apply_status(invoice)
    db.flush()
    add_to_balance(db, invoice.client_id, invoice.currency, invoice.total)
    record(db, actor, "issue", ENTITY, invoice.id, before, snapshot(invoice))
    return invoice


def credit_note(db: Session, actor: Principal, invoice_id: int, reason: str) -> Invoice:
    """Cancel an issued invoice with a credit note (numbered in the ``CN`` series): the
    note carries the invoice's lines negated; what was already paid stays as client credit."""
    invoice = locked_invoice(db, actor, invoice_id)
    if invoice.kind != "invoice" or invoice.status in ("draft", "cancelled"):
        raise Invalid("status", f"a {invoice.status} {invoice.kind} cannot be credited")
    before = snapshot(invoice)
    issued_on = today()
    seq = take_number(db, "credit_note", CREDIT_NOTE_SERIES, issued_on.year)
    note = Invoice(
        kind="credit_note",
        client_id=invoice.client_id,
        series=CREDIT_NOTE_SERIES,
        year=issued_on.year,
        seq=seq,
        number=format_number(CREDIT_NOTE_SERIES, issued_on.year, seq),
        status="issued",
        currency=invoice.currency,
        contract_id=invoice.contract_id,
        order_id=invoice.order_id,
        credit_of_id=invoice.id,
        issued_on=issued_on,
        issued_at=utcnow(),
        reason=reason.strip(),
        created_by_id=actor.id,
        created_at=utcnow(),
        paid=ZERO,
        credited=ZERO,
    )
    _set_lines(note, [_negated(line) for line in invoice.lines])
    note.balance = ZERO
    db.add(note)
    credited = invoice.total - invoice.credited
    invoice.credited = invoice.total
    invoice.balance = invoice.total - invoice.credited - invoice.paid
    invoice.status = "cancelled"
    invoice.cancelled_at = utcnow()
    db.flush()
    add_to_balance(db, invoice.client_id, invoice.currency, -credited)
    record(db, actor, "credit", ENTITY, invoice.id, before, snapshot(invoice))
    record(db, actor, "create", ENTITY, note.id, None, snapshot(note))
    return note


def _negated(line: InvoiceLine) -> InvoiceLine:
    return InvoiceLine(
        position=line.position,
        product_id=line.product_id,
        description=line.description,
        unit=line.unit,
        quantity=-line.quantity,
        unit_price=line.unit_price,
        discount_percent=line.discount_percent,
        vat_rate=line.vat_rate,
        net=-line.net,
        vat=-line.vat,
        total=-line.total,
    )


def apply_status(invoice: Invoice) -> None:
    """Issued / partially paid / paid from what was paid (cancelled and drafts stay)."""
    if invoice.status in ("draft", "cancelled") or invoice.kind != "invoice":
        return
    if invoice.balance <= 0 and invoice.total > 0:
        invoice.status = "paid"
    elif invoice.paid > 0:
        invoice.status = "partially_paid"
    else:
        invoice.status = "issued"


# --- balances -----------------------------------------------------------------------------


def add_to_balance(db: Session, client_id: int, currency: str, delta: Decimal) -> None:
    """``client_balances.balance += delta`` for (client, currency), made if missing; one
    atomic statement, so concurrent payments of one client add up."""
    if not delta:
        return
    values = {
        "client_id": client_id,
        "currency": currency,
        "balance": delta,
        "updated_at": utcnow(),
    }
    dialect = db.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ClientBalance).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["client_id", "currency"],
        set_={
            # rounded: SQLite adds NUMERIC as floating point (0.1 + 0.2 - 0.3 is not 0)
            "balance": func.round(ClientBalance.balance + statement.excluded.balance, 2),
            "updated_at": statement.excluded.updated_at,
        },
    )
    db.execute(statement)


def client_balances(db: Session, client_id: int) -> dict[str, Decimal]:
    """What the client owes per currency (negative: credit), as kept in ``client_balances``."""
    rows = db.execute(
        select(ClientBalance.currency, ClientBalance.balance).where(
            ClientBalance.client_id == client_id
        )
    ).all()
    return {currency: cents(Decimal(balance)) for currency, balance in rows if balance}


def client_balance(db: Session, client_id: int, currency: str | None = None) -> Decimal:
    """The client's debt: issued invoice totals - credit notes - payments (in ``currency``,
    default: the one the client owes most in)."""
    balances = client_balances(db, client_id)
    if currency is not None:
        return balances.get(currency, ZERO)
    if not balances:
        return ZERO
    return max(balances.values(), key=abs)


def ledger_balances(db: Session, client_id: int) -> dict[str, Decimal]:
    """The same balances recomputed from the documents (a check of the kept ones)."""
    out: dict[str, Decimal] = {}
    invoices = db.execute(
        select(Invoice.currency, func.sum(Invoice.total - Invoice.credited))
        .where(
            Invoice.client_id == client_id,
            Invoice.kind == "invoice",
            Invoice.status.in_(POSTED_STATUSES),
        )
        .group_by(Invoice.currency)
    ).all()
    payments = db.execute(
        select(Payment.currency, func.sum(Payment.amount))
        .where(Payment.client_id == client_id)
        .group_by(Payment.currency)
    ).all()
    for currency, amount in invoices:
        out[currency] = out.get(currency, ZERO) + Decimal(amount or 0)
    for currency, amount in payments:
        out[currency] = out.get(currency, ZERO) - Decimal(amount or 0)
    return {c: cents(v) for c, v in out.items() if v}


def debtor_ids() -> Select:
    """Subquery: clients that owe money in some currency (the "debtors" filter)."""
    return select(ClientBalance.client_id).where(ClientBalance.balance > 0)

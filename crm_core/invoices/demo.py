"""Demo data of the sales ledger: a few contracts and ~20 invoices in every status, with
partial payments, so that the demo's VIP callers show a debt in their popup."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.models import User
from crm_core.auth.principal import SYSTEM
from crm_core.clients.models import Client
from crm_core.contracts.service import create_contract
from crm_core.invoices.payments import add_payment
from crm_core.invoices.service import create_invoice, credit_note, issue_invoice, today

D = Decimal
#: (description, quantity, unit price, VAT %)
ITEMS = [
    ("Abonament mentenanță", "1", "450.00", "21"),
    ("Consultanță IT (ore)", "3.5", "180.00", "21"),
    ("Cărți și manuale", "4", "39.90", "11"),
    ("Услуги доставки", "1", "75.00", "21"),
    ("Instalare echipament", "2", "260.00", "21"),
]


def _lines(k: int) -> list[dict]:
    picked = [ITEMS[k % len(ITEMS)], ITEMS[(k + 2) % len(ITEMS)]][: 1 + k % 2]
    return [
        {"description": d, "quantity": D(q), "unit_price": D(p), "vat_rate": D(v)}
        for d, q, p, v in picked
    ]


def load_invoices_demo(db: Session) -> dict[str, int]:
    """Contracts and invoices for the demo's clients (VIPs first); the caller commits."""
    vips = list(db.scalars(select(Client).where(Client.category == "vip").order_by(Client.id)))
    others = list(
        db.scalars(
            select(Client)
            .where(Client.category != "vip", Client.deleted_at.is_(None))
            .order_by(Client.id)
            .limit(6)
        )
    )
    clients = (vips + others)[:8]
    if not clients:
        return {"contracts": 0, "invoices": 0}
    owner = db.scalar(select(User.id).where(User.role == "manager").order_by(User.id))
    on = today()
    contracts = []
    for i, client in enumerate(clients[:3]):
        contracts.append(
            create_contract(
                db,
                SYSTEM,
                {
                    "client_id": client.id,
                    "title": "Contract de mentenanță",
                    "series": "C",
                    "signed_on": on - timedelta(days=300),
                    "starts_on": on - timedelta(days=300),
                    "ends_on": on + timedelta(days=20 + 40 * i),
                    "auto_renew": i == 1,
                    "amount": D("450.00"),
                    "currency": "RON",
                    "owner_id": owner,
                    "remind_days_before": 30,
                },
            )  # fmt: skip
        )
    made = 0
    # plan: status per invoice; VIPs get open balances (issued / partially paid)
    plan = ["partial", "issued", "overdue", "paid", "partial", "draft", "paid", "cancelled"]
    for k in range(20):
        client = clients[k % len(clients)]
        what = plan[k % len(plan)]
        if client in vips and what in ("paid", "cancelled", "draft"):
            what = "partial"
        contract = next((c for c in contracts if c.client_id == client.id), None)
        invoice = create_invoice(db, SYSTEM, {
            "client_id": client.id, "currency": "RON", "series": "INV",
            "contract_id": contract.id if contract and k % 3 == 0 else None,
            "due_date": on - timedelta(days=10) if what == "overdue" else on + timedelta(days=14),
            "lines": _lines(k),
        })  # fmt: skip
        made += 1
        if what == "draft":
            continue
        issue_invoice(db, SYSTEM, invoice.id)
        if what == "partial":
            add_payment(db, SYSTEM, invoice.id, amount=(invoice.total / 3).quantize(D("0.01")),
                        method="card", reference=f"POS {1000 + k}")  # fmt: skip
        elif what == "paid":
            add_payment(db, SYSTEM, invoice.id, amount=invoice.total, method="bank_transfer",
                        reference=f"OP {200 + k}")  # fmt: skip
        elif what == "cancelled":
            credit_note(db, SYSTEM, invoice.id, "Factură emisă greșit")
    db.flush()
    return {"contracts": len(contracts), "invoices": made}

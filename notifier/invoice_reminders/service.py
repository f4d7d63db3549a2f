"""Invoice and contract reminders (periodic job, one short transaction).

- the client of an open invoice hears from us ``invoice_remind_days_before`` days before the
  due date and ``invoice_remind_days_after`` days after it if still unpaid (SMS or e-mail through
  the outbox: the same opt-out and quiet hours as every message; idempotency key
  ``invoice-remind:<invoice_id>:<before|after>``), in the client's language;
- a contract's owner (only them) gets a task "contract ... ends on ..." when the contract's
  reminder time has come; the task reminder job then tells them in-app (bus ``task.due``).
  Contracts past their end are renewed (auto-renewal) or marked expired first.

Each row is claimed with a conditional UPDATE, so two processes running the job never remind
twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm_core.auth.principal import SYSTEM
from crm_core.clients.models import Client, Email, Phone
from crm_core.contracts.models import Contract
from crm_core.contracts.service import due_reminders, roll_over
from crm_core.database import utcnow
from crm_core.invoices.models import Invoice
from crm_core.invoices.service import OPEN_STATUSES, today
from crm_core.wording import STORED
from notifier.config import get_settings
from notifier.outbox import service as outbox
from notifier.wording import CONTRACT_END_SOURCE, contract_end_title

TEXTS = {
    "en": {
        "before": "{company}: invoice {number} of {balance} {currency} is due on {due}.",
        "after": "{company}: invoice {number} ({balance} {currency} left) was due on {due}. "
        "Please pay it or call us.",
        "subject": "Invoice {number}",
    },
    "ro": {
        "before": "{company}: factura {number} de {balance} {currency} este scadentă pe {due}.",
        "after": "{company}: factura {number} (rest de plată {balance} {currency}) a fost "
        "scadentă pe {due}. Vă rugăm să o achitați sau să ne sunați.",
        "subject": "Factura {number}",
    },
    "ru": {
        "before": "{company}: счёт {number} на {balance} {currency} к оплате до {due}.",
        "after": "{company}: срок оплаты счёта {number} (остаток {balance} {currency}) истёк "
        "{due}. Пожалуйста, оплатите его или позвоните нам.",
        "subject": "Счёт {number}",
    },
}


def _recipient(db: Session, client_id: int, channel: str) -> str | None:
    if channel == "email":
        query = select(Email.address).where(Email.client_id == client_id).order_by(Email.position)
    else:
        query = select(Phone.e164).where(Phone.client_id == client_id).order_by(Phone.position)
    return db.scalar(query.limit(1))


def _remind_invoices(db: Session, which: str, on: date, days: int) -> int:
    settings = get_settings()
    column = Invoice.reminded_before_at if which == "before" else Invoice.reminded_after_at
    due = on + timedelta(days=days) if which == "before" else on - timedelta(days=days)
    window = (
        Invoice.due_date <= due
        if which == "after"
        else (Invoice.due_date <= due) & (Invoice.due_date >= on)
    )
    rows = db.execute(
        select(Invoice, Client.language)
        .join(Client, Client.id == Invoice.client_id)
        .where(Invoice.status.in_(OPEN_STATUSES), Invoice.kind == "invoice", window,
               column.is_(None), Invoice.balance > 0, Client.deleted_at.is_(None))
        .limit(500)
    ).all()  # fmt: skip
    sent = 0
    for invoice, language in rows:
        claimed = db.execute(
            update(Invoice)
            .where(Invoice.id == invoice.id, column.is_(None))
            .values({column.key: utcnow()})
            .execution_options(synchronize_session=False)
        ).rowcount
        channel = settings.invoice_remind_channel
        recipient = _recipient(db, invoice.client_id, channel)
        if not claimed or recipient is None:
            continue
        if channel != "email" and outbox.is_opted_out(db, recipient, channel):
            continue
        text = TEXTS.get(language or "", TEXTS.get(settings.default_language, TEXTS["en"]))
        values = {"company": settings.company_name, "number": invoice.number,
                  "balance": invoice.balance, "currency": invoice.currency,
                  "due": invoice.due_date.isoformat()}  # fmt: skip
        outbox.enqueue(
            db,
            channel=channel,
            recipient=recipient,
            body=text[which].format(**values),
            subject=text["subject"].format(**values) if channel == "email" else "",
            idempotency_key=f"invoice-remind:{invoice.id}:{which}",
            client_id=invoice.client_id,
            purpose="invoice_reminder",
        )
        sent += 1
    return sent


def remind_contract_owners(db: Session, now: datetime | None = None) -> int:
    """A task for the owner of each contract whose reminder time has come (the task reminder
    job then reminds them in-app); expired contracts are rolled over first."""
    from crm_core.tasks.service import create_task

    now = now or utcnow()
    roll_over(db, SYSTEM, today())
    count = 0
    for contract in due_reminders(db, now):
        claimed = db.execute(
            update(Contract)
            .where(Contract.id == contract.id, Contract.reminded_at.is_(None))
            .values(reminded_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            continue
        create_task(
            db,
            SYSTEM,
            title=contract_end_title(
                contract.number, contract.ends_on, contract.auto_renew, STORED
            ),
            client_id=contract.client_id,
            assignee_id=contract.owner_id,
            due_at=datetime.combine(contract.ends_on, datetime.min.time(), now.tzinfo),
            remind_at=now,
            source=CONTRACT_END_SOURCE,
        )
        count += 1
    return count


def run_invoice_reminders(db: Session, now: datetime | None = None) -> int:
    """The periodic job: client invoice reminders, then contract owners' reminders."""
    settings = get_settings()
    on = today()
    sent = 0
    if settings.invoice_remind_days_before > 0:
        sent += _remind_invoices(db, "before", on, settings.invoice_remind_days_before)
    if settings.invoice_remind_days_after > 0:
        sent += _remind_invoices(db, "after", on, settings.invoice_remind_days_after)
    return sent + remind_contract_owners(db, now)

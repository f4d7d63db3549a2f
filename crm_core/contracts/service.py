"""Contracts: numbered at creation (``C-2026-0001``, per series and year, no gaps), a term
with an optional automatic renewal, the signed scan (a file on the client), and the owner
reminded ``remind_days_before`` days before the end (the notifier's job reads
:func:`due_reminders`).

Rights follow the client: operators see their team's clients' contracts; others are 404.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from crm_core.attachments.models import Attachment
from crm_core.audit.service import record, snapshot
from crm_core.auth.models import User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client, visible_client_ids
from crm_core.config import get_settings
from crm_core.contracts.models import CONTRACT_STATUSES, ENTITY, Contract
from crm_core.database import utcnow
from crm_core.errors import Invalid, NotFound
from crm_core.invoices.numbering import clean_series, format_number, take_number

EDITABLE = (
    "title", "status", "signed_on", "starts_on", "ends_on", "auto_renew", "renewal_months",
    "amount", "currency", "order_id", "owner_id", "remind_days_before", "scan_attachment_id",
    "notes",
)  # fmt: skip
REMIND_HOUR = 9


def visible_contracts(actor: Principal) -> ColumnElement[bool]:
    if actor.sees_all_clients:
        return true()
    return Contract.client_id.in_(visible_client_ids(actor))


def get_contract(db: Session, actor: Principal, contract_id: int) -> Contract:
    contract = db.scalar(
        select(Contract).where(Contract.id == contract_id, visible_contracts(actor))
    )
    if contract is None:
        raise NotFound(f"contract {contract_id} not found")
    return contract


def remind_moment(ends_on: date | None, days_before: int) -> datetime | None:
    """9:00 local time ``days_before`` days before the end (None: open-ended)."""
    if ends_on is None:
        return None
    zone = ZoneInfo(get_settings().timezone)
    return datetime.combine(ends_on - timedelta(days=days_before), time(REMIND_HOUR), zone)


def _check(db: Session, contract: Contract) -> None:
    if contract.status not in CONTRACT_STATUSES:
        raise Invalid("status", f"must be one of {', '.join(CONTRACT_STATUSES)}")
    if contract.starts_on is None:
        raise Invalid("starts_on", "must not be empty")
    if contract.ends_on is not None and contract.ends_on < contract.starts_on:
        raise Invalid("ends_on", "must not be before starts_on")
    if contract.owner_id is not None:
        owner = db.get(User, contract.owner_id)
        if owner is None or not owner.is_active:
            raise Invalid("owner_id", f"no active user {contract.owner_id}")
    if contract.order_id is not None:
        from crm_core.orders.models import Order

        order = db.get(Order, contract.order_id)
        if order is None or order.client_id != contract.client_id:
            raise Invalid("order_id", f"no order {contract.order_id} of this client")
    if contract.scan_attachment_id is not None:
        scan = db.get(Attachment, contract.scan_attachment_id)
        if scan is None or scan.client_id != contract.client_id:
            raise Invalid("scan_attachment_id", "no such file on this client")


def create_contract(db: Session, actor: Principal, data: dict[str, Any]) -> Contract:
    try:
        client = get_visible_client(db, actor, data["client_id"])
    except NotFound:
        raise Invalid("client_id", f"no client {data['client_id']}") from None
    series = clean_series(data.get("series") or "C")
    fields = {k: v for k, v in data.items() if k in EDITABLE and k != "status"}
    contract = Contract(
        client_id=client.id, series=series, status="active", created_by_id=actor.id, **fields
    )
    contract.owner_id = contract.owner_id or actor.id
    contract.created_at = contract.updated_at = utcnow()
    _check(db, contract)
    year = (contract.signed_on or contract.starts_on).year
    contract.year = year
    contract.seq = take_number(db, "contract", series, year)
    contract.number = format_number(series, year, contract.seq)
    contract.remind_at = remind_moment(contract.ends_on, contract.remind_days_before)
    db.add(contract)
    db.flush()
    record(db, actor, "create", ENTITY, contract.id, None, snapshot(contract))
    return contract


def update_contract(db: Session, actor: Principal, contract_id: int, changes: dict) -> Contract:
    contract = get_contract(db, actor, contract_id)
    before = snapshot(contract)
    for name, value in changes.items():
        if name not in EDITABLE:
            raise Invalid(name, "cannot be changed")
        if value is None and name in ("status", "starts_on", "auto_renew", "currency"):
            raise Invalid(name, "must not be empty")
        setattr(contract, name, value if value is not None or name != "title" else "")
    _check(db, contract)
    when = remind_moment(contract.ends_on, contract.remind_days_before)
    if when != contract.remind_at:
        contract.remind_at, contract.reminded_at = when, None  # a new end, a new reminder
    db.flush()
    record(db, actor, "update", ENTITY, contract.id, before, snapshot(contract))
    return contract


def list_contracts(
    db: Session,
    actor: Principal,
    *,
    client_id: int | None = None,
    status: str | None = None,
    expiring_within: int | None = None,
    owner_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Contract], int]:
    query = select(Contract).where(visible_contracts(actor))
    if client_id is not None:
        get_visible_client(db, actor, client_id)
        query = query.where(Contract.client_id == client_id)
    if status is not None:
        if status not in CONTRACT_STATUSES:
            raise Invalid("status", f"must be one of {', '.join(CONTRACT_STATUSES)}")
        query = query.where(Contract.status == status)
    if expiring_within is not None:
        today = utcnow().astimezone(ZoneInfo(get_settings().timezone)).date()
        query = query.where(
            Contract.status == "active",
            Contract.ends_on.is_not(None),
            Contract.ends_on <= today + timedelta(days=expiring_within),
        )
    if owner_id is not None:
        query = query.where(Contract.owner_id == owner_id)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.scalars(
        query.order_by(Contract.created_at.desc(), Contract.id.desc()).limit(limit).offset(offset)
    )
    return list(rows), total


def due_reminders(db: Session, now: datetime | None = None, limit: int = 500) -> list[Contract]:
    """Active contracts whose reminder time has come and whose owner was not reminded yet."""
    now = now or utcnow()
    return list(
        db.scalars(
            select(Contract)
            .where(
                Contract.status == "active",
                Contract.remind_at.is_not(None),
                Contract.remind_at <= now,
                Contract.reminded_at.is_(None),
                Contract.owner_id.is_not(None),
            )
            .order_by(Contract.remind_at)
            .limit(limit)
        )
    )


def roll_over(db: Session, actor: Principal, on: date) -> list[Contract]:
    """Active contracts past their end: renewed by ``renewal_months`` when auto-renewing
    (and a new reminder planned), else marked expired."""
    rows = list(
        db.scalars(
            select(Contract).where(
                Contract.status == "active", Contract.ends_on.is_not(None), Contract.ends_on < on
            )
        )
    )
    for contract in rows:
        before = snapshot(contract)
        if contract.auto_renew:
            while contract.ends_on < on:
                contract.ends_on = _add_months(contract.ends_on, contract.renewal_months)
            contract.remind_at = remind_moment(contract.ends_on, contract.remind_days_before)
            contract.reminded_at = None
        else:
            contract.status = "expired"
        record(db, actor, "update", ENTITY, contract.id, before, snapshot(contract))
    db.flush()
    return rows


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def invoice_ids(db: Session, contract_id: int) -> list[int]:
    from crm_core.invoices.models import Invoice

    return list(
        db.scalars(
            select(Invoice.id).where(Invoice.contract_id == contract_id).order_by(Invoice.id)
        )
    )

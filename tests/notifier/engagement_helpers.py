"""Small builders shared by the notifier engagement tests (real rows, real services)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crm_core.auth.principal import Principal
from crm_core.clients.models import Client, Email, Phone
from crm_core.database import utcnow


def make_client(
    db,
    name: str = "Ana Popescu",
    phone: str | None = "+40712345678",
    email: str | None = "ana@example.com",
    language: str = "en",
    team_id: int | None = None,
    owner_id: int | None = None,
) -> Client:
    first, _, last = name.partition(" ")
    client = Client(
        first_name=first,
        last_name=last,
        display_name=name,
        language=language,
        team_id=team_id,
        owner_id=owner_id,
    )
    db.add(client)
    db.flush()
    if phone:
        db.add(Phone(client_id=client.id, kind="mobile", number=phone, e164=phone))
    if email:
        db.add(
            Email(client_id=client.id, kind="personal", address=email, address_lower=email.lower())
        )
    db.flush()
    return client


def principal_of(user) -> Principal:
    return Principal(
        id=user.id, username=user.username, role=user.role, team_id=user.team_id,
        extension=user.extension,
    )  # fmt: skip


def outbox_rows(db, prefix: str = "", status: str | None = None):
    from notifier.outbox.models import OutboxMessage

    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if prefix:
        query = query.where(OutboxMessage.idempotency_key.like(f"{prefix}%"))
    if status:
        query = query.where(OutboxMessage.status == status)
    return list(db.scalars(query))


def later(**kwargs) -> datetime:
    return (utcnow() + timedelta(**kwargs)).replace(microsecond=0)

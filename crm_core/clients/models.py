from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.database import Base, utcnow

#: what clients are called in the audit log and in custom field definitions
ENTITY = "client"


def is_vip(category: str) -> bool:
    """VIP is a category like any other, in any spelling; cards, lists and popups mark it."""
    return category.strip().lower() == "vip"


class Client(Base):
    """A person or an organization in the shared client base."""

    __tablename__ = "clients"
    __table_args__ = (
        Index("ix_clients_team_deleted", "team_id", "deleted_at"),
        Index("ix_clients_display_name", "display_name"),
        # list pages filtered by category or status come sorted by name without a sort step
        Index("ix_clients_category_name", "category", "display_name"),
        Index("ix_clients_status_name", "status", "display_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), default="person")
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120), default="")
    middle_name: Mapped[str] = mapped_column(String(120), default="")
    org_name: Mapped[str] = mapped_column(String(250), default="")
    display_name: Mapped[str] = mapped_column(String(300), default="")
    job_title: Mapped[str] = mapped_column(String(120), default="")
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # looked up by the (category|status, display_name) indexes above, which begin with them
    category: Mapped[str] = mapped_column(String(40), default="regular")
    status: Mapped[str] = mapped_column(String(20), default="active")
    source: Mapped[str] = mapped_column(String(80), default="")
    birthday: Mapped[date | None]
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="")
    last_rating: Mapped[int | None]
    last_rated_at: Mapped[datetime | None]
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted_at: Mapped[datetime | None]

    phones: Mapped[list[Phone]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="Phone.position"
    )
    emails: Mapped[list[Email]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="Email.position"
    )
    addresses: Mapped[list[Address]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="Address.position"
    )
    handles: Mapped[list[Handle]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="Handle.id"
    )
    tags: Mapped[list[ClientTag]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="ClientTag.tag"
    )
    organization: Mapped[Client | None] = relationship(
        remote_side=[id], foreign_keys=[organization_id]
    )


class Phone(Base):
    __tablename__ = "client_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="mobile")
    number: Mapped[str] = mapped_column(String(64))  # as typed
    e164: Mapped[str] = mapped_column(String(20), index=True)
    position: Mapped[int] = mapped_column(default=0)

    client: Mapped[Client] = relationship(back_populates="phones")


class Email(Base):
    __tablename__ = "client_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="work")
    address: Mapped[str] = mapped_column(String(254))
    address_lower: Mapped[str] = mapped_column(String(254), index=True)
    position: Mapped[int] = mapped_column(default=0)

    client: Mapped[Client] = relationship(back_populates="emails")


class Address(Base):
    __tablename__ = "client_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12), default="work")
    street: Mapped[str] = mapped_column(String(250), default="")
    city: Mapped[str] = mapped_column(String(120), default="", index=True)
    region: Mapped[str] = mapped_column(String(120), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    position: Mapped[int] = mapped_column(default=0)

    client: Mapped[Client] = relationship(back_populates="addresses")


class Handle(Base):
    """Messenger or social handle (Telegram, WhatsApp, Viber, Facebook, ...)."""

    __tablename__ = "client_handles"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    network: Mapped[str] = mapped_column(String(40))
    handle: Mapped[str] = mapped_column(String(200))

    client: Mapped[Client] = relationship(back_populates="handles")


class ClientTag(Base):
    __tablename__ = "client_tags"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)

    client: Mapped[Client] = relationship(back_populates="tags")

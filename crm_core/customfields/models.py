from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_core.database import Base

FIELD_KINDS = ("text", "number", "date", "bool", "choice")


class CustomField(Base):
    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("entity", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20), default="client")  # client | task | interaction
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)
    searchable: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)


class CustomFieldValue(Base):
    __tablename__ = "custom_field_values"
    __table_args__ = (
        UniqueConstraint("field_id", "entity_id"),
        Index("ix_cfv_field_text", "field_id", "value_text"),
        Index("ix_cfv_field_number", "field_id", "value_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("custom_fields.id", ondelete="CASCADE"))
    entity_id: Mapped[int] = mapped_column(index=True)
    value_text: Mapped[str | None] = mapped_column(Text)
    value_number: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    value_date: Mapped[date | None]
    value_bool: Mapped[bool | None]


class FieldLabel(Base):
    """Admin's renaming of a built-in field label the UI shows, per language ('' = all)."""

    __tablename__ = "field_labels"
    __table_args__ = (UniqueConstraint("entity", "field", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(8), default="")
    label: Mapped[str] = mapped_column(String(120))


class ChoiceLabel(Base):
    """The label of a choice list item in one UI language (en, ro, ru); the item's own
    ``label`` stands in for a language without one."""

    __tablename__ = "choice_labels"
    __table_args__ = (UniqueConstraint("item_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("choice_items.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(120))

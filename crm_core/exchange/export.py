"""Exporting the client list to CSV or XLSX: one row per client, spreadsheet-safe."""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.clients.models import ENTITY, Address, Client, ClientTag, Email, Phone
from crm_core.customfields import service as customfields

EXPORT_COLUMNS = (
    "id",
    "kind",
    "display_name",
    "first_name",
    "last_name",
    "middle_name",
    "org_name",
    "job_title",
    "organization_id",
    "category",
    "status",
    "source",
    "birthday",
    "discount_percent",
    "comment",
    "language",
    "tags",
    "phone",
    "email",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "team",
    "owner",
    "created_at",
    "updated_at",
)
FORMULA_START = ("=", "@", "\t", "\r")
_SIGNED_NUMBER = re.compile(r"[+-][\d\s().]*")


def _safe(value: Any) -> Any:
    """Spreadsheet-safe: a text cell that a spreadsheet would run as a formula gets a quote.

    E.164 numbers (+40...) and negative numbers stay as they are."""
    risky = isinstance(value, str) and bool(value)
    if risky and (
        value.startswith(FORMULA_START)
        or (value[0] in "+-" and not _SIGNED_NUMBER.fullmatch(value))
    ):
        return "'" + value
    return value


def export_rows(
    db: Session, actor: Principal, query: Select, batch: int = 1000
) -> Iterator[list[Any]]:
    """The header row, then one row per client of ``query`` (a select of Client), through the
    ORM: the reference that :func:`crm_core.exchange.export_lists.client_rows` (what the API
    streams, read as plain columns) is tested and benchmarked against."""
    require(actor.can_export, "export clients")
    fields = customfields.fields_for(db, ENTITY)
    yield [*EXPORT_COLUMNS, *[f"cf.{f.key}" for f in fields]]
    teams = dict(db.execute(select(Team.id, Team.name)).tuples().all())
    users = dict(db.execute(select(User.id, User.username)).tuples().all())
    for clients in _batches(db, query, batch):
        lists = _ClientLists.read(db, [c.id for c in clients])
        for c in clients:
            row = {
                **{name: getattr(c, name) for name in EXPORT_COLUMNS if hasattr(Client, name)},
                **lists.cells(c.id),
                "team": teams.get(c.team_id, "") if c.team_id else "",
                "owner": users.get(c.owner_id, "") if c.owner_id else "",
            }
            custom = lists.custom.get(c.id, {})
            yield [
                *(_cell(row.get(name)) for name in EXPORT_COLUMNS),
                *(_safe(_blank(custom.get(f.key))) for f in fields),
            ]


def _batches(db: Session, query: Select, size: int) -> Iterator[list[Client]]:
    """The clients of ``query`` in id order, ``size`` at a time (keyset pagination)."""
    last_id = 0
    while True:
        clients = list(db.scalars(query.where(Client.id > last_id).order_by(Client.id).limit(size)))
        if not clients:
            return
        last_id = clients[-1].id
        yield clients


@dataclass
class _ClientLists:
    """The phones, e-mails, tags, first address and custom values of a batch of clients."""

    phones: dict[int, list[str]]
    emails: dict[int, list[str]]
    tags: dict[int, list[str]]
    addresses: dict[int, Address]
    custom: dict[int, dict[str, Any]]

    @classmethod
    def read(cls, db: Session, ids: list[int]) -> _ClientLists:
        phones: dict[int, list[str]] = {}
        for cid, e164 in db.execute(
            select(Phone.client_id, Phone.e164)
            .where(Phone.client_id.in_(ids))
            .order_by(Phone.position, Phone.id)
        ):
            phones.setdefault(cid, []).append(e164)
        emails: dict[int, list[str]] = {}
        for cid, address in db.execute(
            select(Email.client_id, Email.address)
            .where(Email.client_id.in_(ids))
            .order_by(Email.position, Email.id)
        ):
            emails.setdefault(cid, []).append(address)
        tags: dict[int, list[str]] = {}
        for cid, tag in db.execute(
            select(ClientTag.client_id, ClientTag.tag).where(ClientTag.client_id.in_(ids))
        ):
            tags.setdefault(cid, []).append(tag)
        addresses: dict[int, Address] = {}
        for a in db.scalars(
            select(Address)
            .where(Address.client_id.in_(ids))
            .order_by(Address.position.desc(), Address.id.desc())
        ):
            addresses[a.client_id] = a  # the first by position wins
        return cls(phones, emails, tags, addresses, customfields.values_for(db, ENTITY, ids))

    def cells(self, client_id: int) -> dict[str, str]:
        """The export columns filled from the lists."""
        a = self.addresses.get(client_id)
        return {
            "tags": "; ".join(sorted(self.tags.get(client_id, []))),
            "phone": "; ".join(self.phones.get(client_id, [])),
            "email": "; ".join(self.emails.get(client_id, [])),
            "street": a.street if a else "",
            "city": a.city if a else "",
            "region": a.region if a else "",
            "postal_code": a.postal_code if a else "",
            "country": a.country if a else "",
        }


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _cell(value: Any) -> Any:
    """A column value as the file holds it: dates as ISO text, amounts as numbers."""
    if isinstance(value, datetime | date):
        value = value.isoformat()
    elif isinstance(value, Decimal):
        value = float(value)
    return _safe(_blank(value))


def write_export(rows: Iterator[list[Any]], fmt: str) -> Path:
    """Write the rows to a temporary CSV (UTF-8 with BOM, for Excel) or XLSX file."""
    if fmt == "csv":
        with tempfile.NamedTemporaryFile(
            "w", suffix=".csv", delete=False, encoding="utf-8-sig", newline=""
        ) as handle:
            writer = csv.writer(handle)
            for row in rows:
                writer.writerow(row)
        return Path(handle.name)
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("clients")
    for row in rows:  # control characters cannot be stored in a worksheet: dropped
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as handle:
        name = handle.name
    book.save(name)
    return Path(name)

"""Import clients from CSV/XLSX.

Import never half-imports. Every row is checked the way the clients API checks a new client
(names, phones normalised to E.164, e-mails, custom fields, duplicates against the base and
within the file). Then either

- strict (default): any row error rejects the whole file, nothing is written; or
- ``skip_invalid``: all valid rows are written in ONE transaction and the report lists the
  rows left out.

A dry run does the same work inside a transaction that is rolled back, so its preview is
exactly what the import would do. Which column is which field: :mod:`crm_core.exchange.mapping`;
the export: :mod:`crm_core.exchange.export`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, SessionTransaction

from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.clients.models import Client
from crm_core.clients.schemas import ClientIn
from crm_core.clients.service import create_client, find_duplicate
from crm_core.errors import Invalid, ServiceError
from crm_core.exchange.mapping import (
    ADDRESS_TARGETS,
    PHONE_TARGETS,
    SCALAR_TARGETS,
    resolve_mapping,
)

MAX_ROWS = 100_000


@dataclass
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str  # the file's column header ("" when the error is about the whole row)
    field: str  # the client field
    message: str


@dataclass
class ImportReport:
    dry_run: bool
    total_rows: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: bool = False
    mapping: dict[str, str] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    created_ids: list[int] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1250", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(data: bytes, filename: str = "") -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the first sheet of an XLSX file or of a CSV file (, ; or tab)."""
    is_xlsx = filename.lower().endswith(".xlsx") or data[:2] == b"PK"
    if is_xlsx:
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds on broken files
            raise Invalid("file", f"not a readable XLSX file ({exc.__class__.__name__})") from None
        sheet = book.worksheets[0]
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
    else:
        text = _decode(data).replace("\x00", "")
        header_line = text.split("\n", 1)[0]
        delimiter = max(",;\t", key=header_line.count)  # the header names the columns
        try:
            reader = csv.reader(io.StringIO(text), delimiter=delimiter)
            rows = [[c.strip() for c in row] for row in reader]
        except csv.Error as exc:
            raise Invalid("file", f"not a readable CSV file: {exc}") from None
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows or not any(rows[0]):
        raise Invalid("file", "is empty: the first row must name the columns")
    headers = [h.strip() for h in rows[0]]
    if len(rows) - 1 > MAX_ROWS:
        raise Invalid("file", f"has more than {MAX_ROWS} rows; split it")
    return headers, rows[1:]


# --- one row -> ClientIn ------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[;,|\n]", value) if v.strip()]


def _row_payload(
    row: dict[str, str], teams: dict[str, int], users: dict[str, int]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(ClientIn data, {payload location: source target}) from {target: cell}."""
    data: dict[str, Any] = {}
    where: dict[str, str] = {}
    for target in SCALAR_TARGETS:
        value = row.get(target, "")
        if value:
            if target == "kind":
                value = value.lower()
            data[target] = value
            where[target] = target
    if data.get("org_name") and not (data.get("first_name") or data.get("last_name")):
        data.setdefault("kind", "organization")
    phones = []
    for target in PHONE_TARGETS:
        for number in _split(row.get(target, "")):
            kind = target.split("_", 1)[1] if "_" in target else "mobile"
            where[f"phones.{len(phones)}"] = target
            phones.append({"kind": kind, "number": number})
    if phones:
        data["phones"] = phones
    emails = []
    for address in _split(row.get("email", "")):
        where[f"emails.{len(emails)}"] = "email"
        emails.append({"kind": "work", "address": address})
    if emails:
        data["emails"] = emails
    address = {t: row[t] for t in ADDRESS_TARGETS if row.get(t)}
    if address:
        data["addresses"] = [address]
        for t in address:
            where[f"addresses.0.{t}"] = t
    if row.get("tags"):
        data["tags"] = _split(row["tags"])
        where["tags"] = "tags"
    custom = {t[3:]: v for t, v in row.items() if t.startswith("cf.") and v != ""}
    if custom:
        data["custom"] = custom
        for key in custom:
            where[f"custom.{key}"] = f"cf.{key}"
    if row.get("team"):
        name = row["team"].strip().lower()
        if name not in teams:
            raise Invalid("team", f"no team {row['team']!r}")
        data["team_id"] = teams[name]
    if row.get("owner"):
        name = row["owner"].strip().lower()
        if name not in users:
            raise Invalid("owner", f"no active user {row['owner']!r}")
        data["owner_id"] = users[name]
    return data, where


def _target_of(loc: tuple | list, where: dict[str, str]) -> str:
    parts = [str(p) for p in loc]
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in where:
            return where[key]
    return parts[0] if parts else ""


# --- the import ---------------------------------------------------------------------------


def import_clients(
    db: Session,
    actor: Principal,
    data: bytes,
    *,
    filename: str = "",
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    duplicates: str = "error",
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import client rows (see the module docstring). ``duplicates``: error | skip | force.

    The caller commits unless ``report.rejected`` or ``dry_run`` (then this function has
    already rolled back)."""
    require(actor.can_export, "import clients")
    if duplicates not in ("error", "skip", "force"):
        raise Invalid("duplicates", "must be error, skip or force")
    headers, rows = read_table(data, filename)
    mapping = resolve_mapping(db, headers, mapping)
    report = ImportReport(dry_run=dry_run, total_rows=len(rows), mapping=mapping)
    importer = _RowImporter(db, actor, headers, report, duplicates)
    outer = db.begin_nested()  # everything below is one unit: kept, or rolled back whole
    for number, cells in enumerate(rows, start=2):
        if progress:
            progress(number - 1, len(rows))
        importer.import_row(number, cells)
    report.imported = len(report.created_ids)
    if skip_invalid:
        report.skipped += len({e.row for e in report.errors})
    if progress:
        progress(len(rows), len(rows))
    _keep_or_roll_back(report, outer, dry_run=dry_run, skip_invalid=skip_invalid)
    return report


def _keep_or_roll_back(
    report: ImportReport, outer: SessionTransaction, *, dry_run: bool, skip_invalid: bool
) -> None:
    """Keep the imported clients, or roll them back for a dry run or a rejected file."""
    if not (dry_run or (report.errors and not skip_invalid)):
        outer.commit()
        return
    outer.rollback()
    report.rejected = bool(report.errors) and not skip_invalid
    if report.rejected or dry_run:
        report.created_ids = []
    if report.rejected:
        report.imported = 0


class _RowImporter:
    """Turns the file's rows into clients one by one, noting each row's errors in the report.

    A row is refused when it does not make a valid client, repeats a phone or e-mail of an
    earlier row, or (unless ``duplicates`` is force) holds one already in the base."""

    def __init__(
        self,
        db: Session,
        actor: Principal,
        headers: list[str],
        report: ImportReport,
        duplicates: str,
    ) -> None:
        self.db, self.actor, self.report, self.duplicates = db, actor, report, duplicates
        self.index = {h: i for i, h in enumerate(headers)}
        self.column_of = {target: column for column, target in report.mapping.items()}
        self.teams = {n.lower(): i for i, n in db.execute(select(Team.id, Team.name)).tuples()}
        active = select(User.id, User.username).where(User.is_active.is_(True))
        self.users = {n.lower(): i for i, n in db.execute(active).tuples()}
        #: e-mails and numbers the file has given a client so far: the row that did
        self.seen_phones: dict[str, int] = {}
        self.seen_emails: dict[str, int] = {}

    def fail(self, number: int, target: str, message: str) -> None:
        self.report.errors.append(RowError(number, self.column_of.get(target, ""), target, message))

    def import_row(self, number: int, cells: list[str]) -> None:
        if not any(cells):
            self.report.total_rows -= 1
            return
        parsed = self._client_in(number, cells)
        if parsed is None:
            return
        client_in, where = parsed
        phones = [p.e164 for p in client_in.phones]
        emails = [str(e.address).lower() for e in client_in.emails]
        if self._repeats_earlier_row(number, where, phones, emails):
            return
        if self.duplicates != "force" and self._held_in_base(number, where, phones, emails):
            return
        client = self._create(number, where, client_in)
        if client is None:
            return
        self.seen_phones.update(dict.fromkeys(phones, number))
        self.seen_emails.update(dict.fromkeys(emails, number))
        self.report.created_ids.append(client.id)

    def _client_in(self, number: int, cells: list[str]) -> tuple[ClientIn, dict[str, str]] | None:
        """The row as a new client and where each of its parts came from; None if invalid."""
        row = {
            target: (cells[self.index[column]] if self.index[column] < len(cells) else "")
            for column, target in self.report.mapping.items()
        }
        where: dict[str, str] = {}
        try:
            payload, where = _row_payload(row, self.teams, self.users)
            return ClientIn.model_validate(payload), where
        except Invalid as exc:
            self.fail(number, str(exc.loc[0]), exc.message.split(": ", 1)[-1])
        except ValidationError as exc:
            for err in exc.errors():
                message = err["msg"].removeprefix("Value error, ")
                self.fail(number, _target_of(err["loc"], where), message)
        return None

    def _repeats_earlier_row(
        self, number: int, where: dict[str, str], phones: list[str], emails: list[str]
    ) -> bool:
        errors_before = len(self.report.errors)
        for i, e164 in enumerate(phones):
            if e164 in self.seen_phones:
                target = where.get(f"phones.{i}", "phone")
                self.fail(number, target, f"{e164} is also on row {self.seen_phones[e164]}")
        for i, address in enumerate(emails):
            if address in self.seen_emails:
                target = where.get(f"emails.{i}", "email")
                self.fail(number, target, f"{address} is also on row {self.seen_emails[address]}")
        return len(self.report.errors) > errors_before

    def _held_in_base(
        self, number: int, where: dict[str, str], phones: list[str], emails: list[str]
    ) -> bool:
        """A number or e-mail of the row is a live client's: skipped or an error."""
        found = find_duplicate(self.db, phones, emails)
        if found is None:
            return False
        existing, loc = found
        if self.duplicates == "skip":
            self.report.skipped += 1
            return True
        kind, i = loc.split("[")[0], int(loc.split("[")[1].rstrip("]"))
        message = (
            f"already belongs to client {existing.id}"
            if self.actor.sees_all_clients
            else "already belongs to another client"
        )
        self.fail(number, where.get(f"{kind}.{i}", kind.rstrip("s")), message)
        return True

    def _create(self, number: int, where: dict[str, str], client_in: ClientIn) -> Client | None:
        """The client, in a savepoint of its own: a refused row leaves nothing behind."""
        savepoint = self.db.begin_nested()
        try:
            client = create_client(self.db, self.actor, client_in, force=True)
            savepoint.commit()
            return client
        except ServiceError as exc:
            savepoint.rollback()
            if isinstance(exc, Invalid):
                self.fail(number, _target_of(exc.loc, where), exc.message.split(": ", 1)[-1])
            else:
                self.fail(number, "", exc.message)
            return None

"""Import clients from CSV/XLSX and export the client list.

Import never half-imports. Every row is checked the way the clients API checks a new client
(names, phones normalised to E.164, e-mails, custom fields, duplicates against the base and
within the file). Then either

- strict (default): any row error rejects the whole file, nothing is written; or
- ``skip_invalid``: all valid rows are written in ONE transaction and the report lists the
  rows left out.

A dry run does the same work inside a transaction that is rolled back, so its preview is
exactly what the import would do.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.clients.models import Address, Client, ClientTag, Email, Phone
from crm_core.customfields import service as customfields
from crm_core.errors import Invalid, ServiceError

MAX_ROWS = 100_000
SCALAR_TARGETS = (
    "kind",
    "first_name",
    "last_name",
    "middle_name",
    "org_name",
    "job_title",
    "category",
    "status",
    "source",
    "birthday",
    "discount_percent",
    "comment",
    "language",
    "timezone",
)
PHONE_TARGETS = ("phone", "phone_mobile", "phone_work", "phone_home", "phone_fax", "phone_other")
ADDRESS_TARGETS = ("street", "city", "region", "postal_code", "country")
OTHER_TARGETS = ("email", "tags", "team", "owner")
TARGETS = SCALAR_TARGETS + PHONE_TARGETS + ADDRESS_TARGETS + OTHER_TARGETS
#: header spellings (lowercased, spaces/dashes as _) recognised without an explicit mapping
ALIASES = {
    "name": "first_name",
    "firstname": "first_name",
    "prenume": "first_name",
    "имя": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "nume": "last_name",
    "фамилия": "last_name",
    "отчество": "middle_name",
    "company": "org_name",
    "organization": "org_name",
    "organisation": "org_name",
    "companie": "org_name",
    "firma": "org_name",
    "компания": "org_name",
    "организация": "org_name",
    "telephone": "phone",
    "tel": "phone",
    "telefon": "phone",
    "телефон": "phone",
    "mobile": "phone_mobile",
    "mobil": "phone_mobile",
    "мобильный": "phone_mobile",
    "e_mail": "email",
    "mail": "email",
    "почта": "email",
    "oras": "city",
    "oraș": "city",
    "город": "city",
    "adresa": "street",
    "address": "street",
    "адрес": "street",
    "categorie": "category",
    "категория": "category",
    "tag": "tags",
    "etichete": "tags",
    "теги": "tags",
    "notes": "comment",
    "note": "comment",
    "comentariu": "comment",
    "комментарий": "comment",
}


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


def _norm(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def guess_mapping(db: Session, headers: list[str]) -> dict[str, str]:
    """Column header -> client field for the headers that name a field (or an alias of one)."""
    custom_keys = {f.key for f in customfields.fields_for(db, "client")}
    mapping: dict[str, str] = {}
    for header in headers:
        key = _norm(header)
        if key in TARGETS:
            mapping[header] = key
        elif key in ALIASES:
            mapping[header] = ALIASES[key]
        elif key.startswith("cf.") and key[3:] in custom_keys:
            mapping[header] = key
        elif key in custom_keys:
            mapping[header] = f"cf.{key}"
    return mapping


def check_mapping(db: Session, headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    custom_keys = {f.key for f in customfields.fields_for(db, "client")}
    for column, target in mapping.items():
        if column not in headers:
            raise Invalid(["mapping", column], "no such column in the file")
        if target == "":
            continue
        if target.startswith("cf."):
            if target[3:] not in custom_keys:
                raise Invalid(["mapping", column], f"no client custom field {target[3:]!r}")
        elif target not in TARGETS:
            raise Invalid(
                ["mapping", column], f"unknown field {target!r}; one of {', '.join(TARGETS)}"
            )
    return {c: t for c, t in mapping.items() if t}


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
    from crm_core.clients.schemas import ClientIn
    from crm_core.clients.service import create_client, find_duplicate

    require(actor.can_export, "import clients")
    if duplicates not in ("error", "skip", "force"):
        raise Invalid("duplicates", "must be error, skip or force")
    headers, rows = read_table(data, filename)
    guessed = guess_mapping(db, headers)
    if mapping:  # the explicit mapping wins; "" leaves a column out
        explicit = check_mapping(db, headers, mapping)
        guessed = {c: t for c, t in guessed.items() if c not in mapping}
        mapping = {**guessed, **explicit}
    else:
        mapping = guessed
    if not mapping:
        raise Invalid("mapping", "no column matches a client field; send a mapping")
    report = ImportReport(dry_run=dry_run, total_rows=len(rows), mapping=mapping)
    index = {h: i for i, h in enumerate(headers)}
    column_of = {target: column for column, target in mapping.items()}
    teams = {n.lower(): i for i, n in db.execute(select(Team.id, Team.name)).tuples()}
    users = {
        n.lower(): i
        for i, n in db.execute(
            select(User.id, User.username).where(User.is_active.is_(True))
        ).tuples()
    }
    seen_phones: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    outer = db.begin_nested()  # everything below is one unit: kept, or rolled back whole
    for number, cells in enumerate(rows, start=2):
        if progress:
            progress(number - 1, len(rows))
        if not any(cells):
            report.total_rows -= 1
            continue
        row = {
            target: (cells[index[column]] if index[column] < len(cells) else "")
            for column, target in mapping.items()
        }
        errors_before = len(report.errors)

        def fail(target: str, message: str, number: int = number) -> None:
            report.errors.append(RowError(number, column_of.get(target, ""), target, message))

        where: dict[str, str] = {}
        try:
            payload, where = _row_payload(row, teams, users)
            client_in = ClientIn.model_validate(payload)
        except Invalid as exc:
            fail(str(exc.loc[0]), exc.message.split(": ", 1)[-1])
            continue
        except ValidationError as exc:
            for err in exc.errors():
                fail(_target_of(err["loc"], where), err["msg"].removeprefix("Value error, "))
            continue
        phones = [p.e164 for p in client_in.phones]
        emails = [str(e.address).lower() for e in client_in.emails]
        for i, e164 in enumerate(phones):
            if e164 in seen_phones:
                fail(
                    where.get(f"phones.{i}", "phone"), f"{e164} is also on row {seen_phones[e164]}"
                )
        for i, address in enumerate(emails):
            if address in seen_emails:
                fail(
                    where.get(f"emails.{i}", "email"),
                    f"{address} is also on row {seen_emails[address]}",
                )
        if len(report.errors) > errors_before:
            continue
        if duplicates != "force":
            found = find_duplicate(db, phones, emails)
            if found is not None:
                existing, loc = found
                if duplicates == "skip":
                    report.skipped += 1
                    continue
                kind, i = loc.split("[")[0], int(loc.split("[")[1].rstrip("]"))
                fail(
                    where.get(f"{kind}.{i}", kind.rstrip("s")),
                    f"already belongs to client {existing.id}"
                    if actor.sees_all_clients
                    else "already belongs to another client",
                )
                continue
        savepoint = db.begin_nested()
        try:
            client = create_client(db, actor, client_in, force=True)
            savepoint.commit()
        except ServiceError as exc:
            savepoint.rollback()
            if isinstance(exc, Invalid):
                fail(_target_of(exc.loc, where), exc.message.split(": ", 1)[-1])
            else:
                fail("", exc.message)
            continue
        for e164 in phones:
            seen_phones[e164] = number
        for address in emails:
            seen_emails[address] = number
        report.created_ids.append(client.id)
    report.imported = len(report.created_ids)
    bad_rows = {e.row for e in report.errors}
    report.skipped += len(bad_rows) if skip_invalid else 0
    if progress:
        progress(len(rows), len(rows))
    if dry_run or (report.errors and not skip_invalid):
        outer.rollback()
        report.rejected = bool(report.errors) and not skip_invalid
        if report.rejected or dry_run:
            report.created_ids = []
        if report.rejected:
            report.imported = 0
        return report
    outer.commit()
    return report


# --- export -------------------------------------------------------------------------------

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


def _safe(value: Any) -> Any:
    """Spreadsheet-safe: a text cell that a spreadsheet would run as a formula gets a quote.

    E.164 numbers (+40...) and negative numbers stay as they are."""
    risky = isinstance(value, str) and bool(value)
    if risky and (
        value.startswith(FORMULA_START)
        or (value[0] in "+-" and not re.fullmatch(r"[+-][\d\s().]*", value))
    ):
        return "'" + value
    return value


def export_rows(db: Session, actor: Principal, query, batch: int = 1000) -> Iterator[list[Any]]:
    """The header row, then one row per client of ``query`` (a select of Client)."""
    require(actor.can_export, "export clients")
    fields = customfields.fields_for(db, "client")
    yield [*EXPORT_COLUMNS, *[f"cf.{f.key}" for f in fields]]
    teams = dict(db.execute(select(Team.id, Team.name)).tuples().all())
    users = dict(db.execute(select(User.id, User.username)).tuples().all())
    last_id = 0
    while True:
        clients = list(
            db.scalars(query.where(Client.id > last_id).order_by(Client.id).limit(batch))
        )
        if not clients:
            return
        ids = [c.id for c in clients]
        last_id = ids[-1]
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
        values = customfields.values_for(db, "client", ids)
        for c in clients:
            a = addresses.get(c.id)
            row = {
                **{name: getattr(c, name) for name in EXPORT_COLUMNS if hasattr(Client, name)},
                "tags": "; ".join(sorted(tags.get(c.id, []))),
                "phone": "; ".join(phones.get(c.id, [])),
                "email": "; ".join(emails.get(c.id, [])),
                "street": a.street if a else "",
                "city": a.city if a else "",
                "region": a.region if a else "",
                "postal_code": a.postal_code if a else "",
                "country": a.country if a else "",
                "team": teams.get(c.team_id, "") if c.team_id else "",
                "owner": users.get(c.owner_id, "") if c.owner_id else "",
            }
            out = []
            for name in EXPORT_COLUMNS:
                value = row.get(name)
                if isinstance(value, datetime | date):
                    value = value.isoformat()
                elif isinstance(value, Decimal):
                    value = float(value)
                out.append(_safe("" if value is None else value))
            for f in fields:
                value = values.get(c.id, {}).get(f.key)
                out.append(_safe("" if value is None else value))
            yield out


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

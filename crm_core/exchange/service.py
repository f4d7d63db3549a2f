"""Import clients from CSV, XLSX, ODS, vCard, Google Contacts and Outlook CSV files.

Import never half-imports. Every row is checked the way the clients API checks a new client
(names, phones normalised to E.164, e-mails, custom fields) and against duplicates: a phone
or e-mail already in the base or on an earlier row, or, for a row with neither, the same
name and city (see :mod:`crm_core.exchange.dedupe`). Similar names in the same city are
reported as likely duplicates and imported: a person decides. Then either

- strict (default): any row error rejects the whole file, nothing is written; or
- ``skip_invalid``: all valid rows are written and the report lists the rows left out.

``duplicates``: ``error`` (a row error), ``skip`` (left out and counted: importing the same
file twice adds nobody) or ``force`` (imported anyway).

Here a file is imported in one transaction (the API's uploads, the CLI's dry runs); large
files run as background jobs committed batch by batch (:mod:`crm_core.exchange.jobs`), which
use the same :class:`Importer`. Reading files: :mod:`crm_core.exchange.formats`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.rights import require
from crm_core.errors import Invalid, said
from crm_core.exchange import dedupe
from crm_core.exchange.formats import Rows, Source, Table, open_table
from crm_core.exchange.mapping import resolve_mapping
from crm_core.exchange.records import Record, RecordMaker, RowError
from crm_core.exchange.writer import BatchWriter

__all__ = ["ImportReport", "Importer", "RowError", "import_clients", "read_table"]
BATCH = 2000
ERRORS_KEPT = 1000
CREATED_IDS_KEPT = 10_000
DUPLICATE_POLICIES = ("error", "skip", "force")


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
    kind: str = "csv"
    numbered_by: str = "row"
    details: dict[str, str] = field(default_factory=dict)
    error_count: int = 0
    error_rows: int = 0
    duplicates: int = 0
    likely_duplicates: list[dedupe.LikelyDuplicate] = field(default_factory=list)
    likely_checked: bool = True

    def fail(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(error)


def read_table(data: Source, filename: str = "") -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of a small file: the preview of the import wizard."""
    table = open_table(data, filename)
    return table.headers, [cells for _, cells in table.rows]


def batches(rows: Rows, size: int = BATCH) -> Iterator[list[tuple[int, list[str]]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


class Importer:
    """Checks (and with ``write``, writes) the rows of one file, batch by batch."""

    def __init__(
        self,
        db: Session,
        actor: Principal,
        table: Table,
        mapping: dict[str, str],
        report: ImportReport,
        *,
        duplicates: str = "error",
        skip_invalid: bool = False,
        write: bool = True,
        likely: bool = True,
        within_file: bool = True,
    ) -> None:
        if duplicates not in DUPLICATE_POLICIES:
            raise Invalid("duplicates", "must be error, skip or force")
        self.db, self.report, self.duplicates = db, report, duplicates
        self.skip_invalid, self.write = skip_invalid, write
        self.maker = RecordMaker(db, table.headers, mapping)
        self.writer = BatchWriter(db, actor, source=f"import:{table.kind}")
        # the keys of earlier rows; None when the records come from a check that compared them
        self.seen = dedupe.SeenKeys() if within_file else None
        self.likely = dedupe.LikelyFinder(db) if likely else None

    def close(self) -> None:
        if self.seen is not None:
            self.seen.close()

    def run(self, rows: Rows, progress: Callable[[int], None] | None = None) -> None:
        try:
            for chunk in batches(rows):
                self.batch(chunk)
                if progress:
                    progress(self.report.total_rows)
        finally:
            self.close()

    def batch(self, chunk: list[tuple[int, list[str]]]) -> list[Record]:
        """Check one batch of rows; write the good ones unless the file is already lost.

        Returns the records kept (written, or to be written after a check)."""
        self.report.total_rows += len(chunk)
        records: list[Record] = []
        for number, cells in chunk:
            made = self.maker.make(number, cells)
            if isinstance(made, Record):
                records.append(made)
            else:
                self._row_failed(made)
        return self.take(records)

    def take(self, records: list[Record]) -> list[Record]:
        """Leave out the duplicates of ``records`` and write the rest (see :meth:`batch`)."""
        report = self.report
        records = self._without_duplicates(records)
        if self.likely is not None:
            self._note_likely(records)
        if self.skip_invalid is False and report.error_count:
            self.write = False  # the file is rejected: no point writing more
        ids = self.writer.write(records) if self.write else []
        report.imported += len(records)  # or would be, in a check
        room = CREATED_IDS_KEPT - len(report.created_ids)
        report.created_ids.extend(ids[: max(room, 0)])
        return records

    def _row_failed(self, errors: list[RowError]) -> None:
        for error in errors:
            self.report.fail(error)
        self.report.error_rows += 1

    def _without_duplicates(self, records: list[Record]) -> list[Record]:
        keys = {r.number: dedupe.keys_of(r) for r in records}
        earlier = self.seen.earlier(k for ks in keys.values() for k in ks) if self.seen else {}
        base = dedupe.in_base(self.db, records) if self.duplicates != "force" else {}
        kept = []
        for r in records:
            if self._is_duplicate(r, keys[r.number], earlier, base):
                continue
            earlier.update(dict.fromkeys(keys[r.number], r.number))
            kept.append(r)
        if self.seen is not None:
            self.seen.add((k, r.number) for r in kept for k in keys[r.number])
        return kept

    def _is_duplicate(self, r: Record, keys: list[str], earlier: dict, base: dict) -> bool:
        repeats = [(k, earlier[k]) for k in keys if k in earlier]
        held = [(k, base[k]) for k in keys if k in base]
        if not repeats and not held:
            return False
        self.report.duplicates += 1
        if self.duplicates == "skip" or (self.duplicates == "force" and not repeats):
            if self.duplicates == "skip":
                self.report.skipped += 1
                return True
            return False
        errors = [self._error(r, k, _repeat_message(k, row)) for k, row in repeats]
        if not repeats:
            errors = [self._error(r, k, _held_message(k, cid)) for k, cid in held]
        self._row_failed(errors)
        return True

    def _error(self, r: Record, key: str, message: tuple[str, dict[str, Any]]) -> RowError:
        kind, value = key.split(":", 1)
        if kind == "p":
            i = [e for _, _, e in r.phones].index(value)
            target = r.where.get(f"phones.{i}", "phone")
        elif kind == "e":
            i = [a.lower() for _, a in r.emails].index(value)
            target = r.where.get(f"emails.{i}", "email")
        else:
            target = "last_name" if r.fields.get("kind") != "organization" else "org_name"
        return self.maker.error(r.number, target, *message)

    def _note_likely(self, records: list[Record]) -> None:
        report = self.report
        if report.total_rows > dedupe.LIKELY_MAX_ROWS:
            report.likely_checked, self.likely = False, None
            return
        for r in records:
            for found in self.likely.check(r):  # type: ignore[union-attr]
                if len(report.likely_duplicates) < dedupe.LIKELY_SHOWN:
                    report.likely_duplicates.append(found)


def _repeat_message(key: str, row: int) -> tuple[str, dict[str, Any]]:
    if key.startswith("n:"):
        return said("the same name and city as row %(row)s"), {"row": row}
    return said("%(value)s is also on row %(row)s"), {"value": key.split(":", 1)[1], "row": row}


def _held_message(key: str, client_id: int) -> tuple[str, dict[str, Any]]:
    if key.startswith("n:"):
        message = said("a client with the same name and city exists: client %(client)s")
        return message, {"client": client_id}
    return said("already belongs to client %(client)s"), {"client": client_id}


def import_clients(
    db: Session,
    actor: Principal,
    data: bytes | Path,
    *,
    filename: str = "",
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    duplicates: str = "error",
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import client rows in one transaction (see the module docstring).

    The caller commits unless ``report.rejected`` or ``dry_run`` (then this function has
    already rolled back)."""
    require(actor.can_export, "import clients")
    if duplicates not in DUPLICATE_POLICIES:
        raise Invalid("duplicates", "must be error, skip or force")
    table = open_table(data, filename)
    report = new_report(db, table, mapping, dry_run=dry_run)
    importer = Importer(
        db, actor, table, report.mapping, report, duplicates=duplicates, skip_invalid=skip_invalid
    )
    outer = db.begin_nested()  # everything below is one unit: kept, or rolled back whole
    try:
        importer.run(table.rows, (lambda done: progress(done, 0)) if progress else None)
    except Invalid:
        outer.rollback()
        raise
    if progress:
        progress(report.total_rows, report.total_rows)
    finish(report, skip_invalid=skip_invalid)
    if dry_run or report.rejected:
        outer.rollback()
        report.created_ids = []
    else:
        outer.commit()
    return report


def new_report(
    db: Session, table: Table, mapping: dict[str, str] | None, *, dry_run: bool
) -> ImportReport:
    if table.preset:
        mapping = {h: h for h in table.headers}
    return ImportReport(
        dry_run=dry_run,
        mapping=resolve_mapping(db, table.headers, mapping),
        kind=table.kind,
        numbered_by=table.numbered_by,
        details=table.details,
    )


def finish(report: ImportReport, *, skip_invalid: bool) -> None:
    """The outcome: rejected (strict and any error), or the rows left out counted."""
    report.rejected = bool(report.error_count) and not skip_invalid
    if report.rejected:
        report.imported = 0
    if skip_invalid:
        report.skipped += report.error_rows


def likely_rows(report: ImportReport) -> Iterable[int]:
    return sorted({d.row for d in report.likely_duplicates})

"""Writing a batch of checked records in bulk: the clients (ids drawn first), then their
phones, e-mails, addresses, tags and custom values, the organizations of their companies,
and one audit entry per client, a few statements per batch instead of several per client.

The rows go to the driver directly (:func:`bulk_insert`: SQLite ``executemany``, PostgreSQL
``COPY``) inside the session's transaction, with the column types' own conversions: the ORM's
per-row work is what made a large import slow. The search text is composed here (as the
seeder does); the search index follows by the database's own trigger (SQLite FTS5) or index
(PostgreSQL trigram). Audit: one ``create`` entry per client, with its name, source, phones
and e-mails (not every empty column, as a single create does).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from operator import itemgetter
from typing import Any

import phonenumbers
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from crm_core.audit.models import AuditEntry
from crm_core.auth.principal import Principal
from crm_core.clients.models import ENTITY, Address, Client, ClientTag, Email, Phone
from crm_core.customfields import service as customfields
from crm_core.database import utcnow
from crm_core.exchange.records import Record
from crm_core.search.index import custom_search_texts
from crm_core.search.text import build_search_text, phone_digits

DEFAULTS: dict[str, Any] = {
    "kind": "person",
    "first_name": "",
    "last_name": "",
    "middle_name": "",
    "org_name": "",
    "job_title": "",
    "category": "regular",
    "status": "active",
    "source": "",
    "birthday": None,
    "discount_percent": Decimal("0"),
    "comment": "",
    "language": "",
    "timezone": "",
    "owner_id": None,
    "team_id": None,
    "organization_id": None,
}


class BatchWriter:
    def __init__(self, db: Session, actor: Principal, source: str) -> None:
        self.db, self.actor, self.source = db, actor, source
        self.organizations: dict[str, int] = {}

    def write(self, records: list[Record]) -> list[int]:
        """The new clients' ids, in the order of ``records``."""
        if not records:
            return []
        self._link_organizations(records)
        now = utcnow()
        rows = [self._client_row(r, now) for r in records]
        ids = self._insert_clients(rows)
        self._lists(records, ids)
        custom = [(cid, r.custom) for cid, r in zip(ids, records, strict=True) if r.custom]
        if custom:
            self._custom(custom, records, ids)
        self._audit(records, ids, rows, now)
        return ids

    def _insert_clients(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert the client rows and return their ids, in order, with two statements.

        PostgreSQL: the ids are drawn from the sequence first. SQLite: the first row is
        inserted alone, which takes the database's write lock (no one else writes until
        this transaction ends), and the next ids follow it."""
        table = Client.__table__
        if self.db.get_bind().dialect.name == "postgresql":
            ids = list(
                self.db.execute(
                    text(
                        "SELECT nextval(pg_get_serial_sequence('clients', 'id')) "
                        "FROM generate_series(1, :n)"
                    ),
                    {"n": len(rows)},
                ).scalars()
            )
            for row, cid in zip(rows, ids, strict=True):
                row["id"] = cid
            bulk_insert(self.db, table, rows)
            return ids
        trigger = _without_search_trigger(self.db)
        first_id = self.db.execute(insert(table).returning(table.c.id), rows[0]).scalar_one()
        ids = list(range(first_id, first_id + len(rows)))
        for row, cid in zip(rows[1:], ids[1:], strict=True):
            row["id"] = cid
        bulk_insert(self.db, table, rows[1:])
        if trigger:
            self.db.execute(
                text(
                    "INSERT INTO clients_fts(rowid, search_text) SELECT id, search_text "
                    "FROM clients WHERE id BETWEEN :first AND :last"
                ),
                {"first": ids[0], "last": ids[-1]},
            )
            self.db.execute(text(trigger))
        return ids

    def _client_row(self, record: Record, now) -> dict[str, Any]:
        row = {**DEFAULTS, **{k: v for k, v in record.fields.items() if k in DEFAULTS}}
        if not row["source"]:
            row["source"] = self.source
        row["display_name"] = record.display_name
        row["search_text"] = self._search_text(record, row, "")
        row.update(created_at=now, updated_at=now, created_by_id=self.actor.id)
        return row

    def _search_text(self, record: Record, row: dict[str, Any], custom: str) -> str:
        return build_search_text(
            names=[row["display_name"], row["org_name"], row["job_title"], record.company],
            phone_runs=[national_digits(e164) for _, _, e164 in record.phones],
            emails=[address for _, address in record.emails],
            extra=[*record.tags, custom],
        )

    def _link_organizations(self, records: list[Record]) -> None:
        """Each person's company: the live organization of that name, or a new one."""
        wanted = {r.company for r in records if r.company} - set(self.organizations)
        if wanted:
            q = select(Client.org_name, func.min(Client.id)).where(
                Client.kind == "organization",
                Client.deleted_at.is_(None),
                Client.org_name.in_(sorted(wanted)),
            )
            self.organizations.update(self.db.execute(q.group_by(Client.org_name)).tuples().all())
        missing = sorted({r.company for r in records if r.company} - set(self.organizations))
        if missing:
            orgs = [
                Record(
                    0,
                    {"kind": "organization", "org_name": name, "team_id": _team_of(records, name)},
                )
                for name in missing
            ]
            for name, cid in zip(missing, self.write(orgs), strict=True):
                self.organizations[name] = cid
        for r in records:
            if r.company:
                r.fields["organization_id"] = self.organizations[r.company]

    def _lists(self, records: list[Record], ids: list[int]) -> None:
        phones, emails, addresses, tags = [], [], [], []
        for cid, r in zip(ids, records, strict=True):
            phones += [
                {"client_id": cid, "kind": k, "number": n, "e164": e, "position": i}
                for i, (k, n, e) in enumerate(r.phones)
            ]
            emails += [
                {
                    "client_id": cid,
                    "kind": k,
                    "address": a,
                    "address_lower": a.lower(),
                    "position": i,
                }
                for i, (k, a) in enumerate(r.emails)
            ]
            addresses += [
                {**_ADDRESS, **a, "client_id": cid, "position": i}
                for i, a in enumerate(r.addresses)
            ]
            tags += [{"client_id": cid, "tag": t} for t in r.tags]
        for model, values in (
            (Phone, phones),
            (Email, emails),
            (Address, addresses),
            (ClientTag, tags),
        ):
            bulk_insert(self.db, model.__table__, values)

    def _custom(
        self, custom: list[tuple[int, dict]], records: list[Record], ids: list[int]
    ) -> None:
        for cid, values in custom:
            customfields.save_values(self.db, ENTITY, cid, values)
        texts = custom_search_texts(self.db, [cid for cid, _ in custom])
        by_id = dict(zip(ids, records, strict=True))
        for cid, custom_text in texts.items():
            client = self.db.get(Client, cid)
            client.search_text = self._search_text(by_id[cid], _columns(client), custom_text)
        self.db.flush()

    def _audit(self, records: list[Record], ids: list[int], rows: list[dict], now) -> None:
        entries = []
        for cid, r, row in zip(ids, records, rows, strict=True):
            changes = {
                "kind": [None, row["kind"]],
                "display_name": [None, row["display_name"]],
                "source": [None, row["source"]],
            }
            if r.phones:
                changes["phones"] = [None, [f"{k}:{e}" for k, _, e in r.phones]]
            if r.emails:
                changes["emails"] = [None, [f"{k}:{a}" for k, a in r.emails]]
            entries.append(
                {
                    "at": now,
                    "actor_id": self.actor.id,
                    "action": "create",
                    "entity": ENTITY,
                    "entity_id": str(cid),
                    "changes": changes,
                }
            )
        bulk_insert(self.db, AuditEntry.__table__, entries)


def bulk_insert(db: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` through the session's own
    connection, in its transaction: SQLite ``executemany``, PostgreSQL ``COPY``. Values pass
    through their column types' bind conversions, as SQLAlchemy would convert them.

    The work is done column by column: a column holding one value in every row (the batch's
    time, a default) is converted once."""
    if not rows:
        return
    names = list(rows[0])
    if len(names) < 2 or len(set(map(len, rows))) > 1:  # not uniform: let SQLAlchemy do it
        db.execute(insert(table), rows)
        return
    conn = db.connection()
    dialect = conn.dialect
    columns = [list(column) for column in zip(*map(itemgetter(*names), rows), strict=True)]
    for name, value in _defaults_missing(table, names).items():
        names.append(name)
        columns.append([value] * len(rows))
    for i, name in enumerate(names):
        convert = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            columns[i] = _converted(columns[i], convert)
    values = zip(*columns, strict=True)
    driver = conn.connection.driver_connection
    if dialect.name == "postgresql":
        copy_sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        with driver.cursor() as cur, cur.copy(copy_sql) as copy:
            for value in values:
                copy.write_row(value)
        return
    marks = ", ".join("?" * len(names))
    cur = driver.cursor()
    try:
        cur.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", values)
    finally:
        cur.close()


def _converted(column: list[Any], convert: Callable[[Any], Any]) -> list[Any]:
    first = column[0]
    if all(value is first for value in column):
        return [convert(first)] * len(column)
    return list(map(convert, column))


_ADDRESS = {
    "kind": "work",
    "street": "",
    "city": "",
    "region": "",
    "postal_code": "",
    "country": "",
}


def national_digits(e164: str) -> str:
    """What the search text holds for a number (see ``search.text.phone_digits``), without
    parsing it again: the digits after the country code, unless they start with 0."""
    digits = e164[1:]
    for size in (1, 2, 3):
        if int(digits[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            national = digits[size:]
            return national if national and not national.startswith("0") else phone_digits(e164)
    return phone_digits(e164)


def _without_search_trigger(db: Session) -> str | None:
    """SQLite: drop the trigger that adds each new client to the search index (FTS5), in
    this transaction, and return its SQL to create it again; None when there is none.

    The batch's clients then go into the index with one INSERT ... SELECT, several times
    cheaper than the trigger row by row. Safe: SQLite has one writer, and this transaction
    holds the write lock from here to its end, so no other client is inserted meanwhile;
    the DDL is transactional, so a rollback brings the trigger back too."""
    sql = db.execute(
        text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'clients_fts_ai'")
    ).scalar()
    if sql:
        db.execute(text("DROP TRIGGER clients_fts_ai"))
    return sql


def _defaults_missing(table: Table, names: list[str]) -> dict[str, Any]:
    """The Python-side defaults of the columns ``names`` leaves out (an insert through the
    driver does not apply them), evaluated once for the batch."""
    out: dict[str, Any] = {}
    for column in table.c:
        default = column.default
        if column.name in names or default is None or column.primary_key:
            continue
        if default.is_scalar:
            out[column.name] = default.arg
        elif default.is_callable:
            out[column.name] = default.arg(None)
    return out


def _columns(client: Client) -> dict[str, Any]:
    return {
        "display_name": client.display_name,
        "org_name": client.org_name,
        "job_title": client.job_title,
    }


def _team_of(records: list[Record], company: str) -> int | None:
    return next((r.fields.get("team_id") for r in records if r.company == company), None)

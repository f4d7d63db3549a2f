"""One row of a file -> one new client record, checked as the clients API checks a new client.

Plain rows (names, phones, e-mails, an address: what most files hold) are checked by the fast
checks of :mod:`crm_core.exchange.values`; any other row, and any row the fast checks are not
sure of, goes through :class:`crm_core.clients.schemas.ClientIn`, whose message names the
problem. Either way the row comes out as a :class:`Record` ready for the bulk writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.models import Team, User
from crm_core.clients.models import ENTITY
from crm_core.clients.schemas import ClientIn
from crm_core.config import get_settings
from crm_core.customfields import service as customfields
from crm_core.errors import Invalid, said, validation_template
from crm_core.exchange.mapping import ADDRESS_TARGETS, PHONE_TARGETS, SCALAR_TARGETS
from crm_core.exchange.values import fast_e164, fast_email, parse_date
from crm_core.wording import Words

#: ClientIn's length limits of the fields the fast path takes
FAST_LIMITS = {
    "first_name": 120,
    "last_name": 120,
    "middle_name": 120,
    "org_name": 250,
    "job_title": 120,
    "comment": 20000,
    "source": 80,
    "street": 250,
    "city": 120,
    "region": 120,
    "postal_code": 20,
}


@dataclass
class RowError:
    row: int  # as the file numbers it: the spreadsheet row (header = 1) or the vCard's line
    column: str  # the file's column header ("" when the error is about the whole row)
    field: str  # the client field
    message: str  # in English, as the CLI and the logs say it
    template: str = ""  # the message before ``params`` fill it: worded for readers (msgid)
    params: dict[str, Any] = field(default_factory=dict)


def worded_errors(errors: list[dict[str, Any]], words: Words) -> list[dict[str, Any]]:
    """Row errors (as :func:`dataclasses.asdict` gives them, also from a stored job report)
    with their message in the reader's words; errors stored before templates, as they are."""
    return [
        {**e, "message": words.gettext(e["template"], **e.get("params", {}))}
        if e.get("template")
        else e
        for e in errors
    ]


@dataclass(slots=True)
class Record:
    number: int
    fields: dict[str, Any]
    phones: list[tuple[str, str, str]] = field(default_factory=list)  # kind, as typed, E.164
    emails: list[tuple[str, str]] = field(default_factory=list)  # kind, address
    addresses: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    company: str = ""  # a person's organization, found or created by name
    where: dict[str, str] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        f = self.fields
        if f.get("kind") == "organization":
            return f.get("org_name", "")
        return " ".join(p for p in (f.get(k, "") for k in NAME_PARTS) if p)

    @property
    def city(self) -> str:
        return self.addresses[0].get("city", "") if self.addresses else ""


NAME_PARTS = ("first_name", "middle_name", "last_name")
NO_USER = said("no active user %(name)s")


_LIST_SEPARATORS = re.compile(r"[;,|\n]")


def split_list(value: str) -> list[str]:
    if not _LIST_SEPARATORS.search(value):  # one value: most cells
        value = value.strip()
        return [value] if value else []
    return [v.strip() for v in _LIST_SEPARATORS.split(value) if v.strip()]


class RecordMaker:
    """Rows of a file with ``mapping`` (column -> field) into :class:`Record` objects."""

    def __init__(self, db: Session, headers: list[str], mapping: dict[str, str]) -> None:
        self.db = db
        self.region = get_settings().default_region
        index = {h: i for i, h in enumerate(headers)}
        self.columns = [(index[c], t) for c, t in mapping.items() if c in index]
        self.column_of = {target: column for column, target in mapping.items()}
        self.teams = {n.lower(): i for i, n in db.execute(select(Team.id, Team.name)).tuples()}
        active = select(User.id, User.username).where(User.is_active.is_(True))
        self.users = {n.lower(): i for i, n in db.execute(active).tuples()}
        self.has_custom = any(t.startswith("cf.") for _, t in self.columns)
        # the targets this file maps, so that each row looks only at its own columns
        mapped = {t for _, t in self.columns}
        self.scalars = [t for t in SCALAR_TARGETS if t in mapped]
        self.phone_targets = [
            (t, t.split("_", 1)[1] if "_" in t else "mobile") for t in PHONE_TARGETS if t in mapped
        ]
        self.address_targets = [t for t in ADDRESS_TARGETS if t in mapped]
        self.lookups = [
            (t, n) for t, n in (("team", self.teams), ("owner", self.users)) if t in mapped
        ]

    def error(
        self, number: int, target: str, message: str, params: dict[str, Any] | None = None
    ) -> RowError:
        """The error of row ``number`` on field ``target``; ``message`` is English (a ``said``
        text) filled by ``params``."""
        filled = message % params if params else message
        return RowError(
            number, self.column_of.get(target, ""), target, filled, message, dict(params or {})
        )

    def make(self, number: int, cells: list[str]) -> Record | list[RowError]:
        row = {t: (cells[i] if i < len(cells) else "") for i, t in self.columns}
        try:
            payload, where = self._payload(row)
        except Invalid as exc:
            return [self.error(number, str(exc.loc[0]), exc.template, exc.params)]
        record = self._fast(number, payload, where)
        return record if record is not None else self._checked(number, payload, where)

    def _payload(self, row: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        """(ClientIn data, {payload location: source field}) of {field: cell}."""
        data: dict[str, Any] = {}
        where: dict[str, str] = {}
        for target in self.scalars:
            value = row[target]
            if value:
                data[target] = value.lower() if target == "kind" else value
                where[target] = target
        if "birthday" in data:
            data["birthday"] = parse_date(data["birthday"])
        if data.get("org_name") and not (data.get("first_name") or data.get("last_name")):
            data.setdefault("kind", "organization")
        phones = []
        for target, kind in self.phone_targets:
            for number in split_list(row[target]):
                where[f"phones.{len(phones)}"] = target
                phones.append({"kind": kind, "number": number})
        if phones:
            data["phones"] = phones
        emails = []
        for address in split_list(row.get("email", "")):
            where[f"emails.{len(emails)}"] = "email"
            emails.append({"kind": "work", "address": address})
        if emails:
            data["emails"] = emails
        address = {t: row[t] for t in self.address_targets if row[t]}
        if address:
            data["addresses"] = [address]
            where.update({f"addresses.0.{t}": t for t in address})
        if row.get("tags"):
            data["tags"], where["tags"] = split_list(row["tags"]), "tags"
        custom = (
            {t[3:]: v for t, v in row.items() if t.startswith("cf.") and v != ""}
            if self.has_custom
            else None
        )
        if custom:
            data["custom"] = custom
            where.update({f"custom.{key}": f"cf.{key}" for key in custom})
        for target, names in self.lookups:
            if row.get(target):
                name = row[target].strip().lower()
                if name not in names:
                    missing = said("no team %(name)s") if target == "team" else NO_USER
                    raise Invalid(target, missing, params={"name": repr(row[target])})
                data[f"{target}_id"] = names[name]
        return data, where

    def _fast(self, number: int, data: dict[str, Any], where: dict[str, str]) -> Record | None:
        """The record of a plain row, or None when the full check must decide."""
        fields: dict[str, Any] = {}
        for key, value in data.items():
            if key in FAST_LIMITS:
                if not _plain_text(value, FAST_LIMITS[key]):
                    return None
                fields[key] = value.strip()
            elif key == "kind" and value in ("person", "organization"):
                fields[key] = value
            elif key not in ("phones", "emails", "addresses"):
                return None
        kind = fields.setdefault("kind", "person")
        if kind == "person" and not (fields.get("first_name") or fields.get("last_name")):
            return None
        if kind == "organization" and not fields.get("org_name"):
            return None
        record = Record(number, fields, where=where)
        for phone in data.get("phones", []):
            e164 = fast_e164(phone["number"], self.region)
            if e164 is None or len(phone["number"]) > 64:
                return None
            record.phones.append((phone["kind"], phone["number"].strip(), e164))
        for email in data.get("emails", []):
            address = fast_email(email["address"])
            if address is None:
                return None
            record.emails.append((email["kind"], address))
        for address in data.get("addresses", []):
            if not all(
                k in FAST_LIMITS and _plain_text(v, FAST_LIMITS[k]) for k, v in address.items()
            ):
                return None
            record.addresses.append({"kind": "work", **{k: v.strip() for k, v in address.items()}})
        _company(record)
        return record

    def _checked(
        self, number: int, data: dict[str, Any], where: dict[str, str]
    ) -> Record | list[RowError]:
        try:
            client = ClientIn.model_validate(data)
            custom = (
                customfields.validate_values(self.db, ENTITY, client.custom)
                if client.custom
                else {}
            )
        except ValidationError as exc:
            return [
                self.error(number, target_of(e["loc"], where), *validation_template(e))
                for e in exc.errors()
            ]
        except Invalid as exc:
            return [self.error(number, target_of(exc.loc, where), exc.template, exc.params)]
        fields = client.model_dump(
            exclude={"phones", "emails", "addresses", "handles", "tags", "custom"},
            exclude_unset=False,
        )
        for key in NAME_PARTS + ("org_name",):
            fields[key] = fields[key].strip()
        record = Record(
            number,
            fields,
            phones=[(p.kind, p.number, p.e164) for p in client.phones],
            emails=[(e.kind, str(e.address)) for e in client.emails],
            addresses=[a.model_dump() for a in client.addresses],
            tags=list(dict.fromkeys(client.tags)),
            custom=custom,
            where=where,
        )
        if not record.display_name:
            field_name = "org_name" if fields["kind"] == "organization" else "last_name"
            return [self.error(number, field_name, said("a name is needed"))]
        _company(record)
        return record


def _plain_text(value: Any, limit: int) -> bool:
    # isprintable() is False for control characters (C0, C1) and for format characters,
    # the bidi controls included: the full check then names the problem
    return isinstance(value, str) and len(value) <= limit and value.isprintable()


def _company(record: Record) -> None:
    """A person's company becomes their organization (found or created by the writer)."""
    fields = record.fields
    if fields.get("kind", "person") == "person" and fields.get("org_name"):
        record.company = fields["org_name"]
        fields["org_name"] = ""


def target_of(loc: tuple | list, where: dict[str, str]) -> str:
    parts = [str(p) for p in loc]
    for size in range(len(parts), 0, -1):
        key = ".".join(parts[:size])
        if key in where:
            return where[key]
    return parts[0] if parts else ""

"""Google Contacts and Outlook CSV exports, recognised by their own column names.

Google writes numbered groups (``Phone 1 - Label``/``Phone 1 - Value``, older files ``Type``)
with several values in one cell separated by `` ::: ``; Outlook writes one column per kind of
number (``Business Phone``, ``Home Phone``, ``Mobile Phone`` ...) and ``Company``. Both are
turned into client fields (see :data:`crm_core.exchange.formats.CONTACT_COLUMNS`), so they
need no mapping; the company becomes the person's organization.
"""

from __future__ import annotations

import re

from crm_core.exchange.formats.base import (
    CONTACT_COLUMNS,
    Rows,
    Table,
    contact_row,
    country_code,
)

MULTI = " ::: "
GOOGLE_KINDS = {"mobile": "mobile", "work": "work", "home": "home", "work fax": "fax"}
GOOGLE_KINDS |= {"home fax": "fax", "main": "work", "fax": "fax"}
OUTLOOK_PHONES = {
    "Mobile Phone": "mobile",
    "Car Phone": "mobile",
    "Business Phone": "work",
    "Business Phone 2": "work",
    "Company Main Phone": "work",
    "Primary Phone": "work",
    "Home Phone": "home",
    "Home Phone 2": "home",
    "Business Fax": "fax",
    "Home Fax": "fax",
    "Other Phone": "other",
}
OUTLOOK_ADDRESS = ("Business", "Home", "Other")


def is_google(headers: list[str]) -> bool:
    names = set(headers)
    named = {"First Name", "Given Name"} & names
    return bool(named) and bool({"Phone 1 - Value", "E-mail 1 - Value"} & names)


def is_outlook(headers: list[str]) -> bool:
    names = set(headers)
    return "E-mail Address" in names and bool({"Mobile Phone", "Business Phone"} & names)


def recognise(table: Table) -> Table:
    """The Google or Outlook export turned into client fields; any other CSV as it is."""
    if is_google(table.headers):
        convert, kind = _google_contact, "google"
    elif is_outlook(table.headers):
        convert, kind = _outlook_contact, "outlook"
    else:
        return table
    return Table(
        kind,
        list(CONTACT_COLUMNS),
        _converted(table, convert),
        preset=True,
        details=table.details,
    )


def _converted(table: Table, convert) -> Rows:
    headers = table.headers
    for number, cells in table.rows:
        row = {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(headers)}
        yield number, contact_row(convert(row))


def _values(cell: str) -> list[str]:
    return [v.strip() for v in cell.split(":::") if v.strip()]


def _groups(row: dict[str, str], prefix: str) -> list[tuple[str, str]]:
    """(label, value) of the numbered groups ``<prefix> N - Label/Type`` + ``- Value``."""
    out = []
    for n in range(1, 20):
        value = row.get(f"{prefix} {n} - Value")
        if value is None:
            break
        label = row.get(f"{prefix} {n} - Label", row.get(f"{prefix} {n} - Type", ""))
        label = label.replace("*", "").strip().lower()
        out.extend((label, v) for v in _values(value))
    return out


def _google_contact(row: dict[str, str]) -> dict[str, list[str] | str]:
    out: dict[str, list[str] | str] = {
        "first_name": row.get("First Name", row.get("Given Name", "")),
        "middle_name": row.get("Middle Name", row.get("Additional Name", "")),
        "last_name": row.get("Last Name", row.get("Family Name", "")),
        "org_name": row.get("Organization Name", row.get("Organization 1 - Name", "")),
        "job_title": row.get("Organization Title", row.get("Organization 1 - Title", "")),
        "birthday": "" if row.get("Birthday", "").startswith("--") else row.get("Birthday", ""),
        "comment": row.get("Notes", ""),
        "email": [v for _, v in _groups(row, "E-mail")],
    }
    for label, number in _groups(row, "Phone"):
        kind = GOOGLE_KINDS.get(label, "other" if label else "mobile")
        out.setdefault(f"phone_{kind}", []).append(number)  # type: ignore[union-attr]
    labels = row.get("Labels", row.get("Group Membership", ""))
    out["tags"] = [t.replace("*", "").strip() for t in _values(labels)]
    out["tags"] = [t for t in out["tags"] if t and t.lower().replace(" ", "") != "mycontacts"]
    for n in range(1, 4):
        city = row.get(f"Address {n} - City", "")
        street = row.get(f"Address {n} - Street", "")
        if city or street:
            out.update(
                street=street,
                city=city,
                region=row.get(f"Address {n} - Region", ""),
                postal_code=row.get(f"Address {n} - Postal Code", ""),
                country=country_code(row.get(f"Address {n} - Country", "")),
            )
            break
    return out


def _outlook_contact(row: dict[str, str]) -> dict[str, list[str] | str]:
    out: dict[str, list[str] | str] = {
        "first_name": row.get("First Name", ""),
        "middle_name": row.get("Middle Name", ""),
        "last_name": row.get("Last Name", ""),
        "org_name": row.get("Company", ""),
        "job_title": row.get("Job Title", ""),
        "birthday": _outlook_date(row.get("Birthday", "")),
        "comment": row.get("Notes", ""),
        "email": [
            row.get(c, "") for c in ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address")
        ],
        "tags": [t.strip() for t in re.split(r"[;,]", row.get("Categories", "")) if t.strip()],
    }
    for column, kind in OUTLOOK_PHONES.items():
        if row.get(column):
            out.setdefault(f"phone_{kind}", []).append(row[column])  # type: ignore[union-attr]
    for place in OUTLOOK_ADDRESS:
        city, street = row.get(f"{place} City", ""), row.get(f"{place} Street", "")
        if city or street:
            out.update(
                street=street,
                city=city,
                region=row.get(f"{place} State", ""),
                postal_code=row.get(f"{place} Postal Code", ""),
                country=country_code(row.get(f"{place} Country/Region", "")),
            )
            break
    return out


def _outlook_date(value: str) -> str:
    """Outlook writes ``0/0/00`` for no date."""
    return "" if value.strip() in ("", "0/0/00", "0/0/0000") else value

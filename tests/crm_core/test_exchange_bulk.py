"""The bulk import path (driver inserts, search index per batch, compiled phone checks) and the
streamed client export: what they write is what a user then finds, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import phonenumbers
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from crm_core.auth.principal import SYSTEM
from crm_core.clients.lookup import caller_card
from crm_core.clients.models import Address, Client, ClientTag
from crm_core.exchange.export import export_rows
from crm_core.exchange.export_lists import client_rows
from crm_core.exchange.service import import_clients
from crm_core.exchange.values import _valid, fast_e164
from crm_core.search.service import search_clients

CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


@settings(max_examples=400, deadline=None)
@given(
    code=st.sampled_from([40, 373, 7, 1, 44, 39, *CODES]),
    national=st.integers(min_value=1, max_value=10**12 - 1),
)
def test_compiled_phone_check_agrees_with_phonenumbers(code, national):
    number = phonenumbers.PhoneNumber(country_code=code, national_number=national)
    assert _valid(code, str(national)) == phonenumbers.is_valid_number(number)


def test_fast_e164_is_the_e164_of_the_full_parser():
    for typed in ("0722 000 111", "+40 21 312 3456", "0040722000112", "+7 912 345-67-89"):
        expected = phonenumbers.format_number(
            phonenumbers.parse(typed, "RO"), phonenumbers.PhoneNumberFormat.E164
        )
        assert fast_e164(typed, "RO") == expected


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([["Prenume", "Nume", "Telefon", "Email", "Oraș"], *rows])
    return out.getvalue().encode("utf-8")


ROWS = [
    [f"Ион{i}", "Țurcanu-Ñúñez", f"0722 {100000 + i}", f"ion{i}@example.ro", "Iași"]
    for i in range(2500)  # more than one batch of 2,000
]


def test_imported_clients_are_found_by_caller_lookup_and_search(db):
    report = import_clients(db, SYSTEM, _csv(ROWS), filename="clients.csv", duplicates="skip")
    db.commit()
    assert (report.rejected, report.imported, report.error_count) == (False, 2500, 0)

    card = caller_card(db, "+40722102499")
    assert card is not None and card.display_name == "Ион2499 Țurcanu-Ñúñez"  # name exact
    hits = search_clients(db, SYSTEM, "Ион1234").items
    assert [h.display_name for h in hits][:1] == ["Ион1234 Țurcanu-Ñúñez"]
    assert search_clients(db, SYSTEM, "ion77@example.ro").items[0].display_name.startswith("Ион77 ")

    again = import_clients(db, SYSTEM, _csv(ROWS[:10]), filename="clients.csv", duplicates="skip")
    db.commit()
    assert (again.imported, again.skipped) == (0, 10)
    assert db.scalar(select(func.count(Client.id))) == 2500


def test_a_file_with_a_bad_row_writes_nothing(db):
    rows = [*ROWS[:2100], ["Ana", "Rusu", "12", "ana@example.ro", ""]]
    report = import_clients(db, SYSTEM, _csv(rows), filename="clients.csv")
    db.commit()
    assert report.rejected and [e.row for e in report.errors] == [2102]  # the header is row 1
    assert db.scalar(select(func.count(Client.id))) == 0
    assert caller_card(db, "+40722100001") is None


def test_streamed_client_export_has_the_rows_of_the_orm_export(db):
    rows = [
        ["=Danger", "Popa", "0722 555 001; +40 21 312 3456", "a@example.ro", "Cluj"],
        ["Maria", "Ionescu", "", "maria@example.ro", ""],
        ["Ion", "Ciobanu", "0722 555 002", "", "Chișinău"],
    ]
    import_clients(db, SYSTEM, _csv(rows), filename="c.csv")
    db.commit()
    # the columns the fast path reads as the driver gives them: a date, an amount, moments
    # with and without fractions of a second
    first, second = db.scalars(select(Client).order_by(Client.id).limit(2)).all()
    first.birthday, first.discount_percent = date(1990, 5, 17), Decimal("7.50")
    first.created_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    second.updated_at = datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC)
    # tags in no order and of mixed case, a second address after the first
    db.add_all(ClientTag(client_id=first.id, tag=t) for t in ("vip", "Angro", "b2b", "Élite"))
    db.add_all(ClientTag(client_id=second.id, tag=t) for t in ("zeta", "alpha"))
    db.add(Address(client_id=first.id, city="Iași", position=1))
    db.commit()
    query = select(Client).where(Client.deleted_at.is_(None))
    fast = list(client_rows(db, SYSTEM, query, batch=2))
    assert fast == list(export_rows(db, SYSTEM, query))
    header, *body = fast
    row = dict(zip(header, body[0], strict=True))
    assert row["first_name"] == "'=Danger"  # spreadsheet-safe
    assert row["phone"] == "'+40722555001; +40213123456" and row["city"] == "Cluj"
    assert row["tags"] == "Angro; b2b; vip; Élite"  # sorted as Python sorts, on both backends
    assert dict(zip(header, body[1], strict=True))["tags"] == "alpha; zeta"
    assert (row["birthday"], row["discount_percent"]) == ("1990-05-17", 7.5)
    assert row["created_at"] == "2026-01-02T03:04:05+00:00"
    assert dict(zip(header, body[1], strict=True))["updated_at"].endswith(":05.000120+00:00")

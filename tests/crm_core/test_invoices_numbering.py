"""Invoice numbers per series and year: 20 writers issuing at once (threads, one session
each) get 1..20 without a gap or a repeat, on SQLite and on PostgreSQL; a failed issue gives
its number back."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.factories import make_client

WRITERS = 20


def drafts(n: int, series: str = "INV") -> list[int]:
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from crm_core.invoices.service import create_invoice

    client_id = make_client("Ana Țăranu", "Sales")
    line = {"description": "Servicii", "quantity": Decimal("1"), "unit_price": Decimal("10"),
            "vat_rate": Decimal("21")}  # fmt: skip
    with session_scope() as db:
        return [
            create_invoice(
                db, SYSTEM, {"client_id": client_id, "series": series, "lines": [line]}
            ).id
            for _ in range(n)
        ]


def issue_concurrently(ids: list[int]) -> list[BaseException]:
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from crm_core.invoices.service import issue_invoice

    start = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def writer(invoice_id: int) -> None:
        try:
            start.wait()
            with session_scope() as db:
                issue_invoice(db, SYSTEM, invoice_id)
        except BaseException as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


def numbers(series: str = "INV") -> list[tuple[int | None, str | None]]:
    from crm_core.database import session_scope
    from crm_core.invoices.models import Invoice

    with session_scope() as db:
        return list(
            db.execute(select(Invoice.seq, Invoice.number).where(Invoice.series == series)).tuples()
        )


def test_twenty_concurrent_issuers_get_one_to_twenty(database):
    ids = drafts(WRITERS)
    assert issue_concurrently(ids) == []
    got = numbers()
    assert sorted(seq for seq, _ in got) == list(range(1, WRITERS + 1))
    assert len({number for _, number in got}) == WRITERS
    assert all(number.startswith("INV-") for _, number in got)


def test_series_count_on_their_own_and_a_failed_issue_leaves_no_gap(database):
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from crm_core.invoices.service import issue_invoice

    a = drafts(2, "A")
    b = drafts(1, "B")
    with session_scope() as db:
        issue_invoice(db, SYSTEM, a[0])
        issue_invoice(db, SYSTEM, b[0])
    with pytest.raises(RuntimeError), session_scope() as db:
        issue_invoice(db, SYSTEM, a[1])
        raise RuntimeError("the transaction fails after the number was taken")
    with session_scope() as db:
        issue_invoice(db, SYSTEM, a[1])
    assert sorted(seq for seq, _ in numbers("A")) == [1, 2]
    assert [seq for seq, _ in numbers("B")] == [1]


def test_issuing_the_same_draft_twice_at_once_numbers_it_once(database):
    from crm_core.errors import Invalid

    (invoice_id,) = drafts(1)
    errors = issue_concurrently([invoice_id] * 4)
    assert len(errors) == 3 and all(isinstance(e, Invalid) for e in errors)
    assert [seq for seq, _ in numbers()] == [1]
    (again,) = drafts(1)
    assert issue_concurrently([again]) == []
    assert sorted(seq for seq, _ in numbers()) == [1, 2]

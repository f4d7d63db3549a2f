"""Sales ledger at scale: the caller lookup with and without the debt and last order (same
run, same numbers), the invoice list under every filter its page offers, and the client
card's sales section for a client with 200 documents.

    python3 bench/invoices.py                         # 1,000,000 clients, 200,000 invoices
    python3 bench/invoices.py --invoices 1000000      # the issue's full list target
    python3 bench/invoices.py --database-url postgresql
    python3 bench/invoices.py --quick                 # 20,000 clients, 20,000 invoices

Targets (issue 11): the debt adds at most 0.1 ms to the lookup's p50 at 1,000,000 clients;
the invoice list p95 <= 150 ms with any filter; the client card with 200 documents <= 150 ms.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from _crm_core import (
    arguments,
    ensure_seeded,
    fmt,
    machine,
    percentiles,
    scratch_database,
    use,
)

BATCH = 20_000
STATUSES = ["paid"] * 6 + ["partially_paid"] * 2 + ["issued"] * 2 + ["draft", "cancelled"]


def seed_invoices(url: str, count: int, rng: random.Random) -> tuple[int, list[int]]:
    """``count`` invoices (one line each) spread over the clients, bulk-inserted, with the
    balances they leave kept in client_balances; returns (the heavy client, debtor ids)."""
    from sqlalchemy import func, insert, select, text

    from crm_core.clients.models import Client
    from crm_core.database import get_engine
    from crm_core.invoices.models import ClientBalance, Invoice, InvoiceLine, Payment

    engine = get_engine(url)
    with engine.begin() as conn:
        have = conn.execute(select(func.count(Invoice.id))).scalar() or 0
        low, high = conn.execute(select(func.min(Client.id), func.max(Client.id))).one()
    heavy = low
    if have >= count:
        print(f"database has {have:,} invoices already")
    else:
        started = time.perf_counter()
        start_day = date.today() - timedelta(days=3 * 365)
        debts: dict[int, Decimal] = {}
        seq = have
        for offset in range(have, count, BATCH):
            invoices, lines, payments = [], [], []
            for i in range(offset, min(count, offset + BATCH)):
                # the first 200 documents belong to one client (the card's worst case)
                client = heavy if i < 200 else rng.randint(low, high)
                status = STATUSES[i % len(STATUSES)]
                total = Decimal(rng.randint(1_000, 500_000)) / 100
                net = (total / Decimal("1.21")).quantize(Decimal("0.01"))
                paid = {"paid": total, "partially_paid": (total / 2).quantize(Decimal("0.01"))}.get(
                    status, Decimal("0.00")
                )
                credited = total if status == "cancelled" else Decimal("0.00")
                balance = total - paid - credited
                issued = start_day + timedelta(days=i * 3 * 365 // max(count, 1))
                created = datetime.combine(issued, datetime.min.time(), UTC) + timedelta(
                    seconds=i % 86_400
                )
                seq += 1
                invoices.append({
                    "id": i + 1, "kind": "invoice", "client_id": client, "series": "INV",
                    "year": issued.year if status != "draft" else None,
                    "seq": seq if status != "draft" else None,
                    "number": f"INV-{issued.year}-{seq:07d}" if status != "draft" else None,
                    "status": status, "currency": "RON", "issued_on": issued if status != "draft" else None,
                    "due_date": issued + timedelta(days=14), "net_total": net, "vat_total": total - net,
                    "total": total, "paid": paid, "credited": credited, "balance": balance,
                    "notes": "", "reason": "", "created_at": created,
                })  # fmt: skip
                lines.append({
                    "invoice_id": i + 1, "position": 0, "description": f"Service {i % 97}", "unit": "",
                    "quantity": Decimal(1), "unit_price": net, "discount_percent": Decimal(0),
                    "vat_rate": Decimal(21), "net": net, "vat": total - net, "total": total,
                })  # fmt: skip
                if paid:
                    payments.append({
                        "invoice_id": i + 1, "client_id": client, "kind": "payment", "amount": paid,
                        "currency": "RON", "method": "card", "paid_at": created, "reference": "",
                        "reason": "", "created_at": created,
                    })  # fmt: skip
                if status in ("issued", "partially_paid") and balance:
                    debts[client] = debts.get(client, Decimal(0)) + balance
            with engine.begin() as conn:
                conn.execute(insert(Invoice.__table__), invoices)
                conn.execute(insert(InvoiceLine.__table__), lines)
                if payments:
                    conn.execute(insert(Payment.__table__), payments)
        with engine.begin() as conn:
            now = datetime.now(UTC)
            rows = [{"client_id": c, "currency": "RON", "balance": b, "updated_at": now}
                    for c, b in debts.items()]  # fmt: skip
            for i in range(0, len(rows), BATCH):
                conn.execute(insert(ClientBalance.__table__), rows[i : i + BATCH])
            if engine.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT setval('invoices_id_seq', (SELECT max(id) FROM invoices))")
                )
                conn.execute(text("ANALYZE"))
            else:
                conn.execute(text("ANALYZE"))
        print(f"seeded {count - have:,} invoices in {time.perf_counter() - started:.1f} s")
    with engine.connect() as conn:
        debtors = list(
            conn.execute(
                select(ClientBalance.client_id).where(ClientBalance.balance > 0).limit(5000)
            ).scalars()
        )
    return heavy, debtors


def numbers_of(url: str, client_ids: list[int], limit: int) -> list[str]:
    from sqlalchemy import select

    from crm_core.clients.models import Phone
    from crm_core.database import get_engine

    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(Phone.client_id, Phone.e164).where(Phone.client_id.in_(client_ids[:limit]))
        ).all()
    return list({cid: e for cid, e in rows}.values())


def bench_lookup(url: str, with_debt: list[str], without_debt: list[str], rounds: int) -> None:
    """caller_card p50 on one autocommit connection (as the CTI's CardReader), the card
    statement with the sales columns vs without them, interleaved on the same numbers."""
    from crm_core.clients import lookup
    from crm_core.database import get_engine

    conn = get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT")
    results: dict[tuple[bool, str], list[int]] = {}
    for group, numbers in (("callers with a debt", with_debt), ("callers without", without_debt)):
        for _ in range(rounds):
            for number in numbers:
                for sales in (True, False):
                    lookup.SALES_IN_CARD = sales
                    start = time.perf_counter_ns()
                    card = lookup.card_for_e164(conn, number)
                    results.setdefault((sales, group), []).append(time.perf_counter_ns() - start)
                    assert card is not None
        lookup.SALES_IN_CARD = True
    conn.close()
    print("\ncaller lookup (card_for_e164 on one autocommit connection):")
    for group in ("callers with a debt", "callers without"):
        with_ = percentiles(results[(True, group)])
        without = percentiles(results[(False, group)])
        print(f"  {group:22} with debt+last order: {fmt(with_)}")
        print(f"  {'':22} without (baseline):    {fmt(without)}")
        print(f"  {'':22} p50 difference: {with_['p50'] - without['p50']:+.3f} ms (target <= 0.1)")


def bench_list(url: str, heavy: int, samples: int) -> None:
    from crm_core.auth.principal import Principal
    from crm_core.database import session_scope
    from crm_core.invoices.listing import InvoiceFilter, list_invoices

    admin = Principal(id=1, username="bench", role="admin")
    operator = Principal(id=2, username="op", role="operator", team_id=1)
    today = date.today()
    filters = {
        "none": InvoiceFilter(),
        "status=paid": InvoiceFilter(status="paid"),
        "status=draft": InvoiceFilter(status="draft"),
        "overdue": InvoiceFilter(overdue=True),
        "debtors (unpaid)": InvoiceFilter(debtors=True),
        "client": InvoiceFilter(client_id=heavy),
        "series": InvoiceFilter(series="INV"),
        "period (a month)": InvoiceFilter(issued_from=today - timedelta(days=400), issued_to=today - timedelta(days=370)),
        "period + status": InvoiceFilter(status="issued", issued_from=today - timedelta(days=400), issued_to=today - timedelta(days=370)),
    }  # fmt: skip
    print(f"\ninvoice list, first page of 50 + capped count + totals ({samples} runs each):")
    for who, actor in (("admin", admin), ("operator", operator)):
        for name, f in filters.items():
            times = []
            for _ in range(samples):
                with session_scope() as db:
                    start = time.perf_counter_ns()
                    rows, total, _sums = list_invoices(db, actor, f, limit=50)
                    times.append(time.perf_counter_ns() - start)
            print(f"  {who:8} {name:18} {total:>6} matches  {fmt(percentiles(times))}")


def bench_card(heavy: int, samples: int) -> None:
    from crm_core.auth.principal import Principal
    from dashboard.i18n import set_language
    from dashboard.views.common import templates
    from dashboard.views.sales_invoices import client_sales

    admin = Principal(id=1, username="bench", role="admin")
    set_language("en")
    template = templates.get_template("sales/_client_card.html")

    class Card:
        id = heavy

    times = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        template.render(client=Card, user=admin, client_sales=client_sales)
        times.append(time.perf_counter_ns() - start)
    print(f"\nclient card's sales section, client with 200 documents: {fmt(percentiles(times))}")


def main() -> None:
    import sys

    extra = [a for a in sys.argv[1:] if a.startswith("--invoices")]
    invoices = 200_000
    for a in extra:
        sys.argv.remove(a)
        invoices = int(a.split("=", 1)[1]) if "=" in a else invoices
    args = arguments(__doc__.splitlines()[0])
    if args.quick:
        invoices = min(invoices, 20_000)
    rng = random.Random(11)
    print(machine())
    with scratch_database(args.database_url, args.keep) as (url, _fresh):
        use(url)
        ensure_seeded(url, args.clients)
        heavy, debtors = seed_invoices(url, invoices, rng)
        from sqlalchemy import select

        from crm_core.clients.models import Client
        from crm_core.database import get_engine

        with get_engine(url).connect() as conn:
            sample = list(
                conn.execute(select(Client.id).order_by(Client.id).limit(20_000)).scalars()
            )
        owing = set(debtors)
        with_debt = numbers_of(url, debtors, 200)
        without = numbers_of(
            url, [c for c in rng.sample(sample, min(len(sample), 2000)) if c not in owing], 200
        )
        rounds = max(1, args.samples // max(1, len(with_debt)))
        bench_lookup(url, with_debt, without, rounds)
        bench_list(url, heavy, max(20, args.samples // 50))
        bench_card(heavy, max(20, args.samples // 50))
        from crm_core.database import forget_engines

        forget_engines()


if __name__ == "__main__":
    main()

"""Search at scale: ``search_clients()`` for name fragments and partial numbers, as an admin
(all clients) and as an operator (team + unassigned), against a ``LIKE '%text%'`` scan of
``clients.search_text`` measured in the same run. Also times the first page of the client list
with its capped count (as admin and as operator), and what search results pay to say whether a
search-text refresh is pending: the check alone (queue empty, the usual case) and whole
searches while every client is queued (in a transaction rolled back afterwards: nothing is
left queued).

    python3 bench/search.py                       # 1,000,000 clients on a scratch SQLite file
    python3 bench/search.py --database-url postgresql
    python3 bench/search.py --quick
"""

from __future__ import annotations

import os
import random
import statistics
import time

import phonenumbers
from _crm_core import arguments, ensure_seeded, fmt, machine, percentiles, scratch_database, use

NAME_FRAGMENTS = [
    "popesc", "ionescu", "stefan", "Țurcanu", "mihai", "andreea", "ardele", "cristea", "iordach",
    "иванов", "кузнец", "петр", "smith", "müller", "garcía", "dacia", "logistic", "ion pop",
    "maria ion", "vasile", "zamfir", "olga", "кате", "noah", "tanaka", "bianchi", "roxana",
]  # fmt: skip


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    print(machine())
    with scratch_database(args.database_url, args.keep) as (url, _fresh):
        ensure_seeded(url, args.clients)
        use(url)
        from sqlalchemy import select, text

        from crm_core.auth.models import Team
        from crm_core.auth.principal import Principal
        from crm_core.clients.listing import list_clients
        from crm_core.clients.schemas import ClientFilter
        from crm_core.database import session_factory
        from crm_core.search.service import search_clients

        db = session_factory()()
        rng = random.Random(11)
        admin = Principal(id=None, username="bench-admin", role="admin")
        sales = db.scalar(select(Team.id).where(Team.name == "Sales"))
        operator = Principal(id=None, username="bench-op", role="operator", team_id=sales)
        top = db.execute(text("SELECT max(id) FROM client_phones")).scalar()
        picks = rng.sample(range(1, top + 1), 200)
        e164s = [
            r[0]
            for r in db.execute(
                text(
                    "SELECT e164 FROM client_phones WHERE id IN (" + ",".join(map(str, picks)) + ")"
                )
            )
        ]
        numbers = []
        for e164 in e164s:  # part of a number, as typed in the search box
            parsed = phonenumbers.parse(e164, None)
            nsn, cc = str(parsed.national_number), str(parsed.country_code)
            style = rng.randrange(3)
            if style == 0:  # the start, as dialled at home or abroad: 0721 23 / +40 721 23
                size = rng.randint(4, len(nsn) - 1)
                prefix = "0" if cc == "40" else f"+{cc} "
                numbers.append(prefix + nsn[:size])
            else:  # a run of 5 to 8 digits from anywhere in the number
                size = rng.randint(5, min(8, len(nsn)))
                start = rng.randint(0, len(nsn) - size)
                numbers.append(nsn[start : start + size])
        rounds = max(1, args.samples // (len(NAME_FRAGMENTS) + len(numbers)))
        for q in NAME_FRAGMENTS[:5] + numbers[:5]:
            search_clients(db, admin, q)
        results = {}
        for label, queries in (("name fragment", NAME_FRAGMENTS), ("partial number", numbers)):
            for who, actor in (("admin", admin), ("operator", operator)):
                samples, empty = [], 0
                for _ in range(rounds):
                    for q in queries:
                        start = time.perf_counter_ns()
                        found = search_clients(db, actor, q)
                        samples.append(time.perf_counter_ns() - start)
                        empty += not found.items
                stats = percentiles(samples)
                results[(label, who)] = stats
                print(
                    f"search {label:14} as {who:8} ({len(samples)} queries, {empty} empty): "
                    f"{fmt(stats)}"
                )
        from crm_core.search.refresh import pending_notice, queue_all, status

        check_runs = []
        for _ in range(args.samples):
            start = time.perf_counter_ns()
            pending_notice(db)
            check_runs.append(time.perf_counter_ns() - start)
        stats = percentiles(check_runs)
        print(f"refresh notice check, queue empty ({len(check_runs)} runs): {fmt(stats)}")
        queued = queue_all(db, "bench")
        db.info.pop("search_refresh_wake", None)  # no background refresh: rolled back below
        count_runs = []
        for _ in range(8):
            start = time.perf_counter_ns()
            status(db)
            count_runs.append(time.perf_counter_ns() - start)
        print(
            f"refresh status with {queued:,} clients queued (counts them; searches do it at "
            f"most once a second per process): {fmt(percentiles(count_runs))}"
        )
        busy_runs = []
        for q in NAME_FRAGMENTS + numbers[:27]:
            start = time.perf_counter_ns()
            found = search_clients(db, admin, q)
            busy_runs.append(time.perf_counter_ns() - start)
            assert found.refresh is not None and found.refresh.pending == queued
        db.rollback()
        print(
            f"search while {queued:,} clients are queued for refresh, as admin "
            f"({len(busy_runs)} queries): {fmt(percentiles(busy_runs))}"
        )
        like_runs = []
        for q in ["popesc", numbers[0], "иванов"]:
            start = time.perf_counter_ns()
            db.execute(
                text(
                    "SELECT id FROM clients WHERE search_text LIKE :p AND deleted_at IS NULL "
                    "ORDER BY display_name LIMIT 20"
                ),
                {"p": f"%{q}%"},
            ).all()
            like_runs.append(time.perf_counter_ns() - start)
        like_ms = statistics.median(like_runs) / 1e6
        print(f"LIKE '%text%' scan baseline (median of {len(like_runs)}): {like_ms:.1f} ms")
        for who, actor in (("admin", admin), ("operator", operator)):
            for label, filters in (
                ("VIP, by name", {"category": "vip"}),  # the seed's category code
                ("status lead, by name", {"status": "lead"}),
                ("all, newest first", {"sort": "-created_at"}),
                ("all, by name", {}),
                ("tag (rare)", {"tag": "golf"}),
            ):
                page_runs = []
                for _ in range(8):
                    start = time.perf_counter_ns()
                    list_clients(db, actor, ClientFilter(page_size=50, **filters))
                    page_runs.append(time.perf_counter_ns() - start)
                print(
                    f"client list page + capped count, {who:8}, {label:22}: "
                    f"{fmt(percentiles(page_runs))} (load {os.getloadavg()[0]:.1f})"
                )
        db.close()


if __name__ == "__main__":
    main()

"""Seeding speed: ``seed_clients()`` (what ``callcard seed --clients N`` runs) into an empty
scratch database, against the plain way measured in the same run: SQLAlchemy ORM objects
(client + phones + e-mail, search index maintained by its triggers), extrapolated from 5,000.

    python3 bench/seed.py                         # 1,000,000 clients, SQLite
    python3 bench/seed.py --database-url postgresql
    python3 bench/seed.py --quick
"""

from __future__ import annotations

import time

from _crm_core import arguments, machine, scratch_database, use

BASELINE_ROWS = 5_000


def orm_baseline(url: str) -> float:
    """Seconds per client when seeding through ORM objects and ``session.add_all``."""
    from sqlalchemy import func, select

    from crm_core.clients.models import Client, Email, Phone
    from crm_core.database import session_scope
    from crm_core.seed import CLIENT_COLUMNS
    from crm_core.synthetic import generate

    use(url)
    names = [c.strip() for c in CLIENT_COLUMNS.split(",")]
    with session_scope() as db:
        start_id = (db.scalar(select(func.max(Client.id))) or 0) + 1
    chunks = list(generate(BASELINE_ROWS, start_id, [None], seed=99, sqlite=False))
    started = time.perf_counter()
    with session_scope() as db:
        for clients, phones, emails in chunks:
            by_id = {}
            for values in clients:
                row = dict(zip(names, values, strict=True))
                row.pop("id")
                row["organization_id"] = None
                client = Client(**row)
                by_id[values[0]] = client
                db.add(client)
            for client_id, kind, number, e164, position in phones:
                by_id[client_id].phones.append(
                    Phone(kind=kind, number=number, e164=e164, position=position)
                )
            for client_id, kind, address, lower, position in emails:
                by_id[client_id].emails.append(
                    Email(kind=kind, address=address, address_lower=lower, position=position)
                )
    return (time.perf_counter() - started) / BASELINE_ROWS


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    print(machine())
    from callcard.schema import migrate
    from crm_core.seed import seed_clients

    with scratch_database(args.database_url, args.keep) as (url, _fresh):
        migrate(url)
        done = [0]
        report = seed_clients(
            url, args.clients, progress=lambda n: done.__setitem__(0, done[0] + n)
        )
        print(
            f"seed_clients: {report.clients:,} clients, {report.phones:,} phones, "
            f"{report.emails:,} e-mails in {report.seconds:.1f} s "
            f"({report.clients / report.seconds:,.0f} clients/s, {report.backend}); target 120 s"
        )
        print("  phases (s): " + ", ".join(f"{k} {v}" for k, v in report.phases.items()))
        per_client = orm_baseline(url)
        print(
            f"ORM baseline: {1 / per_client:,.0f} clients/s "
            f"(~{per_client * args.clients:,.0f} s for {args.clients:,}); "
            f"bulk path {per_client * args.clients / report.seconds:.1f}x faster"
        )


if __name__ == "__main__":
    main()

"""Making a custom field searchable when every client holds a value in it (the worst case):
the admin's request (``update_field``: the change plus queueing the clients), then the
refresh (``crm_core.search.refresh.run``, what the background thread and ``callcard search
reindex`` run), against the baseline measured in the same run: one set-based ``UPDATE`` of
every client's ``search_text`` in one transaction (what refreshing inside the admin's request
would cost at the least: it only appends the value and recomputes nothing).

    python3 bench/search_refresh.py                          # 100,000 clients, SQLite
    python3 bench/search_refresh.py --database-url postgresql
    python3 bench/search_refresh.py --clients 1000000 --database-url <url of a seeded base>
"""

from __future__ import annotations

import os
import time

from _crm_core import arguments, ensure_seeded, machine, scratch_database, use


def main() -> None:
    args = arguments(__doc__.splitlines()[0], default_clients=100_000)
    print(machine())
    with scratch_database(args.database_url, args.keep) as (url, fresh):
        ensure_seeded(url, args.clients)
        use(url)
        from sqlalchemy import func, select, text

        from crm_core.auth.principal import SYSTEM
        from crm_core.clients.models import Client
        from crm_core.customfields.models import CustomField
        from crm_core.customfields.service import create_field, update_field
        from crm_core.database import session_scope
        from crm_core.search import refresh
        from crm_core.search.service import search_clients

        key = f"contract_{int(time.time())}"
        with session_scope() as db:
            clients = db.scalar(select(func.count()).select_from(Client))
            field = create_field(
                db, SYSTEM, entity="client", key=key, label="Contract", kind="text",
                searchable=False,
            )  # fmt: skip
            field_id = field.id
            started = time.perf_counter()
            db.execute(
                text(
                    "INSERT INTO custom_field_values (field_id, entity_id, value_text) "
                    "SELECT :f, id, 'CTR-' || id FROM clients"
                ),
                {"f": field_id},
            )
        print(f"{clients:,} clients, each given a value ({time.perf_counter() - started:.1f} s)")
        with session_scope() as db:
            db.execute(text("ANALYZE"))

        # the baseline first, committed (a rolled-back SQLite FTS5 update skips writing its
        # index): the value appended as typed, so that the refresh below rewrites every row
        started = time.perf_counter()
        with session_scope() as db:
            db.execute(
                text(
                    "UPDATE clients SET search_text = search_text || ' | ' || "
                    "(SELECT value_text FROM custom_field_values v "
                    "WHERE v.entity_id = clients.id AND v.field_id = :f) "
                    "WHERE id IN (SELECT entity_id FROM custom_field_values WHERE field_id = :f)"
                ),
                {"f": field_id},
            )
        baseline = time.perf_counter() - started
        print(
            f"baseline, one set-based UPDATE of {clients:,} clients in one transaction: "
            f"{baseline:.1f} s"
        )

        with session_scope() as db:
            db.get(CustomField, field_id)
            started = time.perf_counter()
            update_field(db, SYSTEM, field_id, searchable=True)
            db.info.pop("search_refresh_wake")  # measured below, not in a background thread
        request = time.perf_counter() - started
        with session_scope() as db:
            queued = refresh.status(db).pending
        print(
            f"admin's request (toggle + queue {queued:,} clients, one transaction): {request:.2f} s"
        )

        load_before = os.getloadavg()[0]
        started, cpu = time.perf_counter(), time.process_time()
        done = refresh.run()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"refresh: {done:,} clients in {seconds:.1f} s ({done / seconds:,.0f} clients/s, "
            f"this process' CPU {cpu:.1f} s, load {load_before:.1f} -> {os.getloadavg()[0]:.1f}); "
            f"batches of {refresh.BATCH}, each held for ~{seconds / max(1, done) * refresh.BATCH:.2f} s"
            f"; {seconds / baseline:.1f}x the baseline's time"
        )
        with session_scope() as db:
            hits = search_clients(db, SYSTEM, "ctr-4242").items
            assert any(h.id == 4242 for h in hits), "the refreshed text is not found"

        per_million = 1_000_000 / clients
        print(
            f"per 1,000,000 clients (linear): request {request * per_million:.1f} s, refresh "
            f"{seconds * per_million / 60:.1f} min, set-based UPDATE {baseline * per_million:.0f} s"
        )
        print(f"load {os.getloadavg()[0]:.1f}")
        if not fresh:
            print(f"the given database keeps field {key!r}: delete it to take its values out again")


if __name__ == "__main__":
    main()

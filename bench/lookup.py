"""Caller lookup at scale: ``caller_card()`` (the service function the CTI listener calls) on
random existing numbers written in different formats, against the peers' way, a
``LIKE '%digits%'`` scan of the phones table, measured in the same run on the same data.

    python3 bench/lookup.py                       # 1,000,000 clients on a scratch SQLite file
    python3 bench/lookup.py --database-url postgresql
    python3 bench/lookup.py --quick               # smoke run, 20,000 clients
"""

from __future__ import annotations

import random
import statistics
import time

from _crm_core import arguments, ensure_seeded, fmt, machine, percentiles, scratch_database, use


def written(rng: random.Random, e164: str) -> str:
    """The number as a PBX or a person might send it."""
    style = rng.randrange(4)
    if style == 0:
        return e164
    if style == 1:
        return "00" + e164[1:]
    if style == 2 and e164.startswith("+40"):
        return "0" + e164[3:]
    return f"{e164[:3]} {e164[3:6]} {e164[6:9]} {e164[9:]}"


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    print(machine())
    with scratch_database(args.database_url, args.keep) as (url, _fresh):
        ensure_seeded(url, args.clients)
        use(url)
        from sqlalchemy import text

        from crm_core.clients.lookup import caller_card
        from crm_core.database import session_factory

        db = session_factory()()
        rng = random.Random(7)
        top = db.execute(text("SELECT max(id) FROM client_phones")).scalar()
        ids = rng.sample(range(1, top + 1), min(args.samples, top))
        numbers = [
            row[0]
            for row in db.execute(
                text("SELECT e164 FROM client_phones WHERE id IN (" + ",".join(map(str, ids)) + ")")
            )
        ]
        inputs = [written(rng, n) for n in numbers]
        for number in inputs[:200]:  # warm the caches and the prepared statement
            caller_card(db, number)
        samples, cpu, misses = [], [], 0
        for number in inputs:
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            card = caller_card(db, number)
            samples.append(time.perf_counter_ns() - start)
            cpu.append(time.thread_time_ns() - start_cpu)
            misses += card is None
        lookup = percentiles(samples)
        print(f"caller_card   ({len(samples)} lookups, {misses} not found): {fmt(lookup)}")
        # CPU time of this thread per lookup: what the lookup costs without the waits for a
        # core on a shared machine (on PostgreSQL the server's own work is not in it)
        print(f"  CPU time of the calling thread:                 {fmt(percentiles(cpu))}")

        like_runs = []
        for e164 in numbers[:7]:
            digits = e164[-9:]
            start = time.perf_counter_ns()
            db.execute(
                text(
                    "SELECT c.id FROM client_phones p JOIN clients c ON c.id = p.client_id "
                    "WHERE p.number LIKE :pattern AND c.deleted_at IS NULL"
                ),
                {"pattern": f"%{digits}%"},
            ).all()
            like_runs.append(time.perf_counter_ns() - start)
        like_ms = statistics.median(like_runs) / 1e6
        phones = db.execute(text("SELECT count(*) FROM client_phones")).scalar()
        print(
            f"LIKE '%digits%' baseline ({len(like_runs)} scans of {phones:,} phones): "
            f"median {like_ms:.1f} ms"
        )
        print(
            f"speed-up: {like_ms / lookup['p50']:,.0f}x at the median, "
            f"{like_ms / lookup['p99']:,.0f}x against our p99"
        )
        db.close()


if __name__ == "__main__":
    main()

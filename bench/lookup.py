"""Caller lookup at scale: ``caller_card()`` (the service function the CTI listener calls) on
random existing numbers written in different formats, against the peers' way, a
``LIKE '%digits%'`` scan of the phones table, measured in the same run on the same data.

    python3 bench/lookup.py                       # 1,000,000 clients on a scratch SQLite file
    python3 bench/lookup.py --database-url postgresql
    python3 bench/lookup.py --quick               # smoke run, 20,000 clients

On PostgreSQL the lookup and the scan are measured twice in the same run: over TCP to
127.0.0.1 (the URL the bench was given) and over the server's Unix socket
(``postgresql+psycopg://postgres@/<db>?host=/var/run/postgresql``, the DSN documented for a
single-host production install), when that socket exists.
"""

from __future__ import annotations

import os
import random
import time

from _crm_core import arguments, ensure_seeded, fmt, machine, percentiles, scratch_database, use

PG_SOCKET_DIR = "/var/run/postgresql"


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


def socket_url(url: str) -> str | None:
    """The same PostgreSQL database reached over the local Unix socket, if there is one."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or parsed.query.get("host"):
        return None
    if not os.path.exists(os.path.join(PG_SOCKET_DIR, f".s.PGSQL.{parsed.port or 5432}")):
        return None
    return parsed.set(host=None, port=None, query={"host": PG_SOCKET_DIR}).render_as_string(
        hide_password=False
    )


def measure(url: str, label: str, samples: int) -> None:
    """Lookups then the LIKE scans, on one session of a fresh engine for ``url``."""
    use(url)
    from sqlalchemy import text

    from crm_core.clients.lookup import caller_card
    from crm_core.database import session_factory

    db = session_factory()()
    rng = random.Random(7)
    top = db.execute(text("SELECT max(id) FROM client_phones")).scalar()
    ids = rng.sample(range(1, top + 1), min(samples, top))
    numbers = [
        row[0]
        for row in db.execute(
            text("SELECT e164 FROM client_phones WHERE id IN (" + ",".join(map(str, ids)) + ")")
        )
    ]
    inputs = [written(rng, n) for n in numbers]
    for number in inputs[:200]:  # warm the caches and the prepared statement
        caller_card(db, number)
    durations, cpu, misses = [], [], 0
    for number in inputs:
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        card = caller_card(db, number)
        durations.append(time.perf_counter_ns() - start)
        cpu.append(time.thread_time_ns() - start_cpu)
        misses += card is None
    lookup = percentiles(durations)
    print(f"[{label}] load {os.getloadavg()[0]:.1f}")
    print(f"caller_card   ({len(durations)} lookups, {misses} not found): {fmt(lookup)}")
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
    like = percentiles(like_runs)
    phones = db.execute(text("SELECT count(*) FROM client_phones")).scalar()
    print(
        f"LIKE '%digits%' baseline ({len(like_runs)} scans of {phones:,} phones): "
        f"median {like['p50']:.1f} ms, slowest {like['max']:.1f} ms"
    )
    print(
        f"speed-up: {like['p50'] / lookup['p50']:,.0f}x median scan / median lookup, "
        f"{like['p50'] / lookup['p99']:,.0f}x median scan / our p99"
    )
    engine = db.get_bind()
    db.close()
    engine.dispose()


def main() -> None:
    args = arguments(__doc__.splitlines()[0])
    print(machine())
    with scratch_database(args.database_url, args.keep) as (url, _fresh):
        ensure_seeded(url, args.clients)
        measure(
            url, "TCP" if "@127.0.0.1" in url or "@localhost" in url else "given URL", args.samples
        )
        via_socket = socket_url(url)
        if via_socket is not None:
            measure(via_socket, f"Unix socket {PG_SOCKET_DIR}", args.samples)


if __name__ == "__main__":
    main()

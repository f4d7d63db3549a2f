"""Caller lookup at scale: ``caller_card()`` (the service function the CTI listener calls) on
random existing numbers written in different formats, against the peers' way, a
``LIKE '%digits%'`` scan of the phones table over the numbers' digits (they are stored as typed),
measured in the same run on the same data; the bench stops if that scan misses a caller.

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
from collections.abc import Callable

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


#: What a CRM without normalised numbers runs: ``LIKE '%<last 9 digits>%'``. Its numbers are
#: stored as typed ("0729 378 001", "+40 727 317 490"), so the scan that finds the caller
#: compares the digits with the separators taken out (the ones ``caller_card`` ignores). Two
#: more scans are printed for comparison: the plain LIKE on the typed text, which misses every
#: number typed with a separator, and a LIKE on our own normalised column, which a CRM that has
#: that column would not scan.
BASELINE = "LIKE '%digits%' over the number's digits"
BASELINES = {
    BASELINE: "replace(replace(replace(replace(replace(replace("
    "p.number, ' ', ''), '-', ''), '.', ''), '(', ''), ')', ''), '/', '') LIKE :pattern",
    "LIKE '%digits%' over the typed text": "p.number LIKE :pattern",
    "LIKE '%digits%' over our E.164 column": "p.e164 LIKE :pattern",
}


def storage_reads(db) -> Callable[[], int | None]:
    """Bytes the database process has read from storage so far (its ``/proc/<pid>/io``), or
    None where that is not readable (a server on another host)."""
    from sqlalchemy import text

    if db.get_bind().dialect.name == "postgresql":
        pid = db.execute(text("SELECT pg_backend_pid()")).scalar()
    else:
        pid = os.getpid()  # SQLite reads in this process

    def read_bytes() -> int | None:
        try:
            with open(f"/proc/{pid}/io") as io:
                for line in io:
                    if line.startswith("read_bytes:"):
                        return int(line.split()[1])
        except OSError:
            return None
        return None

    return read_bytes


def scan(db, condition: str, found: dict[str, int]) -> tuple[dict, int]:
    """Percentiles of the scan for each number, and how many times it found the caller."""
    from sqlalchemy import text

    runs, hits = [], 0
    for e164, client_id in found.items():
        start = time.perf_counter_ns()
        ids = db.execute(
            text(
                "SELECT c.id FROM client_phones p JOIN clients c ON c.id = p.client_id "
                f"WHERE {condition} AND c.deleted_at IS NULL"
            ),
            {"pattern": f"%{e164[-9:]}%"},
        ).scalars()
        hits += client_id in set(ids)
        runs.append(time.perf_counter_ns() - start)
    return percentiles(runs), hits


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
    storage = storage_reads(db)
    durations, cpu, misses, first_cards, in_ram = [], [], 0, [], []
    for number in inputs:
        read_before = storage()
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        card = caller_card(db, number)
        durations.append(time.perf_counter_ns() - start)
        cpu.append(time.thread_time_ns() - start_cpu)
        if read_before is not None and storage() == read_before:
            in_ram.append(durations[-1])
        misses += card is None
        if len(first_cards) < 7:
            first_cards.append(card)
    lookup = percentiles(durations)
    print(f"[{label}] load {os.getloadavg()[0]:.1f}")
    print(f"caller_card   ({len(durations)} lookups, {misses} not found): {fmt(lookup)}")
    # CPU time of this thread per lookup: what the lookup costs without the waits for a
    # core on a shared machine (on PostgreSQL the server's own work is not in it)
    print(f"  CPU time of the calling thread:                 {fmt(percentiles(cpu))}")
    if storage() is not None:
        # pages of a big base that the OS let go of (this VM pages out what was not touched
        # for a few seconds) come back from the disk: that, not the query, makes the tail
        others = f"; the other {len(in_ram)}: {fmt(percentiles(in_ram))}" if in_ram else ""
        print(f"  {len(durations) - len(in_ram)} lookups read from storage{others}")

    # the scans look for the same callers, so each must find the client the lookup found
    found = {
        n: card.client_id for n, card in zip(numbers, first_cards, strict=False) if card is not None
    }
    scans = {name: scan(db, sql, found) for name, sql in BASELINES.items()}
    phones = db.execute(text("SELECT count(*) FROM client_phones")).scalar()
    for name, (like, hits) in scans.items():
        print(
            f"{name} ({len(found)} scans of {phones:,} phones, found the caller {hits} of "
            f"{len(found)} times): median {like['p50']:.1f} ms, slowest {like['max']:.1f} ms"
        )
    if scans[BASELINE][1] != len(found):
        raise SystemExit("the baseline scan missed callers the lookup found: not comparable")
    for name, (like, _hits) in scans.items():
        print(
            f"speed-up against {name}: {like['p50'] / lookup['p50']:,.0f}x median scan / "
            f"median lookup, {like['p50'] / lookup['p99']:,.0f}x median scan / our p99"
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

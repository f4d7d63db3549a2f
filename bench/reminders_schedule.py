"""Scheduling reminders for many events: the bulk path vs. one event at a time.

Figure: N events (appointments 1 to 30 days ahead, each client with a phone, English/Romanian/
Russian), default rules (SMS 24 h and 2 h before), i.e. 2N outbox rows with rendered text,
written by ``notifier.reminders.service.schedule_upcoming`` in one transaction (read events and
clients + plan + render + insert + commit). Target: 100,000 events in at most 10 s.

Baseline, same process and database: the one-by-one path an event change takes (the
``task_saved`` signal calling ``schedule_events([task])``: per-event queries, ``enqueue``-style
inserts), measured on a sample and extrapolated to N.

Both backends in one run (SQLite in a temporary file, then PostgreSQL in a database created
and dropped by the script), each with its own baseline; a summary table at the end.

    python3 bench/reminders_schedule.py                    # 100,000 events, SQLite + PostgreSQL
    python3 bench/reminders_schedule.py --quick            # 5,000 events
    python3 bench/reminders_schedule.py --only sqlite      # one backend
    python3 bench/reminders_schedule.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_ADMIN = os.environ.get(
    "CALLCARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def prepare(url: str) -> None:
    os.environ["CALLCARD_DATABASE_URL"] = url
    os.environ.setdefault("CALLCARD_SECRET_KEY", "bench")
    os.environ["CALLCARD_EMBEDDED_DISPATCHER"] = "false"
    from callcard.schema import migrate
    from callcard.settings import get_settings

    get_settings.cache_clear()
    migrate(url)
    # what a running app has done long before it schedules anything (0.3-0.6 s otherwise
    # counted in the first timed call)
    from sqlalchemy.orm import configure_mappers

    from callcard.schema import load_all_models

    load_all_models()
    configure_mappers()


def seed(n: int, offset: int = 0) -> None:
    """N clients with a mobile phone and one appointment each (bulk inserts, not timed)."""
    from crm_core.clients.models import Client, Phone
    from crm_core.database import session_scope, utcnow
    from crm_core.tasks.models import Task

    now = utcnow().replace(microsecond=0)
    langs = ("en", "ro", "ru")
    with session_scope() as db:
        base = offset
        clients = [
            {"id": base + i + 1, "kind": "person", "first_name": f"Client{i}", "last_name": "Bench",
             "display_name": f"Client{i} Bench", "language": langs[i % 3], "created_at": now,
             "updated_at": now}
            for i in range(n)
        ]  # fmt: skip
        for start in range(0, n, 5000):
            db.execute(Client.__table__.insert(), clients[start : start + 5000])
        phones = [
            {"client_id": base + i + 1, "kind": "mobile", "number": f"+4071{(base + i):07d}",
             "e164": f"+4071{(base + i):07d}", "position": 0}
            for i in range(n)
        ]  # fmt: skip
        for start in range(0, n, 5000):
            db.execute(Phone.__table__.insert(), phones[start : start + 5000])
        tasks = []
        for i in range(n):
            starts = now + timedelta(days=1 + i % 30, hours=i % 9, minutes=(i * 7) % 60)
            tasks.append(
                {"id": base + i + 1, "kind": "event", "event_type": "appointment",
                 "title": f"Appointment {i}", "description": "", "client_id": base + i + 1,
                 "starts_at": starts, "due_at": starts, "location": "Main office",
                 "priority": "normal", "status": "open", "source": "", "created_at": now}
            )  # fmt: skip
        for start in range(0, n, 5000):
            db.execute(Task.__table__.insert(), tasks[start : start + 5000])


def load_tasks(db, first_id: int, last_id: int):
    from sqlalchemy import select

    from crm_core.tasks.models import Task

    return list(
        db.scalars(select(Task).where(Task.id >= first_id, Task.id <= last_id).order_by(Task.id))
    )


def _backend_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of a PostgreSQL backend on this machine, from /proc."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bulk() -> tuple[float, float, float, int]:
    """``schedule_upcoming`` (the function the app and ``callcard`` call) in one transaction,
    commit included: (wall seconds, CPU seconds of this process, CPU seconds of the PostgreSQL
    backend serving the session (0 on SQLite), outbox rows written)."""
    from crm_core.database import session_scope
    from notifier.reminders.service import schedule_upcoming

    with session_scope() as db:  # the pooled connection the timed run gets (not timed)
        connection = db.connection()
        pid = (
            connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            if connection.dialect.name == "postgresql"
            else None
        )
    server = _backend_cpu(pid)
    started, cpu = time.perf_counter(), time.process_time()
    with session_scope() as db:
        written = schedule_upcoming(db)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return wall, cpu, _backend_cpu(pid) - server, written


def one_by_one(first_id: int, sample: int) -> tuple[float, int]:
    from crm_core.database import session_scope
    from notifier.reminders.service import schedule_events

    written = 0
    started = time.perf_counter()
    with session_scope() as db:
        tasks = load_tasks(db, first_id, first_id + sample - 1)
        for task in tasks:
            written += schedule_events(db, [task])
            db.flush()
    return time.perf_counter() - started, written


@dataclass
class Result:
    backend: str
    events: int
    rows: int
    wall: float
    cpu: float
    server: float  # CPU seconds of the PostgreSQL backend (0 on SQLite)
    load: tuple[float, float]  # load average before and after the timed run
    baseline_rate: float  # events/s, one event at a time


def run(backend: str, url: str, n: int, sample: int) -> Result:
    prepare(url)
    print(f"[{backend}] seeding {n:,} (+{sample:,}) clients and events ...", flush=True)
    seed(n)
    before = os.getloadavg()[0]
    wall, cpu, server, written = bulk()
    after = os.getloadavg()[0]
    server_note = f", {server:.2f} s CPU of the PostgreSQL backend" if server else ""
    print(
        f"[{backend}] schedule_upcoming: {n:,} events -> {written:,} outbox rows in {wall:.2f} s "
        f"wall, {cpu:.2f} s CPU of this process{server_note} ({n / wall:,.0f} events/s); "
        f"load average {before:.1f} -> {after:.1f}",
        flush=True,
    )
    seed(sample, offset=n)
    base_s, base_written = one_by_one(n + 1, sample)
    rate = sample / base_s
    print(
        f"[{backend}] baseline, one event at a time (signal path): {sample:,} events -> "
        f"{base_written:,} rows in {base_s:.2f} s ({rate:,.0f} events/s); "
        f"extrapolated to {n:,}: {n / rate:.1f} s",
        flush=True,
    )
    return Result(backend, n, written, wall, cpu, server, (before, after), rate)


def run_postgresql(admin_url: str, n: int, sample: int) -> Result:
    """In a database of its own, dropped afterwards."""
    from sqlalchemy import create_engine, text

    from crm_core import database

    name = f"notifier_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return run("PostgreSQL", admin_url.rsplit("/", 1)[0] + f"/{name}", n, sample)
    finally:
        database.forget_engines()
        with admin.connect() as conn:
            conn.execute(
                text(
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
                )
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000, help="baseline sample size")
    parser.add_argument("--quick", action="store_true", help="5,000 events, 500 in the sample")
    parser.add_argument(
        "--pg", default=PG_ADMIN, help="PostgreSQL admin URL (a database is created and dropped)"
    )
    parser.add_argument(
        "--only", choices=("sqlite", "postgresql"), help="one backend (default: both)"
    )
    args = parser.parse_args()
    n, sample = (5_000, 500) if args.quick else (args.events, args.sample)

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    results = []
    if args.only != "postgresql":
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", n, sample))
    if args.only != "sqlite":
        results.append(run_postgresql(args.pg, n, sample))

    print(f"\nScheduling reminders for {n:,} events (target: 100,000 in at most 10 s)")
    print("| backend | outbox rows | schedule_upcoming | CPU (this process) | CPU (PG backend) "
          "| events/s | baseline: one at a time | speed-up | load before/after |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.backend} | {r.rows:,} | {r.wall:.2f} s | {r.cpu:.2f} s "
            f"| {f'{r.server:.2f} s' if r.server else '-'} | {r.events / r.wall:,.0f} "
            f"| {r.baseline_rate:,.0f} events/s = {r.events / r.baseline_rate:.0f} s "
            f"| {r.events / r.baseline_rate / r.wall:.0f}x | {r.load[0]:.1f} / {r.load[1]:.1f} |"
        )


if __name__ == "__main__":
    main()

"""Scheduling reminders for many events: the bulk path vs. one event at a time.

Figure: N events (appointments 1 to 30 days ahead, each client with a phone, English/Romanian/
Russian), default rules (SMS 24 h and 2 h before), i.e. 2N outbox rows with rendered text,
written by ``notifier.reminders.service.schedule_upcoming`` in one transaction (read events and
clients + plan + render + insert + commit). Target: 100,000 events in at most 10 s.

Baseline, same process and database: the one-by-one path an event change takes (the
``task_saved`` signal calling ``schedule_events([task])``: per-event queries, ``enqueue``-style
inserts), measured on a sample and extrapolated to N.

    python3 bench/reminders_schedule.py               # 100,000 events, SQLite
    python3 bench/reminders_schedule.py --quick       # 5,000 events
    python3 bench/reminders_schedule.py --db postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def prepare(url: str) -> None:
    os.environ["CALLCARD_DATABASE_URL"] = url
    os.environ.setdefault("CALLCARD_SECRET_KEY", "bench")
    os.environ["CALLCARD_EMBEDDED_DISPATCHER"] = "false"
    from crm_core.config import get_settings
    from crm_core.database import migrate

    get_settings.cache_clear()
    migrate(url)


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


def bulk(n: int) -> tuple[float, int]:
    """``schedule_upcoming``: every open future event (the baseline's sample is seeded later)."""
    from crm_core.database import session_scope
    from notifier.reminders.service import schedule_upcoming

    started, cpu = time.perf_counter(), time.process_time()
    with session_scope() as db:
        written = schedule_upcoming(db)
    global BULK_CPU
    BULK_CPU = time.process_time() - cpu
    return time.perf_counter() - started, written


BULK_CPU = 0.0


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=2_000, help="baseline sample size")
    parser.add_argument("--quick", action="store_true", help="5,000 events, 500 in the sample")
    parser.add_argument("--db", default="", help="PostgreSQL admin URL (default: SQLite file)")
    args = parser.parse_args()
    n, sample = (5_000, 500) if args.quick else (args.events, args.sample)

    admin = None
    name = ""
    with tempfile.TemporaryDirectory() as tmp:
        if args.db:
            from sqlalchemy import create_engine, text

            name = f"notifier_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.db, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.db.rsplit("/", 1)[0] + f"/{name}"
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            prepare(url)
            print(
                f"seeding {n:,} (+{sample:,}) clients and events ({url.split(':')[0]}) ...",
                flush=True,
            )
            seed(n)
            seconds, written = bulk(n)
            seed(sample, offset=n)
            print(
                f"bulk schedule_upcoming: {n:,} events -> {written:,} outbox rows in {seconds:.2f} s "
                f"wall, {BULK_CPU:.2f} s CPU of this process ({n / seconds:,.0f} events/s); "
                f"target <= 10 s for 100,000; load average now {os.getloadavg()[0]:.1f}",
                flush=True,
            )
            base_s, base_written = one_by_one(n + 1, sample)
            per_event = base_s / sample
            print(
                f"baseline one event at a time (signal path): {sample:,} events -> "
                f"{base_written:,} rows in {base_s:.2f} s ({sample / base_s:,.0f} events/s); "
                f"extrapolated to {n:,}: {per_event * n:.1f} s",
                flush=True,
            )
            print(f"speed-up: {per_event * n / seconds:.1f}x")
        finally:
            if admin is not None:
                from crm_core import database

                database.get_engine.cache_clear()
                database._factory.cache_clear()
                from sqlalchemy import text

                with admin.connect() as conn:
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            f"WHERE datname = '{name}'"
                        )
                    )
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


if __name__ == "__main__":
    main()

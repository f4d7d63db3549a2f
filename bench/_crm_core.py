"""Shared plumbing of the crm_core benches: a scratch database (SQLite file under /tmp or a
uniquely named PostgreSQL database dropped afterwards), seeding, percentiles."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def arguments(description: str, default_clients: int = 1_000_000) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--clients", type=int, default=default_clients)
    parser.add_argument(
        "--database-url",
        default="sqlite",
        help="'sqlite' (scratch file under /tmp), 'postgresql' (scratch database, dropped "
        "afterwards) or a full URL of an existing database to use as it is",
    )
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="20,000 clients, 300 samples")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.samples = min(args.clients, 20_000), min(args.samples, 300)
    return args


@contextmanager
def scratch_database(spec: str, keep: bool = False) -> Iterator[tuple[str, bool]]:
    """(url, fresh): a new scratch database for 'sqlite'/'postgresql', else ``spec`` itself."""
    from sqlalchemy import create_engine, text

    if spec == "sqlite":
        path = Path(f"/tmp/crm_core_bench_{uuid.uuid4().hex[:8]}.db")
        try:
            yield f"sqlite:///{path}", True
        finally:
            if not keep:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            else:
                print(f"kept {path}")
        return
    if spec == "postgresql":
        name = f"crm_core_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", True
        finally:
            if not keep:
                from crm_core import database

                database.forget_engines()
                with admin.connect() as conn:
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                        )
                    )
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            else:
                print(f"kept database {name}")
            admin.dispose()
        return
    yield spec, False


def use(url: str) -> None:
    os.environ["CALLCARD_DATABASE_URL"] = url
    from crm_core import config, database

    config.get_settings.cache_clear()
    database.forget_engines()


def ensure_seeded(url: str, clients: int) -> None:
    """Seed up to ``clients`` clients (nothing when the database has them already)."""
    from sqlalchemy import text

    from callcard.schema import migrate
    from crm_core.database import make_engine
    from crm_core.seed import seed_clients

    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT count(*) FROM clients")).scalar() or 0
    engine.dispose()
    if have >= clients:
        print(f"database has {have:,} clients already")
        return
    report = seed_clients(url, clients - have)
    print(
        f"seeded {report.clients:,} clients, {report.phones:,} phones, {report.emails:,} e-mails "
        f"in {report.seconds:.1f} s ({report.backend})"
    )


def percentiles(samples_ns: list[int]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    ordered = sorted(samples_ns)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": ordered[-1] / 1e6,
        "mean": statistics.fmean(ordered) / 1e6,
    }


def fmt(stats: dict[str, float]) -> str:
    return "  ".join(f"{k} {v:8.3f} ms" for k, v in stats.items())


def timed(fn, *args) -> int:
    start = time.perf_counter_ns()
    fn(*args)
    return time.perf_counter_ns() - start


def machine() -> str:
    import platform

    import psutil

    return (
        f"{platform.node()}: {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}"
    )

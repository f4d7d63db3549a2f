"""Import and export at scale: a CSV of N clients imported as a background job (each row read
and checked once, the records spooled, then written in committed batches), against the per-row import (the clients service, one client at a
time, as the import worked before) measured first in the same run; then the export of the
clients to CSV, streamed (``export_lists.client_rows``), with the time to its first byte,
against the ORM export (``export.export_rows``) on its first clients, each export run three
times (median). Prints rows/s by the clock and by the process's CPU time (the machine may be
shared), and RSS.

    python3 bench/exchange.py                          # N = 50,000, SQLite then PostgreSQL
    python3 bench/exchange.py --rows 1000000 --database-url postgresql
"""

from __future__ import annotations

import argparse
import csv
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

from _crm_core import machine, scratch_database, use

BASELINE_ROWS = 1000
EXPORT_BASELINE_ROWS = 2000
EXPORT_RUNS = 3


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class RssWatch:
    """Peak resident memory while a block runs (sampled every 50 ms)."""

    def __enter__(self) -> RssWatch:
        self.start, self.peak, self.running = rss_mb(), rss_mb(), True
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.05)

    def __exit__(self, *exc) -> None:
        self.running = False
        self.thread.join()


def write_csv(path: Path, rows: int, offset: int) -> None:
    cities = ["Iași", "București", "Cluj-Napoca", "Chișinău", "Москва", "Timișoara", "Brașov"]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Prenume", "Nume", "Telefon", "Email", "Oraș"])
        for i in range(offset, offset + rows):
            writer.writerow(
                [f"Ion{i}", "Țurcanu", f"07{22000000 + i}", f"ion{i}@example.ro", cities[i % 7]]
            )


def baseline(path: Path) -> tuple[float, float]:
    """Rows a second of the per-row import: ClientIn and create_client for each row."""
    from crm_core.auth.principal import SYSTEM
    from crm_core.clients.schemas import ClientIn
    from crm_core.clients.service import create_client, find_duplicate
    from crm_core.database import session_scope

    started, cpu = time.perf_counter(), time.process_time()
    with session_scope() as db, path.open(encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        count = 0
        for first, last, phone, email, city in reader:
            data = ClientIn(
                first_name=first,
                last_name=last,
                phones=[{"number": phone}],
                emails=[{"address": email}],
                addresses=[{"city": city}],
            )
            find_duplicate(db, [p.e164 for p in data.phones], [str(e.address) for e in data.emails])
            savepoint = db.begin_nested()
            create_client(db, SYSTEM, data, force=True)
            savepoint.commit()
            count += 1
    return count / (time.perf_counter() - started), count / (time.process_time() - cpu)


def job_import(path: Path) -> tuple[float, float, float, float, dict]:
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from crm_core.exchange import jobs
    from crm_core.exchange.models import ImportJob

    with session_scope() as db:
        job_id = jobs.create_job(db, SYSTEM, path, path.name).id
    with RssWatch() as watch:
        started, cpu = time.perf_counter(), time.process_time()
        state = jobs.run_job(job_id, publish=False)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with session_scope() as db:
        job = db.get(ImportJob, job_id)
        outcome = {"state": state, "imported": job.imported, "skipped": job.skipped}
    return seconds, cpu, watch.start, watch.peak, outcome


def export_csv(
    fast: bool = True, upto: int | None = None
) -> tuple[int, float, float, float, float]:
    """(rows, seconds, CPU seconds, time to first byte, peak RSS) of the client export to CSV,
    streamed: ``client_rows`` (fast) or the ORM ``export_rows``; ``upto`` clients at most."""
    from sqlalchemy import select

    from crm_core.auth.principal import SYSTEM
    from crm_core.clients.models import Client
    from crm_core.database import session_scope
    from crm_core.exchange.export import export_rows
    from crm_core.exchange.export_formats import csv_stream
    from crm_core.exchange.export_lists import client_rows

    with session_scope() as db, RssWatch() as watch:
        query = select(Client).where(Client.deleted_at.is_(None))
        if upto:
            query = query.where(Client.id <= upto)
        started, cpu = time.perf_counter(), time.process_time()
        first = None
        rows = 0
        for chunk in csv_stream((client_rows if fast else export_rows)(db, SYSTEM, query)):
            if first is None:
                first = time.perf_counter() - started
            rows += chunk.count(b"\n")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return rows - 1, seconds, cpu, first or 0.0, watch.peak


def run(spec: str, rows: int) -> None:
    from callcard.schema import migrate

    with scratch_database(spec) as (url, _fresh), tempfile.TemporaryDirectory() as tmp:
        migrate(url)
        use(url)
        base_file, big_file = Path(tmp) / "baseline.csv", Path(tmp) / "clients.csv"
        write_csv(base_file, min(BASELINE_ROWS, rows), offset=5_000_000)
        write_csv(big_file, rows, offset=0)
        backend = url.split(":", 1)[0]
        print(f"--- {backend}: N = {rows:,} rows ({big_file.stat().st_size / 1e6:.1f} MB CSV)")
        before, before_cpu = baseline(base_file)
        print(
            f"baseline (per-row import, {min(BASELINE_ROWS, rows):,} rows): {before:,.0f} rows/s"
            f" (CPU: {before_cpu:,.0f} rows/s)"
        )
        seconds, cpu, start_rss, peak_rss, outcome = job_import(big_file)
        print(
            f"import job: {rows / seconds:,.0f} rows/s, CPU {rows / cpu:,.0f} rows/s "
            f"({seconds:.1f} s, CPU {cpu:.1f} s, {outcome}); RSS {start_rss:.0f} MB at start, "
            f"peak {peak_rss:.0f} MB; x{rows / seconds / before:.1f} the baseline "
            f"(CPU x{rows / cpu / before_cpu:.1f})"
        )
        rates = [export_csv(fast=False, upto=EXPORT_BASELINE_ROWS) for _ in range(EXPORT_RUNS)]
        count, base_rate, base_cpu = _rates(rates)
        print(
            f"export baseline (ORM export_rows, {count:,} clients, median of {EXPORT_RUNS}): "
            f"{base_rate:,.0f} rows/s (CPU {base_cpu:,.0f} rows/s)"
        )
        runs = [export_csv() for _ in range(EXPORT_RUNS)]
        count, rate, cpu_rate = _rates(runs)
        each = ", ".join(f"{c / s:,.0f}" for c, s, *_ in runs)
        print(
            f"export CSV: {count:,} clients, median of {EXPORT_RUNS} runs {rate:,.0f} rows/s "
            f"(CPU {cpu_rate:,.0f} rows/s; runs: {each}), first byte after "
            f"{max(r[3] for r in runs) * 1000:.0f} ms at most, peak RSS "
            f"{max(r[4] for r in runs):.0f} MB; x{rate / base_rate:.1f} the baseline "
            f"(CPU x{cpu_rate / base_cpu:.1f})"
        )


def _rates(runs: list[tuple[int, float, float, float, float]]) -> tuple[int, float, float]:
    """(rows, median rows/s by the clock, median rows/s by CPU time) of repeated exports: the
    host's noise moves one run by a third either way (shared virtual machines)."""
    count = runs[0][0]
    return (
        count,
        statistics.median(count / seconds for _, seconds, *_ in runs),
        statistics.median(count / cpu for _, _, cpu, *_ in runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="rows of the imported CSV (N)")
    parser.add_argument(
        "--database-url", default="both", help="'sqlite', 'postgresql' or 'both' (default)"
    )
    args = parser.parse_args()
    print(machine())
    print(
        f"max RSS of the process so far: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    for spec in ("sqlite", "postgresql") if args.database_url == "both" else (args.database_url,):
        run(spec, args.rows)


if __name__ == "__main__":
    main()

"""Backups of the client base: time and size on SQLite and PostgreSQL, and the operators' popup
latency while a backup runs inside the web process (the embedded default's scheduled backup),
against the same measurement without one.

- time and size: ``crm_core.backups.service.make_archive`` (consistent copy or pg_dump of one
  snapshot, gzip, every attachment, manifest) and ``verify_archive`` (read back, restore into a
  scratch database, compare); baseline in the same run: a raw copy of the SQLite file (not
  consistent: what a naive ``cp`` costs) and a bare ``pg_dump --format=custom``;
- popups: ``bench/popup_latency.py``'s embedded measurement (200 operator websockets, 100 calls
  arriving over one second, the pattern of the p99 target; AMI replay over TCP) run twice on
  the same database: once idle, once while the web process runs backups back to back ("Run
  now" through the API), with the share of the measurement during which a backup ran.

    python3 bench/backups.py                    # 100,000 clients (a few minutes with seeding)
    python3 bench/backups.py --clients 1000000  # the 1M base (seeding takes long, once)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import popup_latency as popups  # noqa: E402

FILES, FILE_BYTES = 200, 64 * 1024


def attachments(folder: Path) -> Path:
    """A store of FILES incompressible files (photos, PDFs are)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(FILES):
        path = folder / f"{n % 16:02x}" / f"file-{n}.bin"
        path.parent.mkdir(exist_ok=True)
        if not path.exists():
            path.write_bytes(os.urandom(FILE_BYTES))
    return folder


def configure(url: str, work: Path) -> None:
    os.environ.update(
        CALLCARD_DATABASE_URL=url,
        CALLCARD_ATTACHMENTS_DIR=str(attachments(work / "files")),
        CALLCARD_BACKUP_DIR=str(work / "backups"),
        CALLCARD_BACKUP_SCHEDULE="",
        CALLCARD_BACKUP_ENCRYPTION_KEY="",
    )
    from crm_core import config, database

    config.get_settings.cache_clear()
    database.forget_engines()


def database_size(url: str) -> int:
    if url.startswith("sqlite"):
        return Path(url.split("///", 1)[1]).stat().st_size
    from crm_core.backups import pg_backup

    with pg_backup.connect(url) as conn:
        return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def baseline_seconds(url: str, work: Path) -> tuple[str, float]:
    started = time.perf_counter()
    if url.startswith("sqlite"):
        shutil.copyfile(url.split("///", 1)[1], work / "raw-copy.db")
        label = "raw file copy"
    else:
        from crm_core.backups import pg_backup

        tool = pg_backup.find_tool("pg_dump", pg_backup.server_major(url))
        uri, env = pg_backup.libpq(url)
        subprocess.run(
            [tool, "--format=custom", f"--file={work / 'raw.pgdump'}", f"--dbname={uri}"],
            env=env,
            check=True,
        )
        label = "bare pg_dump -Fc"
    return label, time.perf_counter() - started


def backup_figures(url: str, clients: int) -> str:
    from crm_core.backups.service import make_archive
    from crm_core.backups.verify import verify_archive
    from crm_core.config import get_settings

    with tempfile.TemporaryDirectory(prefix="callcard-bench-backup-") as tmp:
        work = Path(tmp)
        configure(url, work)
        label, raw = baseline_seconds(url, work)
        started = time.perf_counter()
        made = make_archive(get_settings())
        took = time.perf_counter() - started
        started = time.perf_counter()
        checked = verify_archive(made.path, url)
        verify = time.perf_counter() - started
        assert checked.ok, checked.detail
        backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
        return (
            f"| {backend} | {clients:,} | {made.manifest.total_rows:,} | "
            f"{database_size(url) / 1e6:,.0f} MB | {made.size / 1e6:,.0f} MB | {took:.1f} s | "
            f"{verify:.1f} s | {label} {raw:.1f} s |"
        )


def admin_token(url: str) -> str:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from crm_core.auth.models import User
    from crm_core.auth.security import hash_password
    from crm_core.auth.service import open_session
    from crm_core.database import make_engine

    engine = make_engine(url)
    with Session(engine) as db:
        user = db.scalar(select(User).where(User.username == "benchadmin"))
        if user is None:
            user = User(
                username="benchadmin",
                full_name="Bench admin",
                password_hash=hash_password("bench-password"),
                role="admin",
                language="en",
                is_active=True,
            )
            db.add(user)
            db.flush()
        token = open_session(db, user, "bearer", days=1)
        db.commit()
    engine.dispose()
    return token


class BackupsMeanwhile:
    """Runs backups back to back in the web server on ``port`` ("Run now") until stopped."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.stop = threading.Event()
        self.finished: list[dict] = []
        self.running: list[list[float]] = []  # [started, ended] by time.monotonic(), per backup
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import httpx

        with contextlib.suppress(httpx.HTTPError):  # the server stopped at the end
            self._loop()

    def _loop(self) -> None:
        import httpx

        popups.wait_port(self.port, 120)
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        while not self.stop.is_set():
            started = api.post("/api/backups/runs")
            if started.status_code != 202:
                self.stop.wait(0.5)
                continue
            run_id = started.json()["run_id"]
            self.running.append([time.monotonic(), float("inf")])
            while True:
                run = api.get(f"/api/backups/runs/{run_id}").json()
                if run["status"] != "running" and run["verification"] != "pending":
                    self.finished.append(run)
                    self.running[-1][1] = time.monotonic()
                    break
                time.sleep(0.3)

    def share_of(self, start: float, end: float) -> float:
        """The share of [start, end] during which a backup (or its verification) ran."""
        busy = sum(max(0.0, min(b, end) - max(a, start)) for a, b in self.running)
        return busy / (end - start)


def popup_figures(clients: int, rounds: int, calls: int) -> list[str]:
    import gc

    import uvloop

    url = popups.prepare_database(clients, 200)
    numbers = popups.known_numbers(url, calls)
    toks = popups.tokens(url, 200)
    token = admin_token(url)
    gc.collect()
    gc.freeze()
    rows = []
    with tempfile.TemporaryDirectory(prefix="callcard-bench-popups-") as tmp:
        configure(url, Path(tmp))
        for label in ("no backup (baseline)", "backups running"):
            port = popups.free_port()
            popups.free_port = lambda port=port: port  # run_mode's web server: on this port
            meanwhile = BackupsMeanwhile(port, token)
            if label != "no backup (baseline)":
                meanwhile.thread.start()
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                measure = popups.run_mode("embedded", url, toks, numbers, rounds, (1.0,))
                started = time.monotonic()
                results = runner.run(measure)
                ended = time.monotonic()
            meanwhile.stop.set()
            lat = [v for latencies, _, _ in results.values() for v in latencies]
            missing = sum(m for _, m, _ in results.values())
            rows.append(
                f"| {label} | {len(lat)}{f' ({missing} missing)' if missing else ''} | "
                f"{statistics.median(lat):.2f} | {popups.pct(lat, 99):.2f} | {max(lat):.2f} | "
                f"{len(meanwhile.running)} / {len(meanwhile.finished)} | "
                f"{meanwhile.share_of(started, ended):.0%} | {os.getloadavg()[0]:.1f} |"
            )
    return rows


def backup_table(clients: int, skip_postgresql: bool) -> None:
    from _crm_core import ensure_seeded, scratch_database

    print("| backend | clients | rows | database | archive | backup | verify | baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    url = popups.prepare_database(clients, 200)
    print(backup_figures(url, clients), flush=True)
    if not skip_postgresql:
        with scratch_database("postgresql") as (pg_url, _):
            ensure_seeded(pg_url, clients)
            print(backup_figures(pg_url, clients), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="popup rounds (100 calls each)")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--skip-postgresql", action="store_true")
    parser.add_argument("--skip-popups", action="store_true")
    parser.add_argument("--popups-only", action="store_true")
    args = parser.parse_args()
    from _crm_core import machine

    print(f"\n# backups - {time.strftime('%Y-%m-%d')} - {machine()} - {args.clients:,} clients\n")
    if not args.popups_only:
        backup_table(args.clients, args.skip_postgresql)
    if args.skip_popups:
        return
    print(f"\npopup latency (embedded web process, SQLite, {args.calls} calls arriving over 1 s,")
    print(f"{args.rounds} round(s)); target p99 <= 5 ms\n")
    print(
        "| while | samples | p50 ms | p99 ms | max ms | backups started / done meanwhile "
        "| time a backup ran | load |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in popup_figures(args.clients, args.rounds, args.calls):
        print(row, flush=True)


if __name__ == "__main__":
    main()

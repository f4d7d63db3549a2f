"""SMS throughput of ONE worker process: outbox rows -> claim -> Twilio (real ``twilio`` library)
-> the local Twilio simulator (its own process), rate limiting off. Baseline, same run, same
simulator: bare ``httpx`` POSTs of the same form (sequential, and from 8 threads).

    python3 bench/sms_throughput.py                 # PostgreSQL scratch DB, 3,000 SMS per mode
    python3 bench/sms_throughput.py --quick         # 600 SMS per mode
    python3 bench/sms_throughput.py --db sqlite     # SQLite scratch file

Modes: ``dispatcher`` (the claim-and-send code, in this process, as the embedded default and
every worker run it) and ``celery`` (one real ``celery worker --pool threads --concurrency 2``
process: two deliver tasks overlap their database work and sends; fed by a real
``celery beat``, Redis DB 3 as broker). The celery figure is measured from the enqueue (worker
and beat already running) to the moment the last row is recorded as accepted. Rates are given
per wall-clock second and per CPU-second of the sending process (the machine is shared).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ACCOUNT = "AC" + "0" * 32
TOKEN = "bench-token"
FROM = "+40312345678"
BROKER = "redis://127.0.0.1:6379/3"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sim() -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "notifier.simulator.twilio_api",
            "--port",
            str(port),
            "--auth-token",
            TOKEN,
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/_sim/stats", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("simulator did not start")


def sim_stats(url: str) -> dict:
    import httpx

    return httpx.get(f"{url}/_sim/stats", timeout=5).json()


def scratch_db(kind: str) -> tuple[str, callable]:
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench.db"
        return f"sqlite:///{path}", lambda: None
    name = f"notifier_engine_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        from crm_core import database

        for fn in (database.get_engine, database._factory):
            fn.cache_clear()
        with admin.connect() as conn:
            conn.execute(
                text(
                    f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='{name}'"
                )
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop


def env_for(db_url: str, sim_url: str) -> dict[str, str]:
    return {
        "CALLCARD_DATABASE_URL": db_url,
        "CALLCARD_SECRET_KEY": "bench",
        "CALLCARD_BUS_URL": "",
        "CALLCARD_SMS_CHANNEL": "twilio",
        "CALLCARD_TWILIO_ACCOUNT_SID": ACCOUNT,
        "CALLCARD_TWILIO_AUTH_TOKEN": TOKEN,
        "CALLCARD_TWILIO_FROM_NUMBER": FROM,
        "CALLCARD_TWILIO_BASE_URL": sim_url,
        "CALLCARD_PUBLIC_URL": "",
        "CALLCARD_SMS_RATE_PER_SECOND": "0",
        "CALLCARD_QUIET_HOURS_START": "0",
        "CALLCARD_QUIET_HOURS_END": "0",
        "CALLCARD_DISPATCH_BATCH_SIZE": "200",
        "CALLCARD_SEND_CONCURRENCY": "8",
        "CALLCARD_DISPATCH_INTERVAL_SECONDS": "0.5",
        "CALLCARD_CELERY_BROKER_URL": BROKER,
        "CALLCARD_REDIS_URL": "redis://127.0.0.1:6379/4",
    }


def enqueue(n: int, tag: str) -> None:
    from crm_core.database import session_scope
    from notifier.outbox.service import enqueue_many

    with session_scope() as db:
        enqueue_many(
            db,
            (
                {
                    "channel": "sms",
                    "recipient": f"+4072{i:07d}",
                    "body": f"Reminder {tag} {i}: your appointment is tomorrow at 10:00",
                    "idempotency_key": f"bench:{tag}:{i}",
                }
                for i in range(n)
            ),
        )


def accepted_rows() -> int:
    from sqlalchemy import func, select

    from crm_core.database import session_scope
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        return db.scalar(
            select(func.count()).where(OutboxMessage.status.in_(("queued", "sent", "delivered")))
        )


def bench_dispatcher(n: int) -> float:
    from callcard.settings import get_settings
    from notifier.outbox.dispatch import Dispatcher

    enqueue(n, "inproc")
    d = Dispatcher(get_settings())
    start, cpu = time.perf_counter(), time.process_time()
    stats = d.drain(timeout=600)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    d.close()
    assert stats.sent == n, stats
    return n / elapsed, n / cpu


def bench_celery(n: int, env: dict[str, str], workdir: Path) -> tuple[float, float]:
    import psutil
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    full_env = {**{k: v for k, v in os.environ.items() if not k.startswith("CALLCARD_")}, **env}
    full_env["PYTHONPATH"] = str(ROOT)
    log = open(workdir / "worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "callcard.worker", "worker", "--pool", "threads", "--concurrency", "2",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"],
        env=full_env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    beat = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "callcard.worker", "beat", "--schedule",
         str(workdir / "beat-schedule"), "--loglevel", "WARNING"],
        env=full_env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        # both running and the worker already executing beat's ticks: then the clock starts
        deadline = time.monotonic() + 90
        while b"claim_and_dispatch" not in (workdir / "worker.log").read_bytes():
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError((workdir / "worker.log").read_text()[-2000:])
            time.sleep(0.1)
        before = accepted_rows()
        proc = psutil.Process(worker.pid)
        cpu0 = sum(proc.cpu_times()[:2])
        start = time.perf_counter()
        enqueue(n, "celery")
        while accepted_rows() - before < n:
            if time.perf_counter() - start > 600:
                raise RuntimeError("celery run did not finish")
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        return n / elapsed, n / (sum(proc.cpu_times()[:2]) - cpu0)
    finally:
        for proc in (beat, worker):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, 9)
                proc.wait()
        log.close()
        redis.Redis.from_url(BROKER).flushdb()


def bench_raw(sim_url: str, n: int, threads: int, tag: str) -> tuple[float, float]:
    import httpx

    url = f"{sim_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"

    def post_many(count: int, offset: int) -> None:
        with httpx.Client(auth=(ACCOUNT, TOKEN)) as client:
            for i in range(count):
                r = client.post(
                    url,
                    data={
                        "To": f"+4073{offset + i:07d}",
                        "From": FROM,
                        "Body": f"{tag} {offset + i}",
                    },
                )
                assert r.status_code == 201

    start, cpu = time.perf_counter(), time.process_time()
    if threads == 1:
        post_many(n, 0)
    else:
        per = n // threads
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda k: post_many(per, k * per), range(threads)))
        n = per * threads
    return n / (time.perf_counter() - start), n / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--mode", choices=["both", "dispatcher", "celery"], default="both")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 600 if args.quick else args.messages
    print(
        f"{time.strftime('%Y-%m-%d %H:%M')} | {platform.python_version()} | "
        f"{os.cpu_count()} cores | load {os.getloadavg()[0]:.2f} | db {args.db} | {n} SMS per mode"
    )
    sim, sim_url = start_sim()
    db_url, drop = scratch_db(args.db)
    try:
        env = env_for(db_url, sim_url)
        os.environ.update(env)
        from callcard.schema import migrate
        from callcard.settings import get_settings

        get_settings.cache_clear()
        migrate(db_url)
        results = {}
        line = "{:48} {:7.0f} /s wall   {:7.0f} per CPU-second"
        if args.mode in ("both", "dispatcher"):
            results["dispatcher"] = bench_dispatcher(n)
            print(
                line.format("ours: claim+send, this process (dispatcher)", *results["dispatcher"])
            )
        if args.mode in ("both", "celery"):
            with tempfile.TemporaryDirectory() as tmp:
                results["celery"] = bench_celery(n, env, Path(tmp))
            print(line.format("ours: one celery worker process (+ beat)", *results["celery"]))
        print(line.format("baseline: bare httpx POSTs, 1 thread", *bench_raw(sim_url, n, 1, "a")))
        print(line.format("baseline: bare httpx POSTs, 8 threads", *bench_raw(sim_url, n, 8, "b")))
        stats = sim_stats(sim_url)
        print(f"simulator: {stats['accepted']} accepted, {stats['duplicates']} duplicates")
        worst = min(r[0] for r in results.values()) if results else 0
        print(
            f"target >= 300 SMS/s per worker process (wall): {'MET' if worst >= 300 else 'NOT MET'}"
        )
    finally:
        sim.terminate()
        sim.wait()
        drop()


if __name__ == "__main__":
    main()

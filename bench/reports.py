"""Reports over a large call log: server time of the report endpoints vs ``/healthz``.

Seeds N calls straight into ``calls`` (bulk inserts: 180 days, 30 operators, 4 queues, every
disposition), builds the per-hour figures with ``callcard reports rebuild``'s function (timed),
serves the real app with uvicorn in a child process, signs in as a manager and times sequential
requests over one keep-alive connection: the JSON call report for 7 and 30 days, the page for 30
days, and the XLSX export; the baseline is ``/healthz`` in the same run. Target: p95 <= 1 s.

    python3 bench/reports.py                  # 1,000,000 calls (SQLite file, reused later)
    python3 bench/reports.py --calls 200000   # a smaller log
    python3 bench/reports.py --db postgresql+psycopg://...  # another database
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
from _web import start_web_server  # noqa: E402
from pages import free_port, sign_in, summary, timed  # noqa: E402

DISPOSITIONS = ["answered"] * 7 + ["missed", "abandoned", "busy"]


def _user_ids(db) -> list[int]:
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.auth.service import create_user

    if db.scalar(select(User.id).where(User.username == "bench-admin")) is None:
        create_user(db, username="bench-admin", password="bench-password", role="manager")
    ids = []
    for n in range(30):
        name = f"bench-op{n}"
        found = db.scalar(select(User.id).where(User.username == name))
        if found is None:
            found = create_user(db, username=name, password="bench-password", team="Sales").id
        ids.append(found)
    db.commit()
    return ids


def _double(db, n: int) -> None:
    """Copy the calls until there are ``n``: each copy an hour or so later, a new Linkedid."""
    from sqlalchemy import text

    columns = (
        "direction, number, withheld, caller_name, did, queue, rang, answered_user_id, "
        "wait_s, ring_s, talk_s, transfers, disposition, recording, forwarded_to, "
        "voicemail_left, voicemail_file, note, ended_at, answered_at, created_at"
    )
    round_ = 0
    while (have := db.scalar(text("SELECT count(*) FROM calls"))) < n:
        round_ += 1
        db.execute(
            text(
                f"INSERT INTO calls (linkedid, started_at, {columns}) "
                f"SELECT linkedid || '-{round_}', "
                "strftime('%Y-%m-%d %H:%M:%f', started_at, '-' || (id % 7200) || ' seconds'), "
                f"{columns} FROM calls ORDER BY id LIMIT :room"
            ),
            {"room": n - have},
        )
        db.commit()


def seed_calls(url: str, n: int) -> None:
    """At least ``n`` calls in the log (bulk rows, no history), then the figures rebuilt."""
    from sqlalchemy import func, insert, select
    from sqlalchemy.orm import Session

    from callcard.schema import migrate
    from crm_core.database import make_engine
    from cti.calllog.models import Call
    from cti.daystats.service import rebuild

    migrate(url)
    engine = make_engine(url)
    with Session(engine) as db:
        operators = _user_ids(db)
        have = db.scalar(select(func.count(Call.id))) or 0
        if have < n:
            print(f"seeding {n - have:,} calls ...", flush=True)
            rng = random.Random(have + 1)
            now = datetime.now(UTC)
            started = time.perf_counter()
            # SQLite: 50,000 calls made here, then doubled in SQL (shifted in time) up to n
            made = min(n, have + 50_000) if url.startswith("sqlite") else n
            for start in range(have, made, 20_000):
                rows = []
                for i in range(start, min(made, start + 20_000)):
                    at = now - timedelta(seconds=rng.randint(0, 180 * 86400))
                    disposition = rng.choice(DISPOSITIONS)
                    answered = disposition == "answered"
                    wait = round(rng.uniform(0, 60), 3)
                    rows.append(
                        {"linkedid": f"bench.{i}", "direction": rng.choice(("inbound",) * 4 + ("outbound",)),
                         "queue": rng.choice(("sales", "support", "billing", "")), "rang": [],
                         "answered_user_id": rng.choice(operators) if answered else None,
                         "started_at": at, "ended_at": at + timedelta(seconds=90),
                         "answered_at": at + timedelta(seconds=wait) if answered else None,
                         "wait_s": wait, "talk_s": round(rng.uniform(10, 600), 3) if answered else 0.0,
                         "disposition": disposition, "transfers": []}
                    )  # fmt: skip
                db.execute(insert(Call), rows)
                db.commit()
            _double(db, n)
            print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        rows = rebuild(db)
        db.commit()
        print(f"rebuild of the per-hour figures: {rows:,} rows in "
              f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=60)
    ap.add_argument("--db", default="/tmp/callcard-bench/reports.db")
    args = ap.parse_args()
    url = args.db if "://" in args.db else f"sqlite:///{args.db}"
    if "://" not in args.db:
        Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    seed_calls(url, args.calls)
    port = free_port()
    server = start_web_server(port, {"CALLCARD_DATABASE_URL": url, "CALLCARD_BUS_URL": ""})
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            sign_in(http, "bench-admin")
            n = args.requests
            cases = {
                "/healthz (baseline)": ["/healthz"] * n,
                "/api/reports/calls 7 days": ["/api/reports/calls?period=7d"] * n,
                "/api/reports/calls 30 days": ["/api/reports/calls?period=30d"] * n,
                "/reports page 30 days": ["/reports?period=30d"] * n,
                "/reports/export.xlsx 30 days": ["/reports/export.xlsx?report=calls&period=30d"]
                * max(10, n // 3),
            }
            print(f"{args.calls:,} calls, {url}")
            for name, paths in cases.items():
                timed(http, paths[:3])  # warm-up
                print(f"{name:32s} {summary(timed(http, paths))}", flush=True)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()

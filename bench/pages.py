"""Client list and client card pages: server time over HTTP at 1,000,000 clients.

Seeds the clients with ``crm_core.seed.seed_clients`` (kept in a file and reused by later
runs), serves the real app with uvicorn on a free local port in a child process, signs in
through the login form like a browser and times sequential requests over one keep-alive
connection. The baseline is ``/healthz`` (one ``SELECT 1``) over the same HTTP path, measured
in the same run. Target: p95 <= 150 ms for the list and the card.

    python3 bench/pages.py                   # 1,000,000 clients (seeding takes minutes once)
    python3 bench/pages.py --quick           # 20,000 clients, fewer requests
    python3 bench/pages.py --db /path/x.db   # another database file (SQLite)
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from _web import start_web_server  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, n: int) -> tuple[int, list[int], list[str]]:
    """At least ``n`` clients and the bench users; returns (count, sample ids, sample cities)."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from callcard.schema import migrate
    from crm_core.auth.models import User
    from crm_core.auth.service import create_user
    from crm_core.clients.models import Address, Client
    from crm_core.database import make_engine
    from crm_core.seed import seed_clients

    migrate(url)
    engine = make_engine(url)
    with Session(engine) as db:
        have = db.scalar(select(func.count(Client.id))) or 0
    if have < n:
        print(f"seeding {n - have:,} clients into {url} ...", flush=True)
        started = time.perf_counter()
        last = [0.0]

        def progress(done: int) -> None:
            if time.perf_counter() - last[0] > 10:
                last[0] = time.perf_counter()
                print(f"  {done:,} clients", flush=True)

        seed_clients(url, n - have, progress, seed=have + 1)
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    with Session(engine) as db:
        count = db.scalar(select(func.count(Client.id))) or 0
        top = db.scalar(select(func.max(Client.id))) or 1
        rng = random.Random(5)
        ids = [rng.randint(1, top) for _ in range(400)]
        cities = list(
            db.scalars(select(Address.city).where(Address.city != "").distinct().limit(20))
        )
        for name, role, team in (("bench-admin", "admin", None), ("bench-op", "operator", "Sales")):
            if db.scalar(select(User.id).where(User.username == name)) is None:
                create_user(
                    db,
                    username=name,
                    password="bench-password",
                    role=role,
                    team=team,
                    extension=None,
                )
        db.commit()
    engine.dispose()
    return count, ids, cities  # cities: none in the seed (it writes no addresses)


def start_server(url: str, port: int) -> subprocess.Popen:
    return start_web_server(port, {"CALLCARD_DATABASE_URL": url, "CALLCARD_BUS_URL": ""})


def sign_in(http: httpx.Client, username: str) -> None:
    page = http.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = http.post(
        "/login",
        data={"username": username, "password": "bench-password", "csrf_token": token, "next": "/"},
    )
    assert r.status_code == 303, r.text


def timed(http: httpx.Client, paths: list[str], budget: float = 1e9) -> list[float]:
    """Milliseconds per request; stops early once ``budget`` seconds are spent (slow cases)."""
    out = []
    deadline = time.perf_counter() + budget
    for path in paths:
        if out and time.perf_counter() > deadline:
            break
        started = time.perf_counter()
        r = http.get(path)
        out.append((time.perf_counter() - started) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path}: HTTP {r.status_code}")
    return out


def summary(ms: list[float]) -> str:
    ms = sorted(ms)
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    return f"p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  max {ms[-1]:6.1f} ms  (n={len(ms)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=150)
    ap.add_argument("--db", default="/tmp/callcard-bench/pages-1m.db")
    ap.add_argument("--budget", type=float, default=30.0, help="seconds at most per line")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.requests = 20_000, 40
        args.db = "/tmp/callcard-bench/pages-quick.db"
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{args.db}"
    count, ids, cities = prepare(url, args.clients)
    port = free_port()
    proc = start_server(url, port)
    print(
        f"\n{count:,} clients, SQLite, load average {os.getloadavg()[0]:.1f} at start, "
        f"{args.requests} sequential requests per line (at most {args.budget:g} s each)\n"
    )
    try:
        rows = []
        for user in ("bench-op", "bench-admin"):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                sign_in(http, user)
                timed(http, ["/healthz", "/clients", f"/clients/{ids[0]}"] * 3)  # warm up
                n = args.requests
                rng = random.Random(9)
                cases = [
                    ("baseline /healthz", ["/healthz"] * n),
                    ("client list, first page", ["/clients"] * n),
                    ("  same query as JSON API", ["/api/clients?page_size=50"] * n),
                    (
                        "client list, page 2..200",
                        [f"/clients?page={rng.randint(2, 200)}" for _ in range(n)],
                    ),
                    ("client list, category=partner", ["/clients?category=partner"] * n),
                    (
                        "client list, lead, newest first",
                        ["/clients?status=lead&sort=-created_at"] * n,
                    ),
                    ("client list, newest first", ["/clients?sort=-created_at"] * n),
                    ("client card (random id)", [f"/clients/{rng.choice(ids)}" for _ in range(n)]),
                    (
                        "  same card as JSON API",
                        [f"/api/clients/{rng.choice(ids)}" for _ in range(n)],
                    ),
                    ("worst: filter matching nobody", ["/clients?category=nosuch"] * 5),
                ]
                if user == "bench-op":  # an operator sees their team's and unassigned clients:
                    # a random id may belong to another team (404 page); use visible ones
                    cards = visible_cards(http, ids, n)
                    cases[-3] = ("client card (random id)", cards)
                    cases[-2] = (
                        "  same card as JSON API",
                        [c.replace("/clients", "/api/clients") for c in cards],
                    )
                for label, paths in cases:
                    ms = timed(http, paths, args.budget)
                    rows.append((user, label, summary(ms)))
                    print(f"{user:12} {label:28} {rows[-1][2]}", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)


def visible_cards(http: httpx.Client, ids: list[int], n: int) -> list[str]:
    ok = []
    for cid in ids:
        if http.get(f"/clients/{cid}").status_code == 200:
            ok.append(f"/clients/{cid}")
        if len(ok) >= 40:
            break
    return [ok[i % len(ok)] for i in range(n)]


if __name__ == "__main__":
    main()

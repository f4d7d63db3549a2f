"""Administration screens and the call log: server time over HTTP with many calls and audit rows.

Bulk-inserts calls and audit entries (kept in the database file and reused by later runs),
serves the real app with uvicorn in a child process, signs in through the login form and
times sequential requests over one keep-alive connection: ``/admin/users``, ``/admin/audit``
(unfiltered, filtered, a deep page) and ``/calls`` (last 7 days by default, filtered, as a
manager and as an operator), against ``/healthz`` measured in the same run. Target: p95 <= 150 ms.

    python3 bench/admin_screens.py                         # 200,000 calls, 1,000,000 audit rows
    python3 bench/admin_screens.py --calls 1000000 --audit 5000000   # the issue's scale
    python3 bench/admin_screens.py --url postgresql+psycopg://...    # another database
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from _web import start_web_server  # noqa: E402
from pages import free_port, sign_in, summary, timed  # noqa: E402

BATCH = 20_000
DISPOSITIONS = ["answered"] * 7 + ["missed", "abandoned", "busy"]
QUEUES = ["", "", "sales", "support", "billing"]


def seed_people(db) -> tuple[list[int], list[int], list[str]]:
    """Teams, 200 users (the bench users among them) and 2,000 clients; returns their ids."""
    from sqlalchemy import select

    from crm_core.auth.models import User
    from crm_core.auth.service import create_user, get_or_create_team
    from crm_core.clients.models import Client

    teams = [get_or_create_team(db, name).id for name in ("Sales", "Support", "Billing")]
    for name, role, team in (("bench-admin", "admin", None), ("bench-op", "operator", "Sales")):
        if db.scalar(select(User.id).where(User.username == name)) is None:
            create_user(db, username=name, password="bench-password", role=role, team=team)
    if (db.scalar(select(User.id).where(User.username == "op-199"))) is None:
        hashed = db.scalar(select(User.password_hash).where(User.username == "bench-op"))
        for i in range(200):
            db.add(
                User(
                    username=f"op-{i}",
                    full_name=f"Operator {i}",
                    password_hash=hashed,
                    role="operator",
                    team_id=teams[i % 3],
                    extension=str(200 + i),
                    timezone="Europe/Bucharest" if i % 2 else None,
                )
            )
        for i in range(2_000):
            db.add(
                Client(display_name=f"Client {i}", first_name=f"Client {i}", team_id=teams[i % 3])
            )
    db.flush()
    users = list(db.scalars(select(User.id).where(User.username.like("op-%"))))
    clients = list(db.scalars(select(Client.id)))
    return users, clients, [str(200 + i) for i in range(200)]


def _count(db, table) -> int:
    from sqlalchemy import func, select

    return db.scalar(select(func.count()).select_from(table)) or 0


def seed_calls(engine, n: int, users: list[int], clients: list[int], exts: list[str]) -> None:
    from sqlalchemy import insert

    from cti.calllog.models import Call

    rng = random.Random(11)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        have = _count(conn, Call.__table__)
        rows = []
        for i in range(have, n):
            start = now - timedelta(seconds=rng.randint(0, 365 * 86400))
            disposition = rng.choice(DISPOSITIONS)
            answered = disposition == "answered"
            k = rng.randrange(200)
            wait, talk = rng.uniform(1, 60), rng.uniform(20, 600) if answered else 0.0
            rows.append(
                dict(
                    linkedid=f"bench-{i}",
                    direction=rng.choice(("inbound", "inbound", "outbound")),
                    number=f"+4072{i:07d}",
                    e164=f"+4072{i:07d}",
                    withheld=False,
                    caller_name="",
                    did="0213100100",
                    queue=rng.choice(QUEUES),
                    rang=[exts[k]],
                    answered_extension=exts[k] if answered else None,
                    answered_user_id=users[k] if answered else None,
                    team_id=None,
                    started_at=start,
                    answered_at=start + timedelta(seconds=wait) if answered else None,
                    ended_at=start + timedelta(seconds=wait + talk),
                    wait_s=wait,
                    ring_s=wait,
                    talk_s=talk,
                    transfers=[],
                    disposition=disposition,
                    recording="",
                    forwarded_to="",
                    voicemail_left=False,
                    voicemail_s=None,
                    voicemail_file="",
                    client_id=rng.choice(clients) if rng.random() < 0.7 else None,
                    note="",
                    created_at=start,
                )
            )
            if len(rows) >= BATCH:
                conn.execute(insert(Call.__table__), rows)
                rows.clear()
        if rows:
            conn.execute(insert(Call.__table__), rows)


def seed_audit(engine, n: int, users: list[int]) -> None:
    from sqlalchemy import insert

    from crm_core.audit.models import AuditEntry

    rng = random.Random(12)
    start = datetime.now(UTC) - timedelta(days=730)
    with engine.begin() as conn:
        have = _count(conn, AuditEntry.__table__)
        rows = []
        step = 730 * 86400 / max(n, 1)
        for i in range(have, n):
            entity = rng.choice(("client", "client", "client", "task", "interaction", "user"))
            rows.append(
                dict(
                    at=start + timedelta(seconds=i * step),
                    actor_id=rng.choice(users),
                    action=rng.choice(("update", "update", "update", "create", "delete")),
                    entity=entity,
                    entity_id=str(rng.randint(1, 200_000)),
                    changes={"comment": [f"old {i}", f"new {i}"], "status": ["lead", "active"]},
                )
            )
            if len(rows) >= BATCH:
                conn.execute(insert(AuditEntry.__table__), rows)
                rows.clear()
        if rows:
            conn.execute(insert(AuditEntry.__table__), rows)


def prepare(url: str, calls: int, audit: int) -> tuple[int, int, str]:
    from sqlalchemy.orm import Session

    from callcard.schema import migrate
    from crm_core.database import make_engine

    migrate(url)
    engine = make_engine(url)
    with Session(engine) as db:
        users, clients, exts = seed_people(db)
        db.commit()
    started = time.perf_counter()
    seed_calls(engine, calls, users, clients, exts)
    seed_audit(engine, audit, users)
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            from sqlalchemy import text

            conn.execute(text("ANALYZE"))
    print(f"seeded/checked in {time.perf_counter() - started:.0f} s", flush=True)
    with Session(engine) as db:
        from crm_core.audit.models import AuditEntry
        from cti.calllog.models import Call

        n_calls, n_audit = _count(db, Call.__table__), _count(db, AuditEntry.__table__)
    engine.dispose()
    return n_calls, n_audit, str(users[3])


def deep_audit_page(http: httpx.Client, query: str, pages: int) -> str:
    """The URL of page ``pages`` of the audit with ``query`` (following "Older" links)."""
    import re

    path = f"/admin/audit?{query}"
    for _ in range(pages):
        found = re.search(r'rel="next" href="([^"]+)"', http.get(path).text)
        if not found:
            break
        path = found[1].replace("&amp;", "&")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200_000)
    ap.add_argument("--audit", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=60)
    ap.add_argument("--url", default="")
    ap.add_argument("--budget", type=float, default=30.0, help="seconds at most per line")
    args = ap.parse_args()
    url = args.url
    if not url:
        path = Path(f"/tmp/callcard-bench/admin-{args.calls}-{args.audit}.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    n_calls, n_audit, actor = prepare(url, args.calls, args.audit)
    port = free_port()
    proc = start_web_server(port, {"CALLCARD_DATABASE_URL": url, "CALLCARD_BUS_URL": ""})
    backend = url.split(":", 1)[0]
    print(
        f"\nscale: {n_calls:,} calls, {n_audit:,} audit rows, 200 users; {backend}; load average "
        f"{os.getloadavg()[0]:.1f}; {args.requests} sequential requests per line\n"
    )
    n = args.requests
    try:
        for user in ("bench-admin", "bench-op"):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                sign_in(http, user)
                timed(http, ["/healthz", "/calls"] * 3)
                cases = [("baseline /healthz", ["/healthz"] * n)]
                if user == "bench-admin":
                    deep = deep_audit_page(http, "", 20)
                    cases += [
                        ("/admin/users", ["/admin/users"] * n),
                        ("/admin/audit (newest)", ["/admin/audit"] * n),
                        ("/admin/audit page 21", [deep] * n),
                        (f"/admin/audit user={actor}", [f"/admin/audit?user_id={actor}"] * n),
                        (
                            "/admin/audit client updates",
                            ["/admin/audit?entity=client&action=update"] * n,
                        ),
                        (
                            "/admin/audit one record",
                            ["/admin/audit?entity=client&entity_id=4242"] * n,
                        ),
                        (
                            "/admin/audit a month ago",
                            [f"/admin/audit?since={_ago(37)}&until={_ago(30)}"] * n,
                        ),
                    ]
                cases += [
                    ("/calls (last 7 days)", ["/calls"] * n),
                    (
                        "/calls missed, queue=support",
                        ["/calls?disposition=missed&queue=support"] * n,
                    ),
                    ("/calls extension=205", ["/calls?extension=205"] * n),
                    (
                        "/calls a month, inbound",
                        [f"/calls?since={_ago(30)}&direction=inbound"] * max(5, n // 4),
                    ),
                ]
                for label, paths in cases:
                    ms = timed(http, paths, args.budget)
                    print(f"{user:12} {label:32} {summary(ms)}", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).date().isoformat()


if __name__ == "__main__":
    main()

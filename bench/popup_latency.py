"""Popup latency: from the ringing event's bytes leaving the AMI socket to the popup frame arriving
at the operator's websocket client.

Setup: N clients in a SQLite database (default 1,000,000, seeded once with crm_core.seed and kept
under /tmp/callcard-bench), 200 operators with extensions and open websockets, and bursts of 100
calls ringing at once (each to a different operator, callers drawn from the client base) played by
the AMI replay server over real TCP.

Two arrival patterns: all 100 ringing events written in the same millisecond (a worst-case
burst: the last popup waits for the 99 before it) and 100 calls starting over one second (still
all ringing at once, since each rings 3 s).

- embedded: one web process with the CTI inside (in-process bus) - target p99 <= 5 ms;
- redis: `callcard cti` as its own process, popups over Redis pub/sub to a web process - target
  p99 <= 15 ms.

The replay server and the 200 websocket clients live in this process, so both ends of the
measurement read the same monotonic clock. The time is taken just before the ringing event is
written to the AMI socket and just after the popup frame is read from the websocket.

Baseline printed beside it (same database, same process): the caller lookup by E.164 (indexed,
what the popup does) against the `LIKE '%digits%'` scan peers use.

    python3 bench/popup_latency.py            # full: 1M clients (seeding takes a few minutes once)
    python3 bench/popup_latency.py --quick    # smoke: 20k clients, 1 round
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS_URL = "redis://127.0.0.1:6379/10"  # CTI-B's bench DB
BENCH_DIR = Path("/tmp/callcard-bench")
CLI = "from callcard.cli import app; app()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return values[k]


# --------------------------------------------------------------------------- database


def prepare_database(n_clients: int, operators: int) -> str:
    from sqlalchemy import func, select, text

    from callcard.schema import migrate
    from crm_core.auth.models import User
    from crm_core.auth.security import hash_password
    from crm_core.clients.models import Client
    from crm_core.database import make_engine
    from crm_core.seed import seed_clients

    BENCH_DIR.mkdir(exist_ok=True)
    path = BENCH_DIR / f"popups-{n_clients}.db"
    url = f"sqlite:///{path}"
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        have = conn.scalar(select(func.count(Client.id)))
    if have < n_clients:
        from rich.progress import Progress

        print(f"seeding {n_clients - have:,} clients into {path} (once) ...", flush=True)
        with Progress() as progress:
            task = progress.add_task("clients", total=n_clients - have)
            seed_clients(url, n_clients - have, lambda k: progress.update(task, completed=k))
    with engine.begin() as conn:
        existing = conn.scalar(select(func.count(User.id)).where(User.username.like("benchop%")))
        if existing < operators:
            conn.execute(text("DELETE FROM auth_sessions"))
            conn.execute(text("DELETE FROM users WHERE username LIKE 'benchop%'"))
            digest = hash_password("bench-password")
            conn.execute(
                User.__table__.insert(),
                [
                    {
                        "username": f"benchop{i}",
                        "full_name": f"Operator {i}",
                        "password_hash": digest,
                        "role": "operator",
                        "extension": str(1000 + i),
                        "language": "en",
                        "is_active": True,
                    }
                    for i in range(operators)
                ],
            )
    engine.dispose()
    return url


def tokens(url: str, operators: int) -> dict[str, str]:
    """A bearer token per operator extension."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from crm_core.auth.models import User
    from crm_core.auth.service import open_session
    from crm_core.database import make_engine

    engine = make_engine(url)
    out = {}
    with Session(engine) as db:
        for user in db.scalars(select(User).where(User.username.like("benchop%"))):
            out[user.extension] = open_session(db, user, "bearer", days=1)
        db.commit()
    engine.dispose()
    return out


def known_numbers(url: str, k: int) -> list[str]:
    from sqlalchemy import text

    from crm_core.database import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        top = conn.scalar(text("SELECT max(id) FROM client_phones"))
        import random

        rng = random.Random(7)
        ids = rng.sample(range(1, top + 1), k * 2)
        rows = conn.execute(
            text(f"SELECT e164 FROM client_phones WHERE id IN ({','.join(map(str, ids))})")
        ).scalars()
        numbers = list(dict.fromkeys(rows))[:k]
    engine.dispose()
    return numbers


def lookup_baseline(url: str, numbers: list[str]) -> dict[str, float]:
    """Per-lookup time: indexed E.164 caller card vs. a LIKE '%digits%' scan."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from crm_core.clients.lookup import caller_card
    from crm_core.database import make_engine

    engine = make_engine(url)
    with Session(engine) as db:
        caller_card(db, numbers[0])  # warm
        t = time.perf_counter()
        for number in numbers:
            assert caller_card(db, number) is not None
        indexed = (time.perf_counter() - t) / len(numbers)
        sample = numbers[:3]
        t = time.perf_counter()
        for number in sample:
            digits = number[-9:]
            db.execute(
                text("SELECT client_id FROM client_phones WHERE number LIKE :p LIMIT 5"),
                {"p": f"%{digits}%"},
            ).all()
        like = (time.perf_counter() - t) / len(sample)
    engine.dispose()
    return {"indexed_ms": indexed * 1000, "like_ms": like * 1000}


def inprocess_cost(url: str, numbers: list[str]) -> dict[str, float]:
    """CPU time per call in one process, no sockets: tracker + lookup + popup on the in-process
    bus (what the listener spends per ringing call), and the tracker alone."""
    from callcard.settings import get_settings
    from crm_core import config, database
    from crm_core.bus import InProcessBus
    from cti.popups import CallPopups
    from cti.simulator.calls import CallFactory
    from cti.tracker.tracker import CallTracker

    os.environ["CALLCARD_DATABASE_URL"] = url
    config.get_settings.cache_clear()
    database.forget_engines()
    factory = CallFactory(seed=3)
    timelines = [
        factory.make("direct_answered", number=(n, ""), extension=str(1000 + i % 200))[1]
        for i, n in enumerate(numbers)
    ]
    events = [dict(f) for tl in timelines for t, f in tl if t < 1]  # up to the ringing
    popups = CallPopups(InProcessBus(), log_calls=False)
    popups.directory.reload()
    tracker = CallTracker(get_settings(), on_event=popups.on_event)
    started = time.perf_counter()
    for event in events:
        tracker.feed(event)
    with_popups = (time.perf_counter() - started) / len(numbers)
    bare = CallTracker(get_settings())
    started = time.perf_counter()
    for event in events:
        bare.feed(dict(event))
    tracker_only = (time.perf_counter() - started) / len(numbers)
    popups.close()
    lookup = statistics.median(popups.lookup_seconds)
    return {"per_call_ms": with_popups * 1000, "tracker_ms": tracker_only * 1000,
            "lookup_ms": lookup * 1000}  # fmt: skip


# --------------------------------------------------------------------------- the run


class TimedReplay:
    """The AMI replay server, noting when each call's ringing event is written to the socket."""

    def __init__(self) -> None:
        from cti.simulator.server import AmiReplayServer

        self.sent: dict[str, float] = {}
        self.triggers: dict[int, str] = {}  # id(fields) -> linkedid
        outer = self

        class Server(AmiReplayServer):
            def broadcast(self, fields):  # type: ignore[override]
                linkedid = outer.triggers.get(id(fields))
                if linkedid is not None:
                    outer.sent[linkedid] = time.monotonic()
                super().broadcast(fields)

        self.server = Server(username="bench", secret="bench-secret", speed=1.0)


def ringing_trigger(timeline) -> int:
    """Index of the event after which the tracker reports the ringing."""
    from callcard.settings import Settings
    from cti.tracker.tracker import CallTracker

    fired: list[int] = []
    index = 0

    def on_event(kind, call, ext):
        if kind == "ringing" and not fired:
            fired.append(index)

    tracker = CallTracker(Settings(), on_event=on_event)
    for index, (_, fields) in enumerate(timeline):  # noqa: B007 - read by on_event
        tracker.feed(dict(fields))
        if fired:
            return fired[0]
    raise RuntimeError("the synthetic call never rang")


async def run_mode(
    mode: str,
    url: str,
    toks: dict[str, str],
    numbers: list[str],
    rounds: int,
    spreads: tuple[float, ...] = (0.0, 1.0),
) -> dict[float, tuple[list[float], int, float]]:
    """Per arrival spread (0 = every call in the same ms): latencies (ms), missing popups and the
    CPU seconds the Callcard processes spent (whole calls: ring, answer, end, call log)."""
    import redis
    from websockets.asyncio.client import connect

    replay = TimedReplay()
    await replay.server.start()
    env = dict(os.environ)
    env.update(
        {
            "CALLCARD_DATABASE_URL": url,
            "CALLCARD_SECRET_KEY": "bench-secret-key",
            "CALLCARD_SIMULATOR": "false",
            "CALLCARD_AMI_HOST": "127.0.0.1",
            "CALLCARD_AMI_PORT": str(replay.server.port),
            "CALLCARD_AMI_USERNAME": "bench",
            "CALLCARD_AMI_SECRET": "bench-secret",
            "CALLCARD_BUS_URL": "",
        }
    )
    web_port = free_port()
    procs: list[subprocess.Popen] = []
    uvicorn = [
        sys.executable, "-m", "uvicorn", "callcard.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(web_port), "--log-level", "warning",
        "--ws-ping-interval", "0",
    ]  # fmt: skip
    if mode == "redis":
        redis.Redis.from_url(REDIS_URL).flushdb()
        web_env = dict(env, CALLCARD_BUS_URL=REDIS_URL, CALLCARD_AMI_HOST="")
        cti_env = dict(env, CALLCARD_BUS_URL=REDIS_URL)
        procs.append(subprocess.Popen(uvicorn, env=web_env, cwd=ROOT))
        procs.append(subprocess.Popen([sys.executable, "-c", CLI, "cti"], env=cti_env, cwd=ROOT))
    else:
        procs.append(subprocess.Popen(uvicorn, env=env, cwd=ROOT))
    results: dict[float, tuple[list[float], int, float]] = {}
    try:
        wait_port(web_port)
        deadline = time.monotonic() + 30
        while replay.server.logins < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("the CTI never logged in to the replay server")
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # resync done
        arrived: dict[str, float] = {}
        sockets = []
        for _ext, token in sorted(toks.items()):
            ws = await connect(f"ws://127.0.0.1:{web_port}/ws?token={token}", ping_interval=None)
            json.loads(await ws.recv())
            sockets.append(ws)

        async def reader(ws):
            async for raw in ws:
                now = time.monotonic()
                if '"call.ringing"' in raw:
                    arrived.setdefault(json.loads(raw)["call_id"], now)

        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        extensions = sorted(toks)
        import psutil

        watched = [psutil.Process(proc.pid) for proc in procs]

        def cpu_seconds() -> float:
            return sum(sum(p.cpu_times()[:2]) for p in watched)

        for spread, r in [(sp, r) for sp in spreads for r in range(rounds)]:
            latencies, missing, cpu = results.setdefault(spread, ([], 0, 0.0))
            cpu_before = cpu_seconds()
            calls = []
            for i, number in enumerate(numbers):
                ext = extensions[(i * 2 + r) % len(extensions)]
                linkedid, timeline = replay.server.factory.make(
                    "direct_answered", number=(number, ""), extension=ext, ring_s=3.0, talk_s=1.0
                )
                replay.triggers[id(timeline[ringing_trigger(timeline)][1])] = linkedid
                calls.append((linkedid, timeline))
            step = spread / len(calls)
            for k, (_, timeline) in enumerate(calls):  # all ring together (ring_s 3 > spread)
                shifted = [(t + k * step, fields) for t, fields in timeline]
                replay.server._spawn(replay.server.play_call(shifted))
            deadline = time.monotonic() + 20 + spread
            ids = [lid for lid, _ in calls]
            while time.monotonic() < deadline and not all(lid in arrived for lid in ids):
                await asyncio.sleep(0.01)
            for lid in ids:
                if lid in arrived and lid in replay.sent:
                    latencies.append((arrived[lid] - replay.sent[lid]) * 1000)
                    if os.environ.get("POPUP_TRACE"):
                        print(f"TRACE {spread} {r} {replay.sent[lid]:.4f} {latencies[-1]:.2f}")
                else:
                    missing += 1
            await asyncio.sleep(5.0)  # let the round's calls end (their CPU counts too)
            results[spread] = (latencies, missing, cpu + cpu_seconds() - cpu_before)
        for task in readers:
            task.cancel()
        for ws in sockets:
            await ws.close()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        await replay.server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1_000_000)
    parser.add_argument("--operators", type=int, default=200)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mode", choices=["embedded", "redis", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="20k clients, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.rounds = 20_000, 1
    url = prepare_database(args.clients, args.operators)
    numbers = known_numbers(url, args.calls)
    toks = tokens(url, args.operators)
    base = lookup_baseline(url, numbers)
    cost = inprocess_cost(url, numbers)
    load_before = os.getloadavg()[0]
    print(
        f"\n# popup latency - {time.strftime('%Y-%m-%d')} - {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"{args.clients:,} clients (SQLite), {len(toks)} operator websockets, "
        f"{len(numbers)} calls ringing at once x {args.rounds} round(s)\n"
    )
    print(
        "| path | 100 calls start | samples | p50 ms | p99 ms | max ms | target p99 "
        "| server CPU ms per call |"
    )
    print("|---|---|---:|---:|---:|---:|---|---:|")
    import gc

    import uvloop

    # the measuring side's own full collections (its heap holds the whole setup) would stop the
    # websocket readers and the replay server and count as latency: freeze what is loaded,
    # as the server processes do (crm_core.services.started_up)
    gc.collect()
    gc.freeze()
    modes = ["embedded", "redis"] if args.mode == "both" else [args.mode]
    targets = {"embedded": "<= 5 ms", "redis": "<= 15 ms"}
    for mode in modes:
        # uvloop on this side too (as in the server processes): the 200 websocket clients and
        # the replay server share this process, and its own delays would count as latency
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            results = runner.run(run_mode(mode, url, toks, numbers, args.rounds))
        for spread, (lat, missing, cpu) in results.items():
            note = f" ({missing} missing)" if missing else ""
            when = "in the same ms" if spread == 0 else f"over {spread:g} s"
            per_call = cpu * 1000 / (len(lat) + missing)
            print(
                f"| {mode} | {when} | {len(lat)}{note} | {statistics.median(lat):.2f} | "
                f"{pct(lat, 99):.2f} | {max(lat):.2f} | {targets[mode]} | {per_call:.2f} |",
                flush=True,
            )
    print(
        f"\nbaseline (same DB, this process): caller lookup by indexed E.164 "
        f"{base['indexed_ms']:.3f} ms; LIKE '%digits%' scan {base['like_ms']:.1f} ms per call"
    )
    print(
        f"in-process cost per ringing call (no sockets): {cost['per_call_ms']:.2f} ms "
        f"(tracker alone {cost['tracker_ms']:.3f} ms, card lookup median "
        f"{cost['lookup_ms']:.3f} ms)"
    )
    print(
        f"machine load average (1 min): {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()

"""Wall fan-out: 20 wall screens and 200 operator pages connected while 100 calls are replayed.

Production topology on one machine: the web process (uvicorn, real app, SQLite) in a child
process, the Redis bus between it and the "CTI" (this script publishes the CTI's events for
100 overlapping calls: ``wall.call`` ringing/answered/ended, ``call.ringing``/``answered``/
``ended`` popups to the operator, ``operator.state``), and 220 websockets in this process.

Measured:

- wall update delay: from publishing a ``wall.call`` event to the first ``wall.counters``
  snapshot that includes it, on each of the 20 wall screens (target p99 <= 250 ms);
- popup delay: from publishing ``call.ringing`` to its arrival on the operator's page;
- baseline: the same events' trip through Redis pub/sub alone, to a plain subscriber in this
  process, in the same run.

The browsers run in their own processes (the walls in one, the operator pages in three, the
plain subscriber in one), apart from the publisher, so that the delays are not those of one
overloaded client loop. A private ``redis-server`` on a free port is started for the run (Redis pub/sub channels are
shared by all database numbers, so the shared server would mix these events with others').

    python3 bench/wall_fanout.py           # 20 walls, 200 operators, 100 calls at 10 calls/s
    python3 bench/wall_fanout.py --quick   # 4 walls, 20 operators, 20 calls
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
from _web import start_web_server  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

CHANNEL = "callcard:events:0"  # crm_core.bus.channel_for("redis://.../0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int, workdir: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            workdir,
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def prepare(url: str, operators: int, walls: int) -> tuple[list[tuple[int, str, str]], list[str]]:
    """Operators (id, extension, bearer token) and wall tokens."""
    from sqlalchemy.orm import Session

    from callcard.schema import migrate
    from crm_core.auth.principal import SYSTEM
    from crm_core.auth.service import create_user, open_session
    from crm_core.database import make_engine
    from dashboard.wall.tokens import create_wall_token

    migrate(url)
    engine = make_engine(url)
    out, wall_tokens = [], []
    with Session(engine) as db:
        for i in range(operators):
            ext = str(2000 + i)
            user = create_user(
                db,
                username=f"op{i}",
                password="bench-password",
                team="Sales",
                extension=ext,
                full_name=f"Operator {i}",
            )
            out.append((user.id, ext, open_session(db, user, "bearer")))
        for i in range(walls):
            wall_tokens.append(create_wall_token(db, SYSTEM, label=f"TV {i}").token)
        db.commit()
    engine.dispose()
    return out, wall_tokens


def start_server(url: str, port: int, bus_url: str) -> subprocess.Popen:
    env = {"CALLCARD_DATABASE_URL": url, "CALLCARD_BUS_URL": bus_url, "CALLCARD_REDIS_URL": bus_url}
    return start_web_server(port, env, "--ws-ping-interval", "0")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(len(values) * q)) - 1))]


def line(label: str, ms: list[float]) -> str:
    if not ms:
        return f"{label:34} no samples"
    return (
        f"{label:34} p50 {statistics.median(ms):6.1f} ms  p99 {pct(ms, 0.99):6.1f} ms  "
        f"max {max(ms):6.1f} ms  (n={len(ms)})"
    )


def client_process(kind, port, tokens, bus_url, ready, stop, out) -> None:
    """One process of browsers (walls or operator pages) or the plain Redis subscriber, so that
    receiving is never delayed by the publisher or by too many sockets in one loop."""
    asyncio.run(_clients(kind, port, tokens, bus_url, ready, stop, out))


async def _clients(kind, port, tokens, bus_url, ready, stop, out) -> None:
    samples: list = []
    connected = 0

    async def wall_screen(token: str) -> None:
        nonlocal connected
        async with connect(f"ws://127.0.0.1:{port}/ws?token={token}", max_queue=None) as ws:
            connected += 1
            seen: set = set()
            async for raw in ws:
                now = time.time()
                msg = json.loads(raw)
                if msg.get("type") != "wall.counters":
                    continue
                for event_kind, key, phase in msg.get("events", []):
                    if event_kind == "wall.call" and (key, phase) not in seen:
                        seen.add((key, phase))
                        samples.append((key, phase, now))

    async def operator_page(token: str) -> None:
        nonlocal connected
        async with connect(f"ws://127.0.0.1:{port}/ws?token={token}", max_queue=None) as ws:
            connected += 1
            async for raw in ws:
                now = time.time()
                msg = json.loads(raw)
                if msg.get("type") == "call.ringing" and "bench_t" in msg:
                    samples.append((now - msg["bench_t"]) * 1000)

    async def subscriber() -> None:
        nonlocal connected
        client = aioredis.Redis.from_url(bus_url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)
        connected += 1
        async for raw in pubsub.listen():
            now = time.time()
            msg = json.loads(raw["data"])
            if msg.get("type") == "wall.call" and "bench_t" in msg:
                samples.append((now - msg["bench_t"]) * 1000)

    if kind == "base":
        tasks = [asyncio.create_task(subscriber())]
        expected = 1
    else:
        run_one = wall_screen if kind == "wall" else operator_page
        tasks = [asyncio.create_task(run_one(t)) for t in tokens]
        expected = len(tokens)
    while connected < expected:
        await asyncio.sleep(0.05)
    ready.set()
    while not stop.is_set():
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    out.put((kind, samples))


async def replay(bus_url: str, ops, calls: int, rate: float) -> tuple[dict, float]:
    """Publish the CTI's events of ``calls`` overlapping calls; returns when each was sent."""
    published: dict[tuple[str, str], float] = {}
    bus = aioredis.Redis.from_url(bus_url)

    async def publish(message: dict, key: tuple[str, str] | None = None) -> None:
        message["bench_t"] = time.time()
        if key is not None:
            published[key] = message["bench_t"]
        await bus.publish(CHANNEL, json.dumps(message))

    async def one_call(i: int) -> None:
        user_id, ext, _ = ops[i % len(ops)]
        call_id = f"bench-{i}"
        wall = {
            "type": "wall.call",
            "audience": ["wall"],
            "call_id": call_id,
            "direction": "inbound",
            "queue": "support",
            "extensions": [ext],
        }
        me = [f"user:{user_id}"]
        started = time.time()
        await publish(
            {
                "type": "call.ringing",
                "audience": me,
                "sticky": f"call:{call_id}",
                "call_id": call_id,
                "extension": ext,
                "number": "+40721000000",
                "card": None,
                "known": False,
            }
        )
        await publish({**wall, "phase": "ringing", "started_at": started}, (call_id, "ringing"))
        await publish(
            {
                "type": "operator.state",
                "audience": ["wall", *me],
                "extension": ext,
                "user_id": user_id,
                "state": "ringing",
            }
        )
        await asyncio.sleep(1.0)
        await publish(
            {
                "type": "call.answered",
                "audience": me,
                "sticky": f"call:{call_id}",
                "call_id": call_id,
                "extension": ext,
                "by_me": True,
            }
        )
        await publish({**wall, "phase": "answered", "answered_by": ext}, (call_id, "answered"))
        await publish(
            {
                "type": "operator.state",
                "audience": ["wall", *me],
                "extension": ext,
                "user_id": user_id,
                "state": "in_call",
            }
        )
        await asyncio.sleep(2.0)
        await publish(
            {
                "type": "call.ended",
                "audience": me,
                "sticky": f"call:{call_id}",
                "final": True,
                "call_id": call_id,
                "disposition": "answered",
                "talk_s": 2.0,
            }
        )
        await publish(
            {
                **wall,
                "phase": "ended",
                "answered_by": ext,
                "disposition": "answered",
                "wait_s": 1.0,
                "talk_s": 2.0,
                "started_at": started,
            },
            (call_id, "ended"),
        )
        await publish(
            {
                "type": "operator.state",
                "audience": ["wall", *me],
                "extension": ext,
                "user_id": user_id,
                "state": "available",
            }
        )

    started = time.perf_counter()
    running = []
    for i in range(calls):
        running.append(asyncio.create_task(one_call(i)))
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*running)
    elapsed = time.perf_counter() - started
    await bus.aclose()
    return published, elapsed


def run(port: int, bus_url: str, ops, walls, calls: int, rate: float, processes: int) -> dict:
    ctx = mp.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    op_tokens = [t for _, _, t in ops]
    groups = [("wall", walls), ("base", [])]
    per = max(1, -(-len(op_tokens) // processes))
    groups += [("op", op_tokens[i : i + per]) for i in range(0, len(op_tokens), per)]
    procs, readies = [], []
    for kind, tokens in groups:
        ready = ctx.Event()
        proc = ctx.Process(
            target=client_process, args=(kind, port, tokens, bus_url, ready, stop, out)
        )
        proc.start()
        procs.append(proc)
        readies.append(ready)
    for ready in readies:
        if not ready.wait(60):
            raise SystemExit("browsers did not connect")
    time.sleep(1.0)
    published, elapsed = asyncio.run(replay(bus_url, ops, calls, rate))
    time.sleep(1.5)  # the last updates
    stop.set()
    results: dict[str, list] = {"wall": [], "op": [], "base": []}
    for _ in procs:
        kind, samples = out.get(timeout=60)
        results[kind].extend(samples)
    for proc in procs:
        proc.join(10)
    wall_ms = [
        (at - published[(key, phase)]) * 1000
        for key, phase, at in results["wall"]
        if (key, phase) in published
    ]
    return {
        "wall": wall_ms,
        "popup": results["op"],
        "base": results["base"],
        "expected": calls * 3 * len(walls),
        "elapsed": elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--walls", type=int, default=20)
    ap.add_argument("--operators", type=int, default=200)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--rate", type=float, default=10.0, help="new calls per second")
    ap.add_argument("--processes", type=int, default=3, help="processes for operator pages")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.walls, args.operators, args.calls = 4, 20, 20
    workdir = tempfile.mkdtemp(prefix="callcard-wall-bench-")
    redis_port, web_port = free_port(), free_port()
    redis_proc = start_redis(redis_port, workdir)
    bus_url = f"redis://127.0.0.1:{redis_port}/0"
    url = f"sqlite:///{workdir}/bench.db"
    web = None
    try:
        ops, walls = prepare(url, args.operators, args.walls)
        web = start_server(url, web_port, bus_url)
        print(
            f"{args.walls} wall screens + {args.operators} operator pages connected, "
            f"{args.calls} calls at {args.rate:g}/s (each: ringing, answered 1 s later, "
            f"ended 2 s after that); load average {os.getloadavg()[0]:.1f} at start\n"
        )
        result = run(web_port, bus_url, ops, walls, args.calls, args.rate, args.processes)
        print(
            line(
                "wall update delay (20 screens)" if args.walls == 20 else "wall update delay",
                result["wall"],
            )
        )
        print(
            f"{'':34} {len(result['wall'])} of {result['expected']} call events seen on the walls"
        )
        print(line("popup delay (operator pages)", result["popup"]))
        print(line("baseline: Redis pub/sub alone", result["base"]))
        print(f"\nreplay lasted {result['elapsed']:.1f} s")
    finally:
        if web is not None:
            web.terminate()
            web.wait(10)
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

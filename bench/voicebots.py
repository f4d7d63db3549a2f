"""Voice bots: how many automated calls the FastAGI server and the Twilio webhooks carry.

Figures (each next to its baseline, measured in this same process):
1. TwiML rendering (``render_step``) per second vs. a hand-written f-string of the same XML;
2. FastAGI: complete reminder calls (header block, 6 AGI commands, outcome written to the
   outbox message and the client's history on SQLite) per second with N calls at once, vs. the
   same AGI dialogue against a bare ``panoramisk.fast_agi`` route that touches no database;
3. Twilio webhooks: signed first-prompt + key-press pairs per second through the app
   (signature check, outcome recorded) vs. the app's ``/healthz``.

    python3 bench/voicebots.py            # 600 calls, 20 at once
    python3 bench/voicebots.py --quick    # smoke: 60 calls
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = "bench-auth-token"
PUBLIC = "https://crm.example.com"


def setup_database(tmp: Path) -> str:
    url = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["CALLCARD_DATABASE_URL"] = url
    os.environ["CALLCARD_SECRET_KEY"] = "bench"
    os.environ["CALLCARD_TWILIO_AUTH_TOKEN"] = TOKEN
    os.environ["CALLCARD_PUBLIC_URL"] = PUBLIC
    os.environ["CALLCARD_EMBEDDED_DISPATCHER"] = "false"
    from callcard.schema import migrate
    from callcard.settings import get_settings

    get_settings.cache_clear()
    migrate(url)
    return url


def make_calls(n: int, script: str = "reminder", tag: str = "") -> list[int]:
    from crm_core.clients.models import Client
    from crm_core.database import session_scope
    from voicebots.service import enqueue_call

    ids = []
    with session_scope() as db:
        for i in range(n):
            client = Client(kind="person", first_name=f"Client{i}", display_name=f"Client {i}")
            db.add(client)
            db.flush()
            ids.append(
                enqueue_call(
                    db,
                    script=script,
                    recipient=f"+4072{2000000 + i:07d}",
                    idempotency_key=f"bench-{tag}-{script}-{i}",
                    client_id=client.id,
                    language="ro",
                ).id
            )
    return ids


def bench_twiml(rounds: int) -> None:
    from voicebots.scripts import SCRIPTS
    from voicebots.twiml import render_step

    script = SCRIPTS["reminder"]
    values = {"name": "Ana", "company": "Dental Plus", "body": "Mâine la 10:00."}

    def gather_url(step: str, attempt: int) -> str:
        return f"{PUBLIC}/api/voice/reminder/1/gather?step={step}&amp;attempt={attempt}"

    start = time.perf_counter()
    for _ in range(rounds):
        render_step(script, "start", language="ro", values=values, gather_url=gather_url)
    ours = rounds / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(rounds):
        (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="ro-RO" '
            f'voice="Polly.Carmen">Bună ziua {values["name"]}. {values["body"]}</Say><Gather '
            f'action="{gather_url("start", 1)}" actionOnEmptyResult="true" input="dtmf" '
            'method="POST" numDigits="1" timeout="6"><Say language="ro-RO" '
            'voice="Polly.Carmen">Apăsați 1</Say></Gather></Response>'
        )
    base = rounds / (time.perf_counter() - start)
    print(f"TwiML render_step:            {ours:10.0f} /s   baseline f-string: {base:10.0f} /s")


async def agi_call(port: int, script: str, message_id: int, key: str) -> tuple[float, int]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"agi_network: yes\nagi_network_script: {script}\nagi_channel: PJSIP/trunk-1\n"
        f"agi_uniqueid: bench.{message_id}\nagi_arg_1: {message_id}\n\n"
    )
    writer.write(head.encode())
    commands = 0
    while True:
        line = await reader.readline()
        if not line:
            break
        commands += 1
        reply = f"200 result={key}" if line.startswith(b"GET DATA") else "200 result=0"
        writer.write(f"{reply}\n".encode())
        await writer.drain()
    writer.close()
    return time.perf_counter() - started, commands


async def run_calls(port: int, script: str, ids: list[int], concurrency: int):
    gate = asyncio.Semaphore(concurrency)

    async def one(message_id: int):
        async with gate:
            return await agi_call(port, script, message_id, "1")

    start = time.perf_counter()
    results = await asyncio.gather(*(one(i) for i in ids))
    return time.perf_counter() - start, results


async def bench_agi(n: int, concurrency: int) -> None:
    from panoramisk.fast_agi import Application

    from voicebots.agi import FastAgiServer

    ids = make_calls(n, tag="agi")
    server = FastAgiServer("127.0.0.1", 0)
    await server.start()
    try:
        elapsed, results = await run_calls(server.port, "reminder", ids, concurrency)
    finally:
        await server.stop()
    assert all(c == 6 for _, c in results), "a call did not run to its end"
    latencies = sorted(t for t, _ in results)

    # baseline: the same dialogue on a bare panoramisk route, no database
    async def bare(request):
        for command in (
            "ANSWER",
            'SET VARIABLE "CHANNEL(language)" "ro"',
            "EXEC Playback callcard/reminder-intro",
            "GET DATA callcard/reminder-ask 6000 1",
            "EXEC Playback callcard/reminder-confirmed",
            "HANGUP",
        ):
            await request.send_command(command)

    app = Application(loop=asyncio.get_running_loop())
    app.add_route("reminder", bare)
    raw = await asyncio.start_server(app.handler, "127.0.0.1", 0)
    try:
        port = raw.sockets[0].getsockname()[1]
        base_elapsed, base_results = await run_calls(port, "reminder", ids, concurrency)
    finally:
        raw.close()
        await raw.wait_closed()
    base_lat = sorted(t for t, _ in base_results)
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    bp95 = base_lat[int(len(base_lat) * 0.95) - 1]
    print(
        f"FastAGI reminder calls ({n}, {concurrency} at once): {n / elapsed:8.0f} calls/s, "
        f"p50 {statistics.median(latencies) * 1000:6.1f} ms, p95 {p95 * 1000:6.1f} ms"
    )
    print(
        f"  baseline bare panoramisk route:          {n / base_elapsed:8.0f} calls/s, "
        f"p50 {statistics.median(base_lat) * 1000:6.1f} ms, p95 {bp95 * 1000:6.1f} ms"
    )
    check_outcomes(ids, "asterisk")


def check_outcomes(ids: list[int], via: str) -> None:
    from sqlalchemy import select

    from crm_core.database import session_scope
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        rows = db.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        done = [r for r in rows if (r.meta.get("voice") or {}).get("via") == via]
    assert len(done) == len(ids), f"{len(ids) - len(done)} outcomes missing"
    print(f"  outcomes recorded: {len(done)}/{len(ids)}")


def bench_webhooks(n: int) -> None:
    from fastapi.testclient import TestClient
    from twilio.request_validator import RequestValidator

    from callcard.app import create_app

    ids = make_calls(n, tag="web")
    validator = RequestValidator(TOKEN)

    def post(client, path: str, params: dict[str, str]):
        signature = validator.compute_signature(PUBLIC + path, params)
        r = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        assert r.status_code == 200, r.text

    with TestClient(create_app()) as client:
        start = time.perf_counter()
        for message_id in ids:
            path = f"/api/voice/reminder/{message_id}"
            post(client, path, {"CallSid": f"CA{message_id}"})
            post(client, f"{path}/gather?step=start&attempt=1", {"Digits": "1"})
        ours = n / (time.perf_counter() - start)
        start = time.perf_counter()
        for _ in ids:
            client.get("/healthz")
            client.get("/healthz")
        base = n / (time.perf_counter() - start)
    print(
        f"Twilio webhook call (2 requests): {ours:8.0f} calls/s   baseline 2x /healthz: {base:8.0f} /s"
    )
    check_outcomes(ids, "twilio")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    calls = 60 if args.quick else args.calls
    import logging

    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        setup_database(Path(tmp))
        print(f"voicebots bench: {calls} calls, Python {sys.version.split()[0]}, SQLite")
        bench_twiml(2000 if args.quick else 20000)
        asyncio.run(bench_agi(calls, args.concurrency))
        bench_webhooks(calls // 2)


if __name__ == "__main__":
    main()

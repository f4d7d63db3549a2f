"""CTI listener throughput and memory.

1. In process: our parse + call tracking of a synthetic AMI stream (PJSIP-style calls, ~20
   events each), next to the baseline of panoramisk 1.4 *only parsing* the same bytes
   (``AMIProtocol.data_received`` with an empty dispatch), same run, same chunking (64 KiB).
2. Over real TCP: the AMI replay server in a child process blasts the stream to the real
   ``AmiListener`` in this process; events/s from login to the last event.
3. Memory: RSS of this (listener) process before and after ``--calls`` synthetic calls over TCP,
   with samples on the way, plus what the tracker still holds (must be nothing).

    python3 bench/ami_throughput.py            # full: 20,000 calls in process, 100,000 over TCP
    python3 bench/ami_throughput.py --quick    # smoke run

Prints wall-clock rates and CPU-time rates (this machine is shared: CPU time is the steadier
figure) and the load average at start.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing as mp
import os
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from crm_core.config import Settings  # noqa: E402
from cti.ami import FrameParser  # noqa: E402
from cti.simulator.calls import CallFactory, synthetic_stream  # noqa: E402
from cti.simulator.server import AmiReplayServer  # noqa: E402
from cti.tracker.tracker import CallTracker  # noqa: E402

CHUNK = 65536
DONE = b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: BenchDone\r\n\r\n"


def _chunks(data: bytes):
    for i in range(0, len(data), CHUNK):
        yield data[i : i + CHUNK]


def in_process(calls: int) -> dict:
    data = synthetic_stream(calls, seed=11)
    settings = Settings()

    # ours: incremental parse + tracker
    gc.collect()
    ended = 0

    def on_event(kind, call, ext):
        nonlocal ended
        if kind == "ended":
            ended += 1

    tracker = CallTracker(settings, on_event=on_event)
    parser = FrameParser()
    w0, c0 = time.perf_counter(), time.process_time()
    events = 0
    for chunk in _chunks(data):
        for msg in parser.feed(chunk):
            events += 1
            tracker.feed(msg)
    ours_wall, ours_cpu = time.perf_counter() - w0, time.process_time() - c0
    assert ended == calls, (ended, calls)

    # ours: parse only
    parser = FrameParser()
    w0, c0 = time.perf_counter(), time.process_time()
    for chunk in _chunks(data):
        parser.feed(chunk)
    parse_wall, parse_cpu = time.perf_counter() - w0, time.process_time() - c0

    # baseline: panoramisk's own parsing of the same bytes
    from panoramisk.ami_protocol import AMIProtocol

    class Factory:
        save_stream = None
        count = 0

        def dispatch(self, message):
            self.count += 1

    protocol = AMIProtocol()
    protocol.queue = deque()
    protocol.version = None
    protocol.responses = {}
    protocol.factory = Factory()
    protocol.encoding = "utf8"
    protocol.log = logging.getLogger("bench.panoramisk")
    w0, c0 = time.perf_counter(), time.process_time()
    for chunk in _chunks(data):
        protocol.data_received(chunk)
    base_wall, base_cpu = time.perf_counter() - w0, time.process_time() - c0
    assert protocol.factory.count == events, (protocol.factory.count, events)
    return {
        "calls": calls,
        "events": events,
        "bytes": len(data),
        "ours_parse_track": (events / ours_wall, events / ours_cpu),
        "ours_parse": (events / parse_wall, events / parse_cpu),
        "panoramisk_parse": (events / base_wall, events / base_cpu),
    }


# ---------------------------------------------------------------------------------- TCP


def _blaster(port_conn, calls: int, batch: int, pregenerate: bool) -> None:
    """Child process: an AMI replay server that sends ``calls`` synthetic calls at full speed.

    ``pregenerate``: make all the bytes before accepting the listener (throughput run); else
    generate batch by batch while sending (memory run: 100,000 calls do not fit in memory).
    """
    factory = CallFactory(seed=7)
    ready = []
    if pregenerate:
        done = 0
        while done < calls:
            n = min(batch, calls - done)
            ready.append(synthetic_stream(n, factory=factory))
            done += n

    async def main():
        server = AmiReplayServer(seed=5)
        await server.start()
        port_conn.send(server.port)
        while not any(s.authenticated for s in server.sessions):
            await asyncio.sleep(0.01)
        (session,) = [s for s in server.sessions if s.authenticated]
        await asyncio.sleep(0.3)  # let the listener's resync finish
        port_conn.send("start")
        sent = 0
        for data in ready:
            session.send(data)
            await session.writer.drain()
        while not ready and sent < calls:
            n = min(batch, calls - sent)
            session.send(synthetic_stream(n, factory=factory))
            await session.writer.drain()
            sent += n
        session.send(DONE)
        await session.writer.drain()
        while server.sessions:
            await asyncio.sleep(0.05)
        await server.stop()

    asyncio.run(main())


async def over_tcp(calls: int, pregenerate: bool, samples: int = 5) -> dict:
    from cti.listener import AmiListener

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_blaster, args=(child, calls, 500, pregenerate), daemon=True)
    proc.start()
    port = parent.recv()
    me = psutil.Process(os.getpid())
    done = asyncio.Event()
    ended = 0
    rss_samples: list[tuple[int, float]] = []
    every = max(calls // samples, 1)

    def on_event(kind, call, ext):
        nonlocal ended
        if kind == "ended":
            ended += 1
            if ended % every == 0:
                rss_samples.append((ended, me.memory_info().rss / 2**20))

    def on_raw(msg):
        if msg.get("userevent") == "BenchDone":
            done.set()

    settings = Settings(
        ami_host="127.0.0.1", ami_port=port, ami_username="crm", ami_secret="secret"
    )
    listener = AmiListener(settings, on_event=on_event, on_raw_event=on_raw, ping_interval=3600)
    gc.collect()
    rss_before = me.memory_info().rss / 2**20
    await listener.start()
    await listener.wait_logged_in(20)
    await asyncio.get_running_loop().run_in_executor(None, parent.recv)  # "start"
    events0 = listener.tracker.events_seen
    w0, c0 = time.perf_counter(), time.process_time()
    await asyncio.wait_for(done.wait(), 3600)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    events = listener.tracker.events_seen - events0
    live_calls = len(listener.tracker.calls)
    live_channels = len(listener.tracker._channels)
    await listener.stop()
    gc.collect()
    rss_after = me.memory_info().rss / 2**20
    proc.join(30)
    return {
        "calls": calls,
        "ended": ended,
        "events": events,
        "rate_wall": events / wall,
        "rate_cpu": events / cpu,
        "rss_before_mib": rss_before,
        "rss_after_mib": rss_after,
        "rss_samples": rss_samples,
        "live_calls": live_calls,
        "live_channels": live_channels,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small smoke run")
    ap.add_argument("--calls", type=int, default=None, help="calls over TCP (memory run)")
    args = ap.parse_args()
    in_calls = 1000 if args.quick else 20_000
    tcp_calls = 1000 if args.quick else 5_000
    memory_calls = args.calls or (2000 if args.quick else 100_000)
    load = os.getloadavg()
    print(
        f"# AMI throughput ({time.strftime('%Y-%m-%d %H:%M')}, load average {load[0]:.1f}, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]})"
    )
    r = in_process(in_calls)
    print(
        f"\n## in process: {r['calls']} calls, {r['events']} events, {r['bytes'] / 2**20:.1f} MiB"
    )
    print("| path | events/s (wall) | events/s (CPU time) |")
    print("|---|---:|---:|")
    for key, name in (
        ("ours_parse_track", "ours: incremental parse + call tracking"),
        ("ours_parse", "ours: incremental parse only"),
        ("panoramisk_parse", "baseline: panoramisk 1.4 parse only"),
    ):
        wall, cpu = r[key]
        print(f"| {name} | {wall:,.0f} | {cpu:,.0f} |")
    t = asyncio.run(over_tcp(tcp_calls, pregenerate=True))
    print(
        f"\n## over TCP into the AmiListener: {t['calls']} calls, {t['events']} events "
        "(bytes made before the clock starts)"
    )
    print(
        f"events/s: {t['rate_wall']:,.0f} wall, {t['rate_cpu']:,.0f} per CPU second of the "
        f"listener process; calls ended {t['ended']}"
    )
    m = asyncio.run(over_tcp(memory_calls, pregenerate=False))
    print(
        f"\n## memory: {m['calls']:,} calls over TCP ({m['events']:,} events, "
        f"made while sending: {m['rate_wall']:,.0f} events/s wall)"
    )
    print(
        f"listener RSS: {m['rss_before_mib']:.1f} MiB before, {m['rss_after_mib']:.1f} MiB after; "
        f"calls ended {m['ended']:,}, still tracked {m['live_calls']} calls / "
        f"{m['live_channels']} channels"
    )
    print(
        "RSS samples (calls ended -> MiB): "
        + ", ".join(f"{n:,} -> {mb:.1f}" for n, mb in m["rss_samples"])
    )


if __name__ == "__main__":
    main()

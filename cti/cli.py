"""``callcard`` subcommands of the CTI part."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from cti.simulator.server import AmiReplayServer


def ami_replay(
    transcripts: list[Path] = typer.Argument(
        None, help="Recorded .ami transcripts (or scenario .json files) to replay, in order"
    ),
    port: int = typer.Option(5038, help="TCP port to listen on (127.0.0.1)"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    speed: float = typer.Option(
        1.0, help="Replay speed: 1 = recorded pacing, 10 = ten times faster"
    ),
    loop: bool = typer.Option(False, help="Start the recordings again (as new calls) when done"),
    synthetic: float = typer.Option(
        0.0, help="Also generate synthetic calls at this many calls per second"
    ),
    calls: int = typer.Option(
        0, help="Stop making synthetic calls after this many (0 = no limit)", min=0
    ),
    numbers: list[str] = typer.Option(
        None, "--number", help="Caller numbers for synthetic calls (repeat the option)"
    ),
    username: str = typer.Option("crm", help="AMI user the server accepts"),
    secret: str = typer.Option("secret", help="AMI secret the server accepts"),
) -> None:
    """Run an AMI server that replays recorded Asterisk transcripts and/or makes up calls."""
    for path in transcripts or []:
        if not path.exists():
            raise typer.BadParameter(f"{path} does not exist", param_hint="TRANSCRIPT")
    if not transcripts and synthetic <= 0:
        raise typer.BadParameter(
            "give transcripts to replay or --synthetic RATE", param_hint="TRANSCRIPT"
        )
    if speed < 0:
        raise typer.BadParameter("must be 0 (as fast as possible) or more", param_hint="--speed")
    typer.echo(
        f"AMI replay server on {host}:{port} (user {username!r}); "
        f"{len(transcripts or [])} transcript(s), {synthetic:g} synthetic calls/s. Ctrl+C stops."
    )
    from cti.simulator.calls import SyntheticConfig
    from cti.simulator.server import AmiReplayServer
    from cti.simulator.transcripts import scripts_for

    config = SyntheticConfig()
    if numbers:
        config.numbers = numbers
    server = AmiReplayServer(
        scripts_for(transcripts or []),
        host=host,
        port=port,
        username=username,
        secret=secret,
        speed=speed,
        loop=loop,
        synthetic_rate=synthetic,
        synthetic_calls=calls or None,
        synthetic=config,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_interrupted(server))


async def _serve_until_interrupted(server: AmiReplayServer) -> None:
    await server.start()
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def cti(ctx: typer.Context) -> None:
    """Run the CTI listener as its own process (production): AMI -> popups on the Redis bus.

    Reads CALLCARD_AMI_HOST/_PORT/_USERNAME/_SECRET and CALLCARD_BUS_URL. Only one listener per
    PBX runs: a second `callcard cti` waits on the Redis lock and takes over when the first dies.
    """
    from crm_core.cli import require_schema
    from cti.config import get_settings

    settings = get_settings()
    if not settings.ami_host:
        raise typer.BadParameter("set CALLCARD_AMI_HOST (and _PORT, _USERNAME, _SECRET)")
    if not settings.bus_url:
        raise typer.BadParameter(
            "set CALLCARD_BUS_URL=redis://...: a separate CTI process reaches the web processes "
            "only through the Redis bus (the embedded default runs the CTI inside `serve`)"
        )
    require_schema(ctx)
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=_loop_factory()) as r:
        r.run(_run_cti(settings))


def _loop_factory():
    """uvloop when installed (it comes with uvicorn[standard], as in the web processes)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


async def _run_cti(settings) -> None:
    import signal

    from crm_core.bus import get_bus
    from crm_core.services import prefer_latency, started_up
    from cti.runtime import CtiService

    prefer_latency()
    bus = get_bus()
    await bus.start()
    service = CtiService(settings, bus)
    await service.start()
    started_up()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await service.stop()
        await bus.stop()


def register(app: typer.Typer) -> None:
    app.command("ami-replay")(ami_replay)
    app.command("cti")(cti)

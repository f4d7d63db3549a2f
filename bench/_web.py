"""The real app served by uvicorn in a child process, for the HTTP and websocket benches."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def start_web_server(port: int, env: dict[str, str], *extra_args: str) -> subprocess.Popen:
    """Start ``callcard.app:create_app`` on ``port`` with ``env`` over the current environment
    and wait until ``/healthz`` answers (60 s at most)."""
    full_env = {
        **os.environ,
        "CALLCARD_SECRET_KEY": "bench-secret-key-0123456789",
        "CALLCARD_AMI_HOST": "",
        "CALLCARD_SIMULATOR": "false",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "callcard.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            *extra_args,
        ],  # fmt: skip
        env=full_env,
        cwd=str(ROOT),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")

"""PostgreSQL: ``pg_dump --format=custom`` of one exported snapshot, counts, restore.

The row counts of the manifest are read in the very snapshot pg_dump dumps (a REPEATABLE READ
transaction exports it, pg_dump runs with ``--snapshot``), so they match the dump exactly
while operators keep writing. pg_dump must be at least the server's major version: the tool is
looked for on PATH and under ``/usr/lib/postgresql/*/bin``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable
from contextlib import closing, suppress
from glob import glob
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url

DUMP_NAME = "database.pgdump"


class ToolMissing(RuntimeError):
    """No suitable pg_dump / pg_restore / psql on this machine."""


def libpq(url: str | URL) -> tuple[str, dict[str, str]]:
    """(connection URI without the password, environment with PGPASSWORD) for the tools."""
    parsed = make_url(url) if isinstance(url, str) else url
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def connect(url: str | URL, **kwargs) -> psycopg.Connection:
    uri, env = libpq(url)
    return psycopg.connect(uri, password=env.get("PGPASSWORD"), **kwargs)


def server_major(url: str) -> int:
    with closing(connect(url)) as conn:
        return conn.info.server_version // 10000


def _major(executable: str) -> int:
    out = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True)
    found = re.search(r"(\d+)(?:\.\d+)?", out.stdout)
    return int(found.group(1)) if found else 0


def find_tool(name: str, server: int) -> str:
    """The ``name`` tool of the server's major version, else the newest newer one."""
    candidates = [
        p for p in (shutil.which(name), *sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))) if p
    ]
    usable = sorted({(_major(p), p) for p in candidates if os.access(p, os.X_OK)})
    for major, path in usable:
        if major == server:
            return path
    newer = [path for major, path in usable if major > server]
    if newer:
        return newer[-1]
    found = ", ".join(f"{p} ({m})" for m, p in usable) or "none"
    raise ToolMissing(
        f"{name} {server} or newer is needed for this PostgreSQL {server} server; found: {found}. "
        f"Install postgresql-client-{server}."
    )


def _tables(cur) -> list[str]:
    cur.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    )
    return [row[0] for row in cur.fetchall()]


def counts_and_revision(cur) -> tuple[dict[str, int], str | None]:
    counts: dict[str, int] = {}
    for name in _tables(cur):
        cur.execute(f'SELECT count(*) FROM "{name}"')
        counts[name] = cur.fetchone()[0]
    revision = None
    if "alembic_version" in counts:
        cur.execute("SELECT version_num FROM alembic_version LIMIT 1")
        row = cur.fetchone()
        revision = row[0] if row else None
    return counts, revision


def _watch(dest: Path, progress: Callable[[int, int], None], total: int) -> threading.Event:
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.5):
            with suppress(OSError):
                progress(dest.stat().st_size, total)

    threading.Thread(target=run, name="pg-dump-progress", daemon=True).start()
    return stop


def dump(
    url: str, dest: Path, progress: Callable[[int, int], None] | None = None
) -> tuple[dict[str, int], str | None]:
    """Dump the database to ``dest``; returns (rows per table, schema revision) of the snapshot."""
    tool = find_tool("pg_dump", server_major(url))
    uri, env = libpq(url)
    with closing(connect(url)) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        cmd = [tool, "--format=custom", "--compress=0", "--no-owner", "--no-privileges"]
        cmd += [f"--snapshot={snapshot}", f"--file={dest}", f"--dbname={uri}"]
        proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
        stop = _watch(dest, progress, size) if progress else None
        try:
            with conn.cursor() as cur:
                counts, revision = counts_and_revision(cur)
            _, errors = proc.communicate()
        finally:
            if stop is not None:
                stop.set()
            if proc.poll() is None:
                proc.kill()
        conn.execute("COMMIT")
    if proc.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {errors.strip()[-2000:]}")
    return counts, revision


def restore_into(url: str, dump_file: Path, *, clean: bool) -> None:
    """Load ``dump_file`` into the database at ``url`` in ONE transaction; with ``clean`` its
    schema is emptied first in that transaction, so a failure leaves the database as it was."""
    server = server_major(url)
    pg_restore, psql = find_tool("pg_restore", server), find_tool("psql", server)
    uri, env = libpq(url)
    script = subprocess.Popen(
        [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert script.stdout is not None
    prelude = b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n" if clean else b""
    loader = subprocess.Popen(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", f"--dbname={uri}"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert loader.stdin is not None
    try:
        loader.stdin.write(prelude)
        shutil.copyfileobj(script.stdout, loader.stdin, 1024 * 1024)
        loader.stdin.close()
    except BrokenPipeError:
        pass
    script_errors = script.stderr.read() if script.stderr else b""
    script.wait()
    load_errors = loader.stderr.read() if loader.stderr else b""
    loader.wait()
    if script.returncode != 0 or loader.returncode != 0:
        detail = (load_errors or script_errors or b"").decode("utf-8", "replace").strip()
        raise RuntimeError(f"restoring the dump failed: {detail[-2000:]}")


def create_scratch(url: str) -> str:
    """A new empty database beside the live one; returns its URL (drop it with :func:`drop`)."""
    name = f"callcard_verify_{uuid.uuid4().hex[:12]}"
    with closing(connect(url, autocommit=True)) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop(url: str, scratch_url: str) -> None:
    name = make_url(scratch_url).database
    if not name or not name.startswith("callcard_verify_"):
        raise ValueError(f"refusing to drop {name!r}: not a scratch database")
    with closing(connect(url, autocommit=True)) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def scratch_counts(scratch_url: str) -> tuple[dict[str, int], str | None]:
    with closing(connect(scratch_url)) as conn, conn.cursor() as cur:
        return counts_and_revision(cur)

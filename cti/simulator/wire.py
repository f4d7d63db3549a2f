"""AMI bytes as the simulated PBX writes them."""

from __future__ import annotations

import os
import random
import time

BANNER = "Asterisk Call Manager/11.0.0"


def render(fields: dict[str, str], extra: dict[str, str] | None = None) -> bytes:
    """AMI bytes of one message (``Event``/``Response`` first, as Asterisk writes them).

    ``extra`` lines go right after the first one (a ``Timestamp``, as Asterisk puts it).
    """
    lines = [f"{k}: {v}" for k, v in fields.items()]
    if extra:
        lines[1:1] = [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def with_stamp(raw: bytes, stamp: dict[str, str] | None) -> bytes:
    """Recorded bytes of one message with the ``Timestamp`` line added after its first line."""
    if not stamp:
        return raw
    first, sep, rest = raw.partition(b"\r\n")
    extra = "".join(f"{k}: {v}\r\n" for k, v in stamp.items()).encode()
    return first + sep + extra + rest


def with_action_id(raw: bytes, recorded: str | None, client: str) -> bytes:
    """Recorded answer bytes carrying the client's ActionID instead of the recorded one."""
    if not recorded:
        return raw
    return raw.replace(f"ActionID: {recorded}\r\n".encode(), f"ActionID: {client}\r\n".encode())


def timestamp(at: float | None = None) -> dict[str, str]:
    """A ``Timestamp`` line (Asterisk's ``timestampevents=yes``): ``at``, or now."""
    return {"Timestamp": f"{time.time() if at is None else at:.6f}"}


def junk(rng: random.Random) -> bytes:
    """Bytes that are not AMI, for fault tests: binary noise, bad UTF-8, keyless or huge blocks."""
    kind = rng.random()
    if kind < 0.4:
        body = bytes(b for b in os.urandom(rng.randint(1, 80)) if b not in (10, 13))
        return body + b"\r\n"
    if kind < 0.7:
        return b"this is not AMI \xc3\x28 \xff\xfe\r\n\r\n"
    if kind < 0.9:
        return b"Key without event: 1\r\nAnother: 2\r\n\r\n"
    return b"X-Oversized: " + b"A" * 100_000 + b"\r\n\r\n"

"""AMI wire format: incremental frame parsing that survives anything the socket delivers.

An AMI stream is a banner line (``Asterisk Call Manager/11.0.0``) followed by blocks of
``Key: Value`` lines, each block closed by an empty line, all with CRLF. A TCP read may end
anywhere, including inside a multi-byte UTF-8 character (``Ștefan``): bytes go through an
incremental decoder so nothing is lost at read boundaries (panoramisk decodes each read on its
own and drops such characters).

Bad input never raises: a block without ``Event``/``Response``, a line that is not ``Key: Value``,
a line or block over the size limits are logged (rate limited) and skipped, and the next valid
block parses normally. An ``Event:``/``Response:`` line always starts a new message, so junk glued
in front of a message or a missing blank line between two messages costs at most the junk.
"""

from __future__ import annotations

import codecs
import logging
import time
from collections.abc import Iterator

log = logging.getLogger("callcard.cti.ami")

BANNER_PREFIX = "Asterisk Call Manager/"
MAX_LINE_CHARS = 16 * 1024
MAX_MESSAGE_CHARS = 256 * 1024
#: responses whose body is free text after the headers (old ``Command`` output)
_BODY_RESPONSES = ("Follows",)


class AmiMessage(dict):
    """One AMI event or response: a ``dict`` whose keys are lower case.

    Lookups go through :meth:`get`/``[]`` with lower-case keys (``msg["uniqueid"]``); use
    :meth:`field` for a case-insensitive lookup with any spelling. Repeated keys (``Variable``,
    ``ChanVariable``) keep every value in :attr:`multi`.
    """

    __slots__ = ("multi", "content")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.multi: dict[str, list[str]] | None = None
        self.content = ""

    def field(self, key: str, default: str = "") -> str:
        return self.get(key.lower(), default)

    @property
    def name(self) -> str:
        return self.get("event") or self.get("response") or ""


class ParseStats:
    __slots__ = ("skipped_blocks", "bad_lines", "oversized")

    def __init__(self) -> None:
        self.skipped_blocks = 0
        self.bad_lines = 0
        self.oversized = 0


class FrameParser:
    """Feed raw bytes, get complete :class:`AmiMessage` objects back.

    >>> p = FrameParser()
    >>> [m["event"] for m in p.feed(b"Event: Ping\\r\\n\\r\\nEvent: Po")]
    ['Ping']
    >>> [m["event"] for m in p.feed(b"ng\\r\\n\\r\\n")]
    ['Pong']
    """

    def __init__(
        self,
        max_line_chars: int = MAX_LINE_CHARS,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        encoding: str = "utf-8",
    ) -> None:
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._buffer = ""
        self._skipping = False  # inside an oversized block: drop until the next blank line
        self.max_line_chars = max_line_chars
        self.max_message_chars = max_message_chars
        self.version: str | None = None
        #: monotonic time since which an unfinished message waits for its blank line
        self.partial_since: float | None = None
        self.stats = ParseStats()
        self._last_warning = 0.0
        self._suppressed = 0

    def feed(self, data: bytes) -> list[AmiMessage]:
        text = self._decoder.decode(data)
        if not text:
            return []
        buffer = self._buffer + text if self._buffer else text
        if self.version is None and buffer.startswith(BANNER_PREFIX):
            # the banner is one line with no blank line after it: take it as soon as it is whole
            line, sep, rest = buffer.partition("\r\n")
            if not sep:
                self._buffer = buffer
                self._note_partial(finished_some=False)
                return []
            self.version = line[len(BANNER_PREFIX) :].strip()
            buffer = rest
        blocks = buffer.split("\r\n\r\n")
        self._buffer = blocks.pop()
        self._note_partial(finished_some=bool(blocks))
        if len(self._buffer) > self.max_message_chars:
            self._warn("AMI message over %d characters dropped", self.max_message_chars)
            self.stats.oversized += 1
            self._buffer = ""
            self._skipping = True
        out: list[AmiMessage] = []
        for block in blocks:
            if self._skipping:
                # the tail of an oversized block: skip it, resume after its blank line
                self._skipping = False
                continue
            self._parse_block(block, out)
        return out

    def _note_partial(self, finished_some: bool) -> None:
        if not self._buffer:
            self.partial_since = None
        elif finished_some or self.partial_since is None:
            self.partial_since = time.monotonic()

    def partial_age(self, now: float | None = None) -> float:
        """Seconds the current unfinished message has waited for its end (0 when none)."""
        if self.partial_since is None:
            return 0.0
        return (time.monotonic() if now is None else now) - self.partial_since

    def _parse_block(self, block: str, out: list[AmiMessage]) -> None:
        if not block:
            return
        lines = block.split("\r\n")
        first = lines[0]
        if first.startswith(("Event: ", "Response: ")) and len(block) <= self.max_message_chars:
            # fast path: a well-formed message
            msg = AmiMessage()
            for line in lines:
                key, sep, value = line.partition(": ")
                if not sep:
                    if line.endswith(":") and ":" not in line[:-1]:
                        key, value = line[:-1], ""
                    else:
                        return self._slow(lines, out)
                key = key.lower()
                if key in msg:
                    if key in ("event", "response"):
                        return self._slow(lines, out)
                    self._add_multi(msg, key, value)
                elif key == "response" and not msg.get("event", "Response").endswith("Response"):
                    return self._slow(lines, out)  # two messages without a blank line
                else:
                    msg[key] = value
            out.append(msg)
            return
        self._slow(lines, out)

    @staticmethod
    def _add_multi(msg: AmiMessage, key: str, value: str) -> None:
        if msg.multi is None:
            msg.multi = {}
        values = msg.multi.setdefault(key, [msg[key]])
        values.append(value)
        msg[key] = value

    def _slow(self, lines: list[str], out: list[AmiMessage]) -> None:
        """Line by line, with resynchronisation on ``Event:``/``Response:`` lines."""
        msg: AmiMessage | None = None
        junk = 0
        body: list[str] = []
        for raw in lines:
            line = raw.strip("\r\n")
            if not line:
                continue
            if len(line) > self.max_line_chars:
                self.stats.oversized += 1
                self._warn("AMI line over %d characters skipped", self.max_line_chars)
                continue
            if line.startswith(BANNER_PREFIX):
                self.version = line[len(BANNER_PREFIX) :].strip()
                continue
            key, sep, value = line.partition(":")
            key_l = key.strip().lower()
            if not sep or not key_l or not _is_token(key_l):
                if msg is not None and msg.get("response") in _BODY_RESPONSES:
                    body.append(line)
                    continue
                junk += 1
                continue
            value = value[1:] if value.startswith(" ") else value
            if key_l in ("event", "response") and not value.strip():
                junk += 1  # "Event:" with no name is noise, not a message
                continue
            # a message starts with Event/Response. OriginateResponse carries a Response key
            # too: inside an event named ...Response it is a field, anywhere else a Response
            # or Event line means a new message began without the blank line
            if key_l in ("event", "response") and (
                msg is None
                or key_l in msg
                or "response" in msg
                or not msg.get("event", "").endswith("Response")
            ):
                if msg is not None:
                    self._finish(msg, body, out)
                msg = AmiMessage()
                body = []
                msg[key_l] = value
                continue
            if msg is None:
                junk += 1
                continue
            if key_l in msg:
                self._add_multi(msg, key_l, value)
            else:
                msg[key_l] = value
        if msg is not None:
            self._finish(msg, body, out)
        if junk:
            self.stats.bad_lines += junk
            self.stats.skipped_blocks += 1 if msg is None else 0
            self._warn("skipped %d unparseable AMI line(s)", junk)

    def _finish(self, msg: AmiMessage, body: list[str], out: list[AmiMessage]) -> None:
        if body:
            msg.content = "\n".join(body)
        out.append(msg)

    def _warn(self, text: str, *args: object) -> None:
        """Log bad input at most once a second (a flood must not flood the log)."""
        now = time.monotonic()
        if now - self._last_warning >= 1.0:
            if self._suppressed:
                text += " (%d similar warnings suppressed)"
                args = (*args, self._suppressed)
            log.warning(text, *args)
            self._last_warning = now
            self._suppressed = 0
        else:
            self._suppressed += 1


def _is_token(key: str) -> bool:
    # AMI keys: letters, digits, '-', '_', '(', ')', '/', '.' (ChanVariable(x), CID-CallingPres)
    return (
        key.replace("-", "")
        .replace("_", "")
        .replace("(", "")
        .replace(")", "")
        .replace("/", "")
        .replace(".", "")
        .replace(" ", "")
        .isalnum()
        and len(key) <= 100
    )


class ActionParser:
    """Server side: blocks of ``Key: Value`` lines that contain an ``Action`` (any key order).

    panoramisk sorts the keys of an action, so ``Action`` is not always the first line.
    """

    def __init__(self, max_message_chars: int = MAX_MESSAGE_CHARS) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self.max_message_chars = max_message_chars

    def feed(self, data: bytes) -> list[AmiMessage]:
        buffer = self._buffer + self._decoder.decode(data)
        blocks = buffer.replace("\r\n", "\n").split("\n\n")
        self._buffer = blocks.pop()
        if len(self._buffer) > self.max_message_chars:
            self._buffer = ""
        out = []
        for block in blocks:
            msg = AmiMessage()
            for line in block.split("\n"):
                key, sep, value = line.partition(":")
                if sep and key.strip():
                    key = key.strip().lower()
                    value = value[1:] if value.startswith(" ") else value
                    if key in msg:
                        FrameParser._add_multi(msg, key, value)
                    else:
                        msg[key] = value
            if "action" in msg:
                out.append(msg)
        return out


def iter_messages(data: bytes) -> Iterator[AmiMessage]:
    """All messages of a complete byte stream (a transcript file)."""
    parser = FrameParser()
    yield from parser.feed(data)
    yield from parser.feed(b"\r\n\r\n")

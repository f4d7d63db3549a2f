"""The archive: one tar (gzip-compressed by default, optionally encrypted) holding the database
dump, every attachment file under ``files/`` and, last, ``manifest.json``.

The manifest names the schema revision, the row count of every table, the SHA-256 and size of
the dump and of each file, when and by which version it was made. Reading checks every member
against it while streaming; nothing is trusted (or used) before the whole archive has passed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from crm_core.backups.crypto import (
    MAGIC,
    DecryptingReader,
    DecryptionFailed,
    EncryptingWriter,
    is_encrypted,
)
from crm_core.errors import ServiceError

MANIFEST = "manifest.json"
FORMAT = 1
COPY_CHUNK = 1024 * 1024
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
#: gzip level: a database dump shrinks well at 3 already, at several times level 9's speed
GZIP_LEVEL = 3
#: (stage, done, total) — bytes for archive stages; total 0 when unknown
Progress = Callable[[str, int, int], None]


class ArchiveRefused(ServiceError):
    """The archive is not a complete, untouched Callcard backup (nothing was overwritten)."""

    status_code = 409
    code = "archive_refused"


@dataclass
class Manifest:
    created_at: str
    app_version: str
    backend: str  # sqlite | postgresql
    schema_revision: str | None
    database: dict[str, object]  # name, sha256, size
    tables: dict[str, int]
    files: dict[str, dict[str, object]] = field(default_factory=dict)  # key -> sha256, size
    encrypted: bool = False
    compressed: bool = True
    format: int = FORMAT

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        try:
            data = json.loads(raw)
            manifest = cls(**data)
        except (ValueError, TypeError) as exc:
            raise ArchiveRefused(f"the manifest is unreadable: {exc}") from None
        if manifest.format != FORMAT:
            raise ArchiveRefused(f"unknown archive format {manifest.format!r}")
        return manifest

    @property
    def total_rows(self) -> int:
        return sum(self.tables.values())


def attachment_files(root: Path) -> Iterator[tuple[str, Path]]:
    """(key, path) of every stored file: the key is its path under the store, as
    ``attachments.storage_key`` names it; unfinished uploads (``.incoming``) are left out."""
    if not root.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            yield path.relative_to(root).as_posix(), path


class _Hashing:
    """Reads ``source`` for tarfile while hashing and counting what passed."""

    def __init__(self, source: BinaryIO, on_bytes: Callable[[int], None]) -> None:
        self.source, self.on_bytes = source, on_bytes
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.hash.update(data)
        self.on_bytes(len(data))
        return data


def _add(tar: tarfile.TarFile, name: str, path: Path, on_bytes) -> dict[str, object]:
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    with path.open("rb") as fh:
        reader = _Hashing(fh, on_bytes)
        tar.addfile(info, reader)  # type: ignore[arg-type]
    return {"sha256": reader.hash.hexdigest(), "size": info.size}


def write_archive(
    target: Path,
    manifest: Manifest,
    dump: Path,
    files_root: Path,
    *,
    passphrase: str = "",
    progress: Progress | None = None,
) -> int:
    """Write the archive to ``target`` (via a hidden ``.partial`` file renamed at the end, so a
    cut run leaves no archive that looks finished). Fills ``manifest``; returns the size."""
    files = list(attachment_files(files_root))
    total = dump.stat().st_size + sum(p.stat().st_size for _, p in files)
    done = [0, 0.0]

    def on_bytes(n: int) -> None:
        done[0] += n
        now = time.monotonic()
        if progress and (now - done[1] > 0.5 or done[0] >= total):
            done[1] = now
            progress("archive", done[0], total)

    partial = target.with_name(f".{target.name}.partial")
    manifest.encrypted = bool(passphrase)
    try:
        with partial.open("wb") as raw:
            sealed = EncryptingWriter(raw, passphrase) if passphrase else None
            sink: BinaryIO = sealed or raw  # type: ignore[assignment]
            gz = None
            if manifest.compressed:
                gz = gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=GZIP_LEVEL, mtime=0)
            stream = gz or sink
            with tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
                manifest.database = {"name": manifest.database["name"]}
                manifest.database.update(_add(tar, str(manifest.database["name"]), dump, on_bytes))
                for key, path in files:
                    manifest.files[key] = _add(tar, f"files/{key}", path, on_bytes)
                body = manifest.to_json()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(time.time()), 0o600
                tar.addfile(info, io.BytesIO(body))
            if gz is not None:
                gz.close()  # the gzip trailer
            if sealed is not None:
                sealed.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _safe_key(name: str) -> str:
    """The attachment key of a ``files/...`` member; refuses paths that would leave the store."""
    parts = PurePosixPath(name).parts
    if len(parts) < 2 or parts[0] != "files" or any(p in ("", ".", "..") for p in parts[1:]):
        raise ArchiveRefused(f"unexpected member {name!r} in the archive")
    if name.startswith("/") or "\\" in name:
        raise ArchiveRefused(f"unexpected member {name!r} in the archive")
    return "/".join(parts[1:])


@dataclass
class _Seen:
    database: tuple[str, str, int] | None = None  # name, sha256, size
    files: dict[str, tuple[str, int]] = field(default_factory=dict)
    manifest: Manifest | None = None


def _copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo, out: Path | None, on_bytes):
    source = tar.extractfile(member)
    if source is None:
        raise ArchiveRefused(f"member {member.name!r} is not a regular file")
    digest, size = hashlib.sha256(), 0
    sink = None
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        sink = out.open("wb")
    try:
        while chunk := source.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            on_bytes(len(chunk))
            if sink is not None:
                sink.write(chunk)
    finally:
        if sink is not None:
            sink.close()
    return digest.hexdigest(), size


def open_plain(path: Path, passphrase: str) -> BinaryIO:
    """The archive's tar stream: decrypted when the file is encrypted."""
    raw = path.open("rb")
    head = raw.read(len(MAGIC))
    raw.seek(0)
    if not is_encrypted(head):
        return raw
    if not passphrase:
        raw.close()
        raise ArchiveRefused(
            "the archive is encrypted: set CALLCARD_BACKUP_ENCRYPTION_KEY to the key it was "
            "made with"
        )
    try:
        return DecryptingReader(raw, passphrase)  # type: ignore[return-value]
    except DecryptionFailed as exc:
        raw.close()
        raise ArchiveRefused(str(exc)) from None


def read_archive(
    path: Path,
    *,
    passphrase: str = "",
    database_to: Path | None = None,
    files_to: Path | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Stream through the archive, hashing every member (and copying the dump to
    ``database_to`` and the files under ``files_to`` when given), then check everything against
    the manifest. Raises :class:`ArchiveRefused` naming the first problem."""
    if not path.is_file():
        raise ArchiveRefused(f"no archive at {path}")
    total, done = path.stat().st_size, [0]

    def on_bytes(n: int) -> None:
        done[0] += n
        if progress:
            progress("check", min(done[0], total), total)

    seen = _Seen()
    stream = open_plain(path, passphrase)
    try:
        tar_stream = _uncompressed(stream)
        with tarfile.open(fileobj=tar_stream, mode="r|") as tar:  # type: ignore[call-overload]
            for member in tar:
                _read_member(tar, member, seen, database_to, files_to, on_bytes)
        # to the end: gzip checks its CRC and length there (tar stops at its end marker)
        while tar_stream.read(1 << 16):
            pass
    except ArchiveRefused:
        raise
    except DecryptionFailed as exc:
        raise ArchiveRefused(str(exc)) from None
    except (tarfile.TarError, EOFError, OSError, zlib.error, ValueError) as exc:
        raise ArchiveRefused(f"the archive is truncated or damaged ({exc})") from None
    finally:
        stream.close()
    return _checked(seen)


class _Replayed:
    """A stream whose first bytes, already read to see what it is, are given again."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(size)
        if size is None or size < 0:
            out, self.head = self.head + self.rest.read(), b""
            return out
        out, self.head = self.head[:size], self.head[size:]
        return out


def _uncompressed(stream: BinaryIO) -> BinaryIO:
    """The tar inside ``stream``: through :class:`gzip.GzipFile` when it is compressed, which
    (unlike tarfile's own gzip reader) checks the trailer's CRC and length."""
    head = stream.read(2)
    replayed = _Replayed(head, stream)
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=replayed, mode="rb")  # type: ignore[arg-type]
    return replayed  # type: ignore[return-value]


def _read_member(tar, member, seen: _Seen, database_to, files_to, on_bytes) -> None:
    if seen.manifest is not None:
        raise ArchiveRefused(f"member {member.name!r} follows the manifest")
    if not member.isfile():
        raise ArchiveRefused(f"member {member.name!r} is not a regular file")
    if member.name == MANIFEST:
        if member.size > MAX_MANIFEST_BYTES:
            raise ArchiveRefused("the manifest is implausibly large")
        body = tar.extractfile(member).read()
        seen.manifest = Manifest.from_json(body)
    elif member.name.startswith("database."):
        if seen.database is not None:
            raise ArchiveRefused("the archive holds two databases")
        sha, size = _copy_member(tar, member, database_to, on_bytes)
        seen.database = (member.name, sha, size)
    else:
        key = _safe_key(member.name)
        out = files_to / key if files_to is not None else None
        seen.files[key] = _copy_member(tar, member, out, on_bytes)


def _checked(seen: _Seen) -> Manifest:
    manifest = seen.manifest
    if manifest is None:
        raise ArchiveRefused("the archive has no manifest: it is truncated or not a backup")
    if seen.database is None:
        raise ArchiveRefused("the archive holds no database dump")
    name, sha, size = seen.database
    db = manifest.database
    if name != db.get("name") or sha != db.get("sha256") or size != db.get("size"):
        raise ArchiveRefused(f"the database dump {name} does not match its checksum")
    missing = sorted(set(manifest.files) - set(seen.files))
    if missing:
        raise ArchiveRefused(
            f"{len(missing)} files listed in the manifest are missing: {missing[0]}"
        )
    for key, (sha, size) in seen.files.items():
        expected = manifest.files.get(key)
        if expected is None:
            raise ArchiveRefused(f"file {key} is not in the manifest")
        if expected.get("sha256") != sha or expected.get("size") != size:
            raise ArchiveRefused(f"file {key} does not match its checksum")
    return manifest

"""Authenticated encryption of a backup archive as a stream (AES-256-GCM in 1 MiB chunks).

Layout: ``MAGIC``, a 16-byte salt, a 7-byte nonce prefix, then chunks of a 4-byte big-endian
length and the chunk's ciphertext (with its 16-byte tag). The key is HKDF-SHA256 of the
passphrase from the settings and the salt. Each chunk's nonce is the prefix, its 4-byte index
and a last-chunk flag (the STREAM construction), and the header is authenticated with every
chunk: a flipped byte, a reordered, dropped or appended chunk, or a cut after any chunk fails
to decrypt instead of yielding a shorter archive.
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"CALLCARD-BACKUP-AESGCM-1\n"
CHUNK = 1024 * 1024
_SALT, _PREFIX, _TAG = 16, 7, 16
HEADER_SIZE = len(MAGIC) + _SALT + _PREFIX


class DecryptionFailed(Exception):
    """Wrong key, or the encrypted archive was changed or cut."""


def _key(passphrase: str, salt: bytes) -> AESGCM:
    material = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"callcard backup v1"
    ).derive(passphrase.encode("utf-8"))
    return AESGCM(material)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def is_encrypted(head: bytes) -> bool:
    return head.startswith(MAGIC)


class EncryptingWriter:
    """A write-only file object: plaintext in, encrypted chunks out to ``sink``."""

    def __init__(self, sink: BinaryIO, passphrase: str) -> None:
        salt, self._prefix = os.urandom(_SALT), os.urandom(_PREFIX)
        self._header = MAGIC + salt + self._prefix
        self._aead = _key(passphrase, salt)
        self._sink = sink
        self._buffer = bytearray()
        self._index = 0
        self.closed = False
        sink.write(self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:  # keep one chunk back: it may be the last
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        if self._index >= 2**32 - 1:
            raise ValueError("archive too large for one encrypted stream")
        nonce = _nonce(self._prefix, self._index, last)
        sealed = self._aead.encrypt(nonce, plain, self._header)
        self._sink.write(struct.pack(">I", len(sealed)) + sealed)
        self._index += 1

    def flush(self) -> None:
        return None

    def close(self) -> None:
        """Write the last chunk (possibly empty): without it a reader refuses the stream."""
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self.closed = True


class DecryptingReader:
    """A read-only file object over an encrypted archive; raises :class:`DecryptionFailed`."""

    def __init__(self, source: BinaryIO, passphrase: str) -> None:
        header = source.read(HEADER_SIZE)
        if len(header) < HEADER_SIZE or not is_encrypted(header):
            raise DecryptionFailed("not an encrypted Callcard archive")
        salt = header[len(MAGIC) : len(MAGIC) + _SALT]
        self._prefix = header[len(MAGIC) + _SALT :]
        self._header = header
        self._aead = _key(passphrase, salt)
        self._source = source
        self._index = 0
        self._plain = b""
        self._pos = 0  # read position in ``_plain``
        self._done = False

    def _next_chunk(self) -> None:
        size_bytes = self._source.read(4)
        if len(size_bytes) < 4:
            raise DecryptionFailed("the encrypted archive is cut short")
        (size,) = struct.unpack(">I", size_bytes)
        if size < _TAG or size > CHUNK + _TAG:
            raise DecryptionFailed("the encrypted archive is damaged (bad chunk length)")
        sealed = self._source.read(size)
        if len(sealed) < size:
            raise DecryptionFailed("the encrypted archive is cut short")
        for last in (False, True):
            try:
                plain = self._aead.decrypt(
                    _nonce(self._prefix, self._index, last), sealed, self._header
                )
            except InvalidTag:
                continue
            self._index += 1
            if last:
                if self._source.read(1):
                    raise DecryptionFailed("data follows the end of the encrypted archive")
                self._done = True
            self._plain = self._plain[self._pos :] + plain
            self._pos = 0
            return
        raise DecryptionFailed(
            "the archive cannot be decrypted: wrong encryption key, or the file was changed"
        )

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._plain) - self._pos < size):
            self._next_chunk()
        end = len(self._plain) if size < 0 else min(len(self._plain), self._pos + size)
        out = self._plain[self._pos : end]
        self._pos = end
        return out

    def close(self) -> None:
        self._source.close()

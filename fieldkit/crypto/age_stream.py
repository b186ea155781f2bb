"""The age v1 payload: STREAM with ChaCha20-Poly1305 over 64 KiB chunks.

Nonce for chunk i: 11-byte big-endian counter i || 0x01 for the final chunk, 0x00
otherwise. The payload key is derived from a fresh file key and nonce per file, so
a (key, nonce) pair never repeats: the counter only grows and the final flag is
used once. Memory holds one chunk at a time in both directions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fieldkit.errors import EnvelopeAuthFailed

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
MAX_COUNTER = (1 << 88) - 1


class Sink(Protocol):
    """Where ciphertext goes: a file, or anything with a file's write()."""

    def write(self, data: bytes, /) -> object: ...


def chunk_nonce(counter: int, last: bool) -> bytes:
    if not 0 <= counter <= MAX_COUNTER:
        raise OverflowError("STREAM counter exhausted")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class StreamWriter:
    """Encrypts what is written to it into `sink`; `close()` writes the final chunk.

    A chunk is only known to be the last one when the input ends, so one full
    chunk of plaintext is held back until more data arrives or `close()`.
    """

    def __init__(self, key: bytes, sink: Sink) -> None:
        self._aead = ChaCha20Poly1305(key)
        self._sink = sink
        self._buf = bytearray()
        self._counter = 0
        self._closed = False
        self.plaintext_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed StreamWriter")
        view = memoryview(data).cast("B")
        n = len(view)
        self.plaintext_bytes += n
        pos = 0
        if self._buf:
            need = CHUNK_SIZE - len(self._buf)
            if n <= need:
                self._buf += view
                return n
            # The held-back chunk fills up and more bytes follow it: not the last.
            self._buf += view[:need]
            pos = need
            self._emit(self._buf, last=False)
            self._buf = bytearray()
        # Whole chunks straight from the caller's buffer (no copy) while more follows.
        while n - pos > CHUNK_SIZE:
            self._emit(view[pos : pos + CHUNK_SIZE], last=False)
            pos += CHUNK_SIZE
        self._buf += view[pos:]
        return n

    def _emit(self, chunk: bytes | bytearray | memoryview, *, last: bool) -> None:
        self._sink.write(self._aead.encrypt(chunk_nonce(self._counter, last), chunk, None))
        self._counter += 1

    def close(self) -> None:
        if self._closed:
            return
        # The final chunk may be empty only when the whole payload is empty.
        self._emit(bytes(self._buf), last=True)
        self._buf.clear()
        self._closed = True


def decrypt_chunks(key: bytes, source: BinaryIO) -> Iterator[bytes]:
    """Yield plaintext chunk by chunk, as age does; raise EnvelopeAuthFailed at the
    first chunk that does not authenticate, a truncation, a missing final chunk, an
    illegal empty final chunk, or data after the final chunk.

    A short read is the final chunk. A full-size chunk is tried as a middle chunk
    first, then as a full-size final chunk; after a final chunk there must be nothing.
    """
    aead = ChaCha20Poly1305(key)
    counter = 0
    while True:
        current = read_up_to(source.read, ENCRYPTED_CHUNK_SIZE)
        if len(current) < ENCRYPTED_CHUNK_SIZE:
            if len(current) < TAG_SIZE:
                raise EnvelopeAuthFailed("payload", "the payload is truncated")
            plain = _open(aead, counter, current, last=True)
            if not plain and counter > 0:
                raise EnvelopeAuthFailed("payload", "the final chunk is empty")
            yield plain
            return
        try:
            plain = aead.decrypt(chunk_nonce(counter, False), current, None)
        except InvalidTag:
            plain = _open(aead, counter, current, last=True)
            yield plain
            if source.read(1):
                raise EnvelopeAuthFailed("payload", "data after the final chunk") from None
            return
        yield plain
        counter += 1


def _open(aead: ChaCha20Poly1305, counter: int, chunk: bytes, *, last: bool) -> bytes:
    try:
        return aead.decrypt(chunk_nonce(counter, last), chunk, None)
    except InvalidTag:
        raise EnvelopeAuthFailed("payload", "a payload chunk failed authentication") from None


def read_up_to(read: Callable[[int], bytes], n: int) -> bytes:
    """n bytes from `read` (which may return fewer, and b"" at the end), fewer only
    at the end; a single piece is returned as it is, without a copy."""
    parts: list[bytes] = []
    while n:
        got = read(n)
        if not got:
            break
        parts.append(got)
        n -= len(got)
    return parts[0] if len(parts) == 1 else b"".join(parts)

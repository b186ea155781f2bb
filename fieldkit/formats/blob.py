"""Stored attachment files ("blobs"): one encrypted file per attachment.

    header  = magic "FK-BLOB\\0" (8) | version u8 = 1 | blob id (16)
    payload = STREAM over ChaCha20-Poly1305 in 1 MiB chunks, associated data = header

Each blob has its own random 256-bit key, kept only in the attachment's row inside the
SQLCipher database: deleting the row (secure_delete) shreds the file's key. The
plaintext is the attachment followed by zero bytes up to its Padmé length, so the file
size tells an observer only the rounded size. The reader knows the true size from the
database, so the chunk layout is fixed in advance: padded // CHUNK_SIZE full chunks
(flag 0x00), then one final chunk of padded % CHUNK_SIZE bytes (flag 0x01, possibly
empty). Nonce for chunk i: 11-byte big-endian i || flag, as in age's STREAM; a key is
used for one file only, so no nonce repeats.

This module only seals and opens bytes; files live in store/blobs.py.
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fieldkit.crypto.age_stream import chunk_nonce
from fieldkit.errors import IntegrityError
from fieldkit.formats.bundle import MAX_ATTACHMENT_SIZE
from fieldkit.formats.padding import padme

MAGIC = b"FK-BLOB\x00"
VERSION = 1
ID_SIZE = 16
KEY_SIZE = 32
TAG_SIZE = 16
CHUNK_SIZE = 1024 * 1024
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
_HEADER = struct.Struct(">8sB16s")
HEADER_SIZE = _HEADER.size
# The largest attachment a bundle may carry is the largest a file may hold; checked
# before any arithmetic on a size.
MAX_SIZE = MAX_ATTACHMENT_SIZE


def header(blob_id: bytes) -> bytes:
    if len(blob_id) != ID_SIZE:
        raise ValueError("blob id must be 16 bytes")
    return _HEADER.pack(MAGIC, VERSION, blob_id)


def check_header(data: bytes, blob_id: bytes) -> None:
    if len(data) != HEADER_SIZE:
        raise IntegrityError("a stored attachment file is truncated")
    magic, version, found = _HEADER.unpack(data)
    if magic != MAGIC:
        raise IntegrityError("a stored attachment file is not an attachment")
    if version != VERSION:
        raise IntegrityError(f"a stored attachment file has unknown version {version}")
    if found != blob_id:
        raise IntegrityError("a stored attachment file belongs to another attachment")


def padded_size(size: int) -> int:
    if not 0 <= size <= MAX_SIZE:
        raise ValueError("attachment size out of range")
    return padme(size)


def layout(size: int) -> tuple[int, int]:
    """(number of full non-final chunks, plaintext length of the final chunk)."""
    return divmod(padded_size(size), CHUNK_SIZE)


def file_size(size: int) -> int:
    full, last = layout(size)
    return HEADER_SIZE + full * ENCRYPTED_CHUNK_SIZE + last + TAG_SIZE


class Sealer:
    """Seals and opens the chunks of one blob; the caller numbers them."""

    def __init__(self, key: bytes, blob_id: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("blob key must be 32 bytes")
        self._aead = ChaCha20Poly1305(key)
        self._ad = header(blob_id)

    def seal(self, index: int, plaintext: bytes, *, last: bool) -> bytes:
        if len(plaintext) > CHUNK_SIZE or (not last and len(plaintext) != CHUNK_SIZE):
            raise ValueError("blob chunks are 1 MiB except the final one")
        return self._aead.encrypt(chunk_nonce(index, last), plaintext, self._ad)

    def open(self, index: int, sealed: bytes, *, last: bool) -> bytes:
        try:
            return self._aead.decrypt(chunk_nonce(index, last), sealed, self._ad)
        except InvalidTag:
            raise IntegrityError(
                "a stored attachment file failed authentication (damaged or altered)"
            ) from None

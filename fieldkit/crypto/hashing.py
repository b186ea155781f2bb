"""Domain-separated SHA-256.

Every input is length-prefixed, so no two different part lists can encode to
the same byte string (no ambiguity between ("ab", "c") and ("a", "bc")).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

DIGEST_SIZE = 32


def labelled_hash(label: bytes, parts: Iterable[bytes]) -> bytes:
    """SHA-256 over u32be(len(label)) label, then u64be(len(part)) part for each part."""
    h = hashlib.sha256()
    h.update(struct.pack(">I", len(label)))
    h.update(label)
    for part in parts:
        h.update(struct.pack(">Q", len(part)))
        h.update(part)
    return h.digest()

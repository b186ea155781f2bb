"""age's STREAM writer: the ciphertext depends on the bytes only, never on how the
caller split them into writes (the held-back final chunk is the subtle part)."""

from __future__ import annotations

import io
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.crypto.age_stream import CHUNK_SIZE, StreamWriter, decrypt_chunks

KEY = bytes(range(32))
SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 7]
DATA = os.urandom(max(SIZES))


def _encrypt(data: bytes, cuts: list[int]) -> bytes:
    out = io.BytesIO()
    w = StreamWriter(KEY, out)
    pos = 0
    for c in sorted(cuts):
        w.write(memoryview(data)[pos:c])
        pos = c
    w.write(data[pos:])
    w.close()
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SIZES), st.lists(st.floats(0, 1), max_size=6))
def test_split_does_not_change_the_ciphertext(size: int, fractions: list[float]) -> None:
    data = DATA[:size]
    cuts = [int(f * size) for f in fractions]
    one_shot = _encrypt(data, [])
    assert _encrypt(data, cuts) == one_shot
    # Full-size final chunk when the size is a multiple; empty final only when empty.
    full, rest = divmod(size, CHUNK_SIZE)
    chunks = max(1, full + (1 if rest else 0))
    assert len(one_shot) == size + 16 * chunks
    assert b"".join(decrypt_chunks(KEY, io.BytesIO(one_shot))) == data

"""Regenerate tests/vectors/blob-v1/vectors.json (fixed ids, keys and plaintexts).

    .venv/bin/python tests/vectors/blob-v1/make_vectors.py

tests/test_blobs.py writes each vector again through fieldkit and compares, and also
decrypts each expected file with plain ChaCha20-Poly1305, following only
docs/vault-format.md, so another implementation can check itself against this file.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from fieldkit.formats import blob
from fieldkit.store.blobs import BlobStore

HERE = Path(__file__).parent


def pattern(n: int) -> bytes:
    """Long plaintexts are given by length: byte i is i mod 251."""
    return bytes(i % 251 for i in range(n))


CASES: list[tuple[str, bytes, bool]] = [
    ("empty", b"", True),
    ("short, 3 bytes of padding", "Протокол допроса, стр. 1 — қ ғ".encode()[:37], True),
    ("two chunks: one full, final with padding", pattern(blob.CHUNK_SIZE + 1000), False),
]


def make() -> list[dict[str, Any]]:
    out = []
    for n, (name, plain, inline) in enumerate(CASES):
        blob_id = bytes((n * 16 + i) % 256 for i in range(16))
        key = bytes((0x40 + n * 32 + i) % 256 for i in range(32))
        fixed = iter([blob_id, key])
        with tempfile.TemporaryDirectory() as d:
            store = BlobStore(Path(d))
            with store.create(random_bytes=lambda _n, f=fixed: next(f)) as w:
                w.write(plain)
                digest = w.finish()
                w.keep()
            data = store.path(blob_id).read_bytes()
        v: dict[str, Any] = {
            "name": name,
            "blob_id": blob_id.hex(),
            "key": key.hex(),
            "size": len(plain),
            "sha256": digest.hex(),
            "padded_size": blob.padded_size(len(plain)),
            "file_size": len(data),
        }
        if inline:
            v["plaintext"] = plain.hex()
            v["file"] = data.hex()
        else:
            v["plaintext_pattern"] = "byte i is i mod 251"
            v["file_sha256"] = hashlib.sha256(data).hexdigest()
        out.append(v)
    return out


if __name__ == "__main__":
    (HERE / "vectors.json").write_text(json.dumps(make(), indent=2) + "\n")

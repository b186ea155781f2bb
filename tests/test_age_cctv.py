"""All 143 C2SP CCTV age vectors (tests/vectors/cctv-age, see SOURCE.txt there).

Every vector runs and its expected outcome is checked, including the plaintext
released before a payload failure. Passphrase (scrypt) and armored vectors are
implemented, not skipped.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from pathlib import Path

import pytest

from fieldkit.crypto.age_keys import ScryptPassphrase, parse_identity
from fieldkit.errors import EnvelopeAuthFailed, EnvelopeMalformed, NoMatchingKey
from fieldkit.formats.age import Decryption
from fieldkit.formats.age_armor import ArmorError

DIR = Path(__file__).parent / "vectors" / "cctv-age" / "testdata"
VECTORS = sorted(p.name for p in DIR.iterdir())


def _load(name: str) -> tuple[dict[str, list[str]], bytes]:
    raw = (DIR / name).read_bytes()
    head, _, body = raw.partition(b"\n\n")
    meta: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        meta.setdefault(key, []).append(value)
    if meta.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return meta, body


def test_all_143_vectors_are_present() -> None:
    assert len(VECTORS) == 143


@pytest.mark.parametrize("name", VECTORS)
def test_cctv_vector(name: str) -> None:
    meta, body = _load(name)
    known = {
        "expect",
        "payload",
        "file key",
        "identity",
        "passphrase",
        "armored",
        "compressed",
        "comment",
    }
    assert set(meta) <= known, f"unknown vector keys {set(meta) - known}"
    identities: list = [parse_identity(i) for i in meta.get("identity", [])]
    identities += [ScryptPassphrase(p.encode()) for p in meta.get("passphrase", [])]
    expect = meta["expect"][0]
    armored = meta.get("armored") == ["yes"]
    released = hashlib.sha256()
    outcome = "success"
    try:
        d = Decryption(io.BytesIO(body), identities, armored=armored)
        for chunk in d.chunks():
            released.update(chunk)
    except ArmorError:
        outcome = "armor failure"
    except EnvelopeMalformed:
        outcome = "header failure"
    except NoMatchingKey:
        outcome = "no match"
    except EnvelopeAuthFailed as e:
        outcome = "HMAC failure" if e.stage == "header" else "payload failure"
    assert outcome == expect
    if "payload" in meta:
        assert released.hexdigest() == meta["payload"][0]

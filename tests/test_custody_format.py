"""Custody entries byte for byte (tests/vectors/custody), and the parser under hostile bytes."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit import custody_verify
from fieldkit.crypto import signing
from fieldkit.crypto.hashing import labelled_hash
from fieldkit.crypto.labels import CARD_FINGERPRINT, CUSTODY_ENTRY
from fieldkit.errors import AuthenticationFailed
from fieldkit.formats import custody
from fieldkit.formats.custody import MalformedEntry

DIR = Path(__file__).parent / "vectors" / "custody"
VECTORS: dict[str, Any] = json.loads((DIR / "vectors.json").read_text(encoding="utf-8"))
ENTRIES: list[dict[str, str]] = VECTORS["expected"]["entries"]


def _maker() -> Any:
    spec = importlib.util.spec_from_file_location("make_custody_vectors", DIR / "make_vectors.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_vectors_rebuild_byte_for_byte() -> None:
    assert _maker().build(VECTORS["inputs"]) == VECTORS["expected"]


def test_item_hash_is_plain_sha256_of_the_content() -> None:
    content = bytes.fromhex(VECTORS["content_hex"])
    assert hashlib.sha256(content).hexdigest() == VECTORS["inputs"]["item"]["sha256"]


@pytest.mark.parametrize("n", range(len(ENTRIES)))
def test_vector_parses_verifies_and_links(n: int) -> None:
    e = ENTRIES[n]
    body = e["body"].encode("utf-8")
    entry = custody.decode_body(body)
    assert entry.seq == n + 1
    assert entry.prev == (
        custody.ZERO_HASH if n == 0 else bytes.fromhex(ENTRIES[n - 1]["entry_hash"])
    )
    assert custody.signature_digest(body).hex() == e["signature_input"]
    signing.verify(entry.actor.key, bytes.fromhex(e["signature"]), CUSTODY_ENTRY, [body])
    assert custody.entry_hash(body, bytes.fromhex(e["signature"])).hex() == e["entry_hash"]
    assert custody.encode_body(entry) == body


@pytest.mark.parametrize("case", VECTORS["invalid"], ids=lambda c: c["why"])
def test_invalid_vectors_are_refused(case: dict[str, str]) -> None:
    with pytest.raises(MalformedEntry):
        custody.decode_body(case["body"].encode("utf-8"))


def test_the_standalone_verifier_agrees_with_the_vectors() -> None:
    """The independent verifier accepts the vector chain (keys listed as a report lists them)."""
    report = _vector_report()
    lines, problems = custody_verify.verify(report, [])
    assert problems == [], problems
    assert len([ln for ln in lines if ln.startswith("  ")]) == len(ENTRIES)


def _vector_report() -> dict[str, Any]:
    keys = []
    for role, seed in VECTORS["seeds"].items():
        pub = signing.public_key(bytes.fromhex(seed))
        age_public = hashlib.sha256(role.encode()).digest()
        fp = labelled_hash(CARD_FINGERPRINT, [role.encode(), pub, age_public])
        keys.append(
            {
                "role": role,
                "name": role,
                "fingerprint": fp.hex(),
                "signing_key": pub.hex(),
                "age_recipient_public": age_public.hex(),
            }
        )
    # The vector's fingerprints are fixed stand-ins; re-sign with these keys' fingerprints.
    maker = _maker()
    maker.DEVICE_FP = bytes.fromhex(keys[0]["fingerprint"])
    maker.HQ_FP = bytes.fromhex(keys[1]["fingerprint"])
    inputs = json.loads(json.dumps(VECTORS["inputs"]))
    for step in inputs["chain"]:
        if "device" in step["details"]:
            step["details"]["device"] = keys[0]["fingerprint"]
    built = maker.build(inputs)
    entries = [
        {"body": e["body"], "signature": e["signature"], "hash": e["entry_hash"]}
        for e in built["entries"]
    ]
    return {
        "format": "fieldkit custody report",
        "v": 1,
        "chains": [{"item": VECTORS["inputs"]["item"], "entries": entries}],
        "keys": keys,
    }


def test_labelled_hash_of_the_standalone_verifier_is_fieldkits() -> None:
    for parts in ([], [b""], [b"a", b"bc"], [b"ab", b"c"]):
        assert custody_verify.labelled_hash(b"x", parts) == labelled_hash(b"x", parts)


def test_every_bit_flip_and_truncation_of_a_signed_entry_is_refused() -> None:
    """age's FuzzMalleability, for custody entries: no change goes through unnoticed."""
    e = ENTRIES[3]
    body, sig = e["body"].encode("utf-8"), bytes.fromhex(e["signature"])
    key = custody.decode_body(body).actor.key
    blob = body + sig
    for i in range(len(blob) * 8):
        bad = bytearray(blob)
        bad[i // 8] ^= 1 << (i % 8)
        _assert_refused(bytes(bad), len(body), key)
    for cut in range(len(blob)):
        _assert_refused(blob[:cut], len(body), key)


def _assert_refused(blob: bytes, body_len: int, key: bytes) -> None:
    body, sig = blob[:body_len], blob[body_len:]
    try:
        custody.decode_body(body)
        signing.verify(key, sig, CUSTODY_ENTRY, [body])
    except (MalformedEntry, AuthenticationFailed):
        return
    raise AssertionError("a changed entry was accepted")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_random_bytes_are_refused_cleanly(data: bytes) -> None:
    with pytest.raises(MalformedEntry):
        custody.decode_body(data)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=custody.MAX_REASON))
def test_any_reason_round_trips_or_is_refused(reason: str) -> None:
    entry = custody.decode_body(ENTRIES[3]["body"].encode("utf-8"))
    changed = dataclasses.replace(entry, details={**entry.details, "reason": reason})
    try:
        body = custody.encode_body(changed)
    except (MalformedEntry, ValueError):
        return
    assert custody.decode_body(body).details["reason"] == reason


def test_a_body_larger_than_the_limit_is_refused_before_parsing() -> None:
    with pytest.raises(MalformedEntry, match="impossible size"):
        custody.decode_body(b"[" * (custody.MAX_BODY + 1))

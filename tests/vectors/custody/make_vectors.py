"""Regenerate tests/vectors/custody/vectors.json (fixed keys, fixed times).

    .venv/bin/python tests/vectors/custody/make_vectors.py

A chain of custody entries signed with fixed Ed25519 seeds (device, then HQ), each with
its exact body bytes, signature and entry hash; then bodies a reader must reject, each
with the reason. tests/test_custody_format.py rebuilds the valid vectors from their
inputs and compares byte for byte, parses the invalid ones and expects a rejection.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from fieldkit.crypto import signing
from fieldkit.crypto.labels import CUSTODY_ENTRY
from fieldkit.formats import custody
from fieldkit.formats.custody import Actor, Entry, Item

HERE = Path(__file__).parent
DEVICE_SEED = bytes(range(32))
HQ_SEED = bytes(range(32, 64))
# Fingerprints are card fingerprints (they also bind the age recipient); fixed here.
DEVICE_FP = hashlib.sha256(b"vector device card").digest()
HQ_FP = hashlib.sha256(b"vector hq card").digest()
PHOTO = b"\xff\xd8\xff\xe0 not really a photo"

# (seed name, event, time, details, operator) in chain order for one attachment.
CHAIN: list[tuple[str, str, str, dict[str, Any], str | None]] = [
    ("device", "capture", "2026-05-14T09:30:00Z", {"size": len(PHOTO)}, None),
    ("device", "export", "2026-05-14T18:02:11Z", {"bundle_seq": 3, "bundle_id": "ab" * 16}, None),
    (
        "hq",
        "hq_import",
        "2026-05-20T08:00:00Z",
        {"bundle_seq": 3, "bundle_hash": "11" * 32, "device": DEVICE_FP.hex()},
        None,
    ),
    (
        "hq",
        "extraction",
        "2026-06-01T10:15:00Z",
        {
            "reason": "Юрист: дело об апелляции / legal team, appeal",
            "derived_sha256": "22" * 32,
            "stripped": True,
        },
        "A. Analyst",
    ),
]


def _bytes_details(d: dict[str, Any]) -> dict[str, Any]:
    return {
        k: bytes.fromhex(v) if custody.DETAIL_TYPES[k] in ("hash", "id") else v
        for k, v in d.items()
    }


def build(inputs: dict[str, Any]) -> dict[str, Any]:
    seeds = {"device": DEVICE_SEED, "hq": HQ_SEED}
    fps = {"device": DEVICE_FP, "hq": HQ_FP}
    item = Item(
        inputs["item"]["kind"], inputs["item"]["id"], None, bytes.fromhex(inputs["item"]["sha256"])
    )
    prev = custody.ZERO_HASH
    out = []
    for n, step in enumerate(inputs["chain"], start=1):
        who = step["signer"]
        entry = Entry(
            item,
            n,
            prev,
            step["event"],
            step["time"],
            Actor(fps[who], signing.public_key(seeds[who]), step["operator"]),
            _bytes_details(step["details"]),
        )
        body = custody.encode_body(entry)
        sig = signing.sign(seeds[who], CUSTODY_ENTRY, custody.signed_parts(body))
        h = custody.entry_hash(body, sig)
        out.append(
            {
                "body": body.decode("utf-8"),
                "signature_input": custody.signature_digest(body).hex(),
                "signature": sig.hex(),
                "entry_hash": h.hex(),
            }
        )
        prev = h
    return {
        "public_keys": {k: signing.public_key(v).hex() for k, v in seeds.items()},
        "entries": out,
    }


def invalid(valid_body: str) -> list[dict[str, str]]:
    doc = json.loads(valid_body)

    def variant(why: str, change: Any) -> dict[str, str]:
        d = json.loads(valid_body)
        change(d)
        return {
            "why": why,
            "body": json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        }

    cases = [
        {"why": "white space: not canonical", "body": json.dumps(doc, sort_keys=True)},
        {
            "why": "keys out of order: not canonical",
            "body": json.dumps(
                dict(reversed(list(doc.items()))), separators=(",", ":"), ensure_ascii=False
            ),
        },
        variant("version 2", lambda d: d.update(v=2)),
        variant("unknown event", lambda d: d.update(event="lost")),
        variant("seq 0", lambda d: d.update(seq=0)),
        variant("first entry with a non-zero prev", lambda d: d.update(prev="33" * 32)),
        variant("upper-case hex", lambda d: d["item"].update(sha256=d["item"]["sha256"].upper())),
        variant("short hash", lambda d: d["item"].update(sha256="ab" * 31)),
        variant("unknown detail", lambda d: d["details"].update(note="text nobody reviewed")),
        variant("detail of another event", lambda d: d["details"].update(reason="why")),
        variant("extra field", lambda d: d.update(extra=1)),
        variant("time not UTC", lambda d: d.update(time="2026-05-14T09:30:00+01:00")),
        variant("float size", lambda d: d["details"].update(size=1.5)),
        variant("boolean as a number", lambda d: d.update(seq=True)),
        variant(
            "control character in the operator name", lambda d: d["actor"].update(name="A\x1b[2JB")
        ),
        variant("attachment with a version", lambda d: d["item"].update(version=1)),
        {"why": "duplicated key", "body": valid_body[:-1] + ',"v":1}'},
        {"why": "not JSON", "body": valid_body[:-1]},
        {"why": "too large", "body": valid_body[:-1] + " " * custody.MAX_BODY + "}"},
    ]
    return cases


def main() -> None:
    inputs = {
        "item": {
            "kind": "attachment",
            "id": "a0vectorphoto01",
            "sha256": hashlib.sha256(PHOTO).hexdigest(),
        },
        "chain": [
            {"signer": s, "event": e, "time": t, "details": d, "operator": o}
            for s, e, t, d, o in CHAIN
        ],
    }
    expected = build(inputs)
    doc = {
        "labels": {
            "signature": "fieldkit/v1 custody entry",
            "entry_hash": "fieldkit/v1 custody entry hash",
        },
        "seeds": {"device": DEVICE_SEED.hex(), "hq": HQ_SEED.hex()},
        "content_hex": PHOTO.hex(),
        "inputs": inputs,
        "expected": expected,
        "invalid": invalid(expected["entries"][0]["body"]),
    }
    (HERE / "vectors.json").write_text(
        json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()

"""Verify a fieldkit custody report on any machine, from the exported JSON alone.

    python -m fieldkit.custody_verify report.json [--file PATH]

This module stands on its own: it imports nothing from fieldkit, only the Python
standard library and the `cryptography` package, so a reviewer can read it in one
sitting or copy it to a machine without fieldkit. It repeats, independently, what
docs/custody.md specifies and services/custody.py does:

  1. each key in "keys": fingerprint = labelled_hash("fieldkit/v1 card fingerprint";
     role, signing key, age recipient public key) (compare its short code out of band);
  2. each entry: the body is canonical JSON; it names the chain's item; its seq is its
     position; its prev is the hash of the entry before it (zeros for the first); its
     actor is a key from step 1; its Ed25519 signature verifies over
     labelled_hash("fieldkit/v1 custody entry"; body); its hash is
     labelled_hash("fieldkit/v1 custody entry hash"; body, signature);
  3. with --file: the file's SHA-256 is the hash of one of the report's items.

Exit status: 0 every check passed, 1 a check failed (each failure is printed),
2 the report could not be read at all.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
import unicodedata
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ENTRY_LABEL = b"fieldkit/v1 custody entry"
ENTRY_HASH_LABEL = b"fieldkit/v1 custody entry hash"
CARD_FINGERPRINT_LABEL = b"fieldkit/v1 card fingerprint"
REPORT_FORMAT = "fieldkit custody report"
MAX_REPORT = 64 * 1024 * 1024
ZERO = "0" * 64
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def labelled_hash(label: bytes, parts: list[bytes]) -> bytes:
    """SHA-256 over u32be(len(label)) label, then u64be(len(part)) part for each part."""
    h = hashlib.sha256(struct.pack(">I", len(label)) + label)
    for part in parts:
        h.update(struct.pack(">Q", len(part)) + part)
    return h.digest()


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def short_code(fingerprint: bytes) -> str:
    value = int.from_bytes(fingerprint[:13], "big") >> 4
    chars = "".join(_CROCKFORD[(value >> (5 * (19 - i))) & 31] for i in range(20))
    return "-".join(chars[i : i + 4] for i in range(0, 20, 4))


def _hex(value: Any, size: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size:
        raise ValueError("not hex of the right size")
    return bytes.fromhex(value)


def check_keys(report: dict[str, Any], problems: list[str]) -> dict[str, dict[str, Any]]:
    keys: dict[str, dict[str, Any]] = {}
    for n, k in enumerate(report.get("keys") or [], start=1):
        try:
            role = str(k["role"]).encode()
            signing_key = _hex(k["signing_key"], 32)
            age_public = bytes.fromhex(k["age_recipient_public"])
            fp = labelled_hash(CARD_FINGERPRINT_LABEL, [role, signing_key, age_public])
        except (KeyError, TypeError, ValueError):
            problems.append(f"key {n} is not readable")
            continue
        if fp.hex() != k.get("fingerprint"):
            problems.append(f"key {n}: its fingerprint is not the hash of its keys")
            continue
        keys[fp.hex()] = {**k, "short_code": short_code(fp)}
    return keys


def check_chain(
    chain: dict[str, Any], keys: dict[str, dict[str, Any]], problems: list[str]
) -> list[dict[str, Any]]:
    """The chain's entries as parsed bodies; every failure goes to `problems`."""
    item = chain.get("item")
    label = f"{item.get('id')}@{item.get('version')}" if isinstance(item, dict) else "?"
    prev = ZERO
    parsed: list[dict[str, Any]] = []
    entries = chain.get("entries")
    if not isinstance(entries, list) or not entries:
        problems.append(f"{label}: the chain has no entries")
        return parsed
    for n, e in enumerate(entries, start=1):
        where = f"{label}: entry {n}"
        try:
            body = str(e["body"]).encode("utf-8")
            sig = _hex(e["signature"], 64)
            doc = json.loads(body)
        except (KeyError, TypeError, ValueError):
            problems.append(f"{where} is not readable")
            prev = "unreadable"
            continue
        if not isinstance(doc, dict) or canonical(doc) != body:
            problems.append(f"{where}: the body is not canonical JSON")
        if doc.get("v") != 1:
            problems.append(f"{where}: unknown entry version")
        if doc.get("item") != item:
            problems.append(f"{where} names another item than the chain's")
        if doc.get("seq") != n:
            problems.append(f"{where} has number {doc.get('seq')}: an entry is missing or moved")
        if doc.get("prev") != prev:
            problems.append(f"{where} does not follow the entry before it")
        actor = doc.get("actor") if isinstance(doc.get("actor"), dict) else {}
        known = keys.get(str(actor.get("fp")))
        if known is None or known.get("signing_key") != actor.get("key"):
            problems.append(f"{where} is signed by a key the report does not list")
        try:
            Ed25519PublicKey.from_public_bytes(_hex(actor.get("key"), 32)).verify(
                sig, labelled_hash(ENTRY_LABEL, [body])
            )
        except (InvalidSignature, ValueError):
            problems.append(f"{where}: the signature does not verify")
        digest = labelled_hash(ENTRY_HASH_LABEL, [body, sig]).hex()
        if e.get("hash") != digest:
            problems.append(f"{where}: its hash is not the one listed")
        parsed.append(doc)
        prev = digest
    return parsed


def verify(report: Any, files: list[Path]) -> tuple[list[str], list[str]]:
    """(lines describing what was checked, problems)."""
    problems: list[str] = []
    lines: list[str] = []
    if not isinstance(report, dict) or report.get("format") != REPORT_FORMAT:
        return lines, ["this is not a fieldkit custody report"]
    if report.get("v") != 1:
        return lines, ["this custody report version is not supported"]
    keys = check_keys(report, problems)
    for k in keys.values():
        lines.append(f"key {k['role']} {k.get('name')!r}: code {k['short_code']}")
    hashes: set[str] = set()
    chains = report.get("chains")
    if not isinstance(chains, list) or not chains:
        problems.append("the report has no chains")
        chains = []
    for chain in chains:
        if not isinstance(chain, dict):
            problems.append("a chain is not readable")
            continue
        docs = check_chain(chain, keys, problems)
        item = chain.get("item") or {}
        hashes.add(str(item.get("sha256")))
        lines.append(f"item {item.get('kind')} {item.get('id')} sha256 {item.get('sha256')}")
        for d in docs:
            who = keys.get(str((d.get("actor") or {}).get("fp")), {})
            lines.append(
                f"  {d.get('seq')}. {d.get('time')} {d.get('event')} by {who.get('role')}"
                f" {who.get('name')!r} {json.dumps(d.get('details'), ensure_ascii=True)}"
            )
    for path in files:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() in hashes:
            lines.append(f"file {path}: its SHA-256 is the item's hash")
        else:
            problems.append(f"file {path}: its SHA-256 is not the hash of any item in the report")
    return lines, problems


def shown(text: str) -> str:
    """Controls, format characters (bidi overrides) and surrogates as \\uNNNN: a report
    comes from elsewhere, and a terminal must show its text, never act on it."""
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) in ("Cc", "Cf", "Cs") else c for c in text
    )


USAGE = "usage: python -m fieldkit.custody_verify REPORT.json [--file PATH]"


def main(argv: list[str]) -> int:
    files: list[Path] = []
    args = list(argv)
    while "--file" in args:
        i = args.index("--file")
        if i + 1 >= len(args):
            print(USAGE, file=sys.stderr)
            return 2
        files.append(Path(args[i + 1]))
        del args[i : i + 2]
    if len(args) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        with open(args[0], "rb") as fh:
            data = fh.read(MAX_REPORT + 1)
        if len(data) > MAX_REPORT:
            raise ValueError("too large")
        report = json.loads(data.decode("utf-8"))
    except (OSError, ValueError) as exc:
        print(f"custody_verify: cannot read the report ({type(exc).__name__})", file=sys.stderr)
        return 2
    lines, problems = verify(report, files)
    for line in lines:
        print(shown(line))
    for p in problems:
        print("PROBLEM: " + shown(p))
    if problems:
        print(f"NOT VERIFIED: {len(problems)} problem(s)")
        return 1
    print("VERIFIED: every entry is signed by a listed key and every chain is unbroken")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Custody entries: one signed, hash-chained statement about one item (docs/custody.md).

An item is an attachment (its content's SHA-256) or one stored record version (the
SHA-256 of its canonical document bytes). Each item has its own chain: entry 1 has
`prev` = 32 zero bytes, entry n has `prev` = entry_hash(entry n-1).

    entry      = body (canonical JSON, UTF-8, at most MAX_BODY bytes) | signature (64)
    signature  = Ed25519(actor key, labelled_hash("fieldkit/v1 custody entry"; body))
    entry_hash = labelled_hash("fieldkit/v1 custody entry hash"; body, signature)

The body is canonical JSON (formats/canonical.py) so that a person can read it and a
verifier needs nothing but a JSON parser: one encoding only, every other is rejected.
Bytes are lower-case hex. Entries carry hashes, ids, numbers and times, never testimony;
the only free text is an extraction's reason (written by an HQ analyst, bounded) and
an optional operator name. This module parses and serialises; signing and checking
chains is services/custody.py's, so test vectors drive the byte layout alone.
"""

from __future__ import annotations

import dataclasses
import json
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from fieldkit.crypto.hashing import labelled_hash
from fieldkit.crypto.labels import CUSTODY_ENTRY, CUSTODY_ENTRY_HASH
from fieldkit.errors import MalformedData
from fieldkit.formats import text as text_rules
from fieldkit.formats.canonical import canonical_json

VERSION = 1
HASH_SIZE = 32
BUNDLE_ID_SIZE = 16
FRAME_LEN = struct.Struct(">H")
KEY_SIZE = 32
SIGNATURE_SIZE = 64
ZERO_HASH = bytes(HASH_SIZE)
MAX_BODY = 4096
MAX_SEQ = 1 << 31
MAX_VERSION = 1 << 31
MAX_NAME = 64
MAX_REASON = 500
MAX_COUNT = 1 << 40
MAX_ENTRIES_PER_ITEM = 10_000

KINDS = ("attachment", "record_version")
EVENTS = (
    "capture",
    "edit",
    "export",
    "receipt",
    "purge",
    "hq_import",
    "extraction",
    "analyst_export",
    "derived",
)
# Events that may open a chain: the item comes into being (capture, edit, derived), or
# reaches an HQ vault that did not receive the device's entries (hq_import).
FIRST_EVENTS = ("capture", "edit", "derived", "hq_import")

_HEX32 = "hash"
_KEY = "key"
_INT = "int"
_BOOL = "true"
_REASON = "reason"
# Every detail a custody entry may carry, with its type. Types are closed: an unknown
# key is malformed, so an entry can never carry text nobody reviewed.
DETAIL_TYPES: dict[str, str] = {
    "size": _INT,  # capture of an attachment: its size in bytes
    "backfilled": _BOOL,  # written at the schema-8 upgrade, not at the event itself
    "parent_sha256": _HEX32,  # edit: the previous version's hash; derived: the original's
    "parent_version": _INT,  # edit: the previous version's number
    "bundle_seq": _INT,  # export, receipt, hq_import: the bundle's sequence number
    "bundle_hash": _HEX32,  # ... and its hash (signed manifest digest)
    "bundle_id": "id",  # export: the bundle's random id (its hash cannot be known yet)
    "device": _HEX32,  # hq_import: the card fingerprint of the device that signed it
    "hq": _HEX32,  # receipt: the card fingerprint of the HQ that signed it
    "reason": _REASON,  # extraction: the analyst's reason, shown literally
    "derived_sha256": _HEX32,  # extraction: the hash of the copy written, if not the original
    "stripped": _BOOL,  # extraction: the copy's identifying metadata was removed
    "export_sha256": _HEX32,  # analyst_export: the hash of the export's manifest
    "records": _INT,  # analyst_export: how many record versions the export holds
}
EVENT_DETAILS: dict[str, frozenset[str]] = {
    "capture": frozenset({"size", "backfilled"}),
    "edit": frozenset({"parent_sha256", "parent_version", "backfilled"}),
    "derived": frozenset({"parent_sha256", "size"}),
    "export": frozenset({"bundle_seq", "bundle_id"}),
    "receipt": frozenset({"bundle_seq", "bundle_hash", "hq"}),
    "purge": frozenset(),
    "hq_import": frozenset({"bundle_seq", "bundle_hash", "device", "backfilled"}),
    "extraction": frozenset({"reason", "derived_sha256", "stripped"}),
    "analyst_export": frozenset({"export_sha256", "records"}),
}
_ITEM_ID = re.compile(r"^[a-z][0-9a-z]{1,63}$")
_HEX = re.compile(r"^[0-9a-f]*$")
_TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")


class MalformedEntry(MalformedData):
    hint = "the custody entry is damaged or is not a fieldkit custody entry"


@dataclass(frozen=True)
class Item:
    kind: str
    id: str
    version: int | None
    sha256: bytes

    def key(self) -> tuple[str, str, int]:
        """(kind, id, version) with version 0 for an attachment: the chain's name."""
        return (self.kind, self.id, self.version or 0)

    def label(self) -> str:
        return self.id if self.version is None else f"{self.id}@{self.version}"


@dataclass(frozen=True)
class Actor:
    fingerprint: bytes  # the signer's card fingerprint
    key: bytes  # the signer's Ed25519 public key (the card's signing key)
    name: str | None = None  # an operator name HQ gave, if any


@dataclass(frozen=True)
class Entry:
    item: Item
    seq: int
    prev: bytes
    event: str
    time: str
    actor: Actor
    details: dict[str, Any] = field(default_factory=dict)


# ---- encoding ----------------------------------------------------------------------


def encode_body(e: Entry) -> bytes:
    """The canonical JSON body. Raises MalformedEntry for an entry this module would
    not accept back, so nothing unreadable is ever signed."""
    out = canonical_json(_body_doc(e))
    decode_body(out)  # one rule for writing and reading
    return out


def _body_doc(e: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {"kind": e.item.kind, "id": e.item.id, "sha256": e.item.sha256.hex()}
    if e.item.version is not None:
        item["version"] = e.item.version
    actor: dict[str, Any] = {"fp": e.actor.fingerprint.hex(), "key": e.actor.key.hex()}
    if e.actor.name is not None:
        actor["name"] = e.actor.name
    details = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in sorted(e.details.items())}
    return {
        "v": VERSION,
        "item": item,
        "seq": e.seq,
        "prev": e.prev.hex(),
        "event": e.event,
        "time": e.time,
        "actor": actor,
        "details": details,
    }


def signed_parts(body: bytes) -> list[bytes]:
    return [body]


def signature_digest(body: bytes) -> bytes:
    """What the Ed25519 signature is computed over (docs/custody.md, section 2)."""
    return labelled_hash(CUSTODY_ENTRY, signed_parts(body))


def entry_hash(body: bytes, signature: bytes) -> bytes:
    if len(signature) != SIGNATURE_SIZE:
        raise MalformedEntry("a custody signature is 64 bytes")
    return labelled_hash(CUSTODY_ENTRY_HASH, [body, signature])


# ---- decoding ----------------------------------------------------------------------


def decode_body(data: bytes) -> Entry:
    """Parse a body from untrusted bytes: size bounded first, canonical form only."""
    if not 2 <= len(data) <= MAX_BODY:
        raise MalformedEntry("custody entry body has an impossible size")
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except MalformedEntry:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedEntry("custody entry body is not valid JSON") from None
    d = _map(doc, {"v", "item", "seq", "prev", "event", "time", "actor", "details"}, set())
    if d["v"] != VERSION or isinstance(d["v"], bool):
        raise MalformedEntry("custody entry version is not 1")
    entry = Entry(
        item=_item(d["item"]),
        seq=_int(d["seq"], 1, MAX_SEQ, "seq"),
        prev=_hex(d["prev"], HASH_SIZE, "prev"),
        event=_event(d["event"]),
        time=_time(d["time"]),
        actor=_actor(d["actor"]),
        details={},
    )
    entry = dataclasses.replace(entry, details=_details(d["details"], entry.event))
    if entry.seq == 1 and entry.prev != ZERO_HASH:
        raise MalformedEntry("the first custody entry of an item has a zero prev")
    if entry.seq > 1 and entry.prev == ZERO_HASH:
        raise MalformedEntry("only the first custody entry has a zero prev")
    try:
        again = canonical_json(_body_doc(entry))
    except ValueError:
        raise MalformedEntry("custody entry body is not in canonical form") from None
    if again != data:
        raise MalformedEntry("custody entry body is not in canonical form")
    return entry


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise MalformedEntry("custody entry has a duplicated key")
    return d


def _map(v: Any, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(v, dict) or not required <= set(v) <= required | optional:
        raise MalformedEntry("custody entry does not have exactly the expected fields")
    return v


def _item(v: Any) -> Item:
    kind = v.get("kind") if isinstance(v, dict) else None
    if kind == "attachment":
        d = _map(v, {"kind", "id", "sha256"}, set())
        version = None
    elif kind == "record_version":
        d = _map(v, {"kind", "id", "version", "sha256"}, set())
        version = _int(d["version"], 1, MAX_VERSION, "item version")
    else:
        raise MalformedEntry("custody item kind is not attachment or record_version")
    if not isinstance(d["id"], str) or not _ITEM_ID.fullmatch(d["id"]):
        raise MalformedEntry("custody item id is not a valid id")
    return Item(kind, d["id"], version, _hex(d["sha256"], HASH_SIZE, "item sha256"))


def _actor(v: Any) -> Actor:
    d = _map(v, {"fp", "key"}, {"name"})
    name = d.get("name")
    if name is not None:
        name = _text(name, MAX_NAME, "operator name")
    return Actor(_hex(d["fp"], HASH_SIZE, "actor fp"), _hex(d["key"], KEY_SIZE, "actor key"), name)


def _details(v: Any, event: str) -> dict[str, Any]:
    if not isinstance(v, dict) or not set(v) <= EVENT_DETAILS[event]:
        raise MalformedEntry(f"custody entry details do not fit a {event} event")
    out: dict[str, Any] = {}
    for k, value in v.items():
        kind = DETAIL_TYPES[k]
        if kind == _HEX32:
            out[k] = _hex(value, HASH_SIZE, k)
        elif kind == "id":
            out[k] = _hex(value, BUNDLE_ID_SIZE, k)
        elif kind == _INT:
            out[k] = _int(value, 0, MAX_COUNT, k)
        elif kind == _BOOL:
            if value is not True:  # present only when true: one encoding
                raise MalformedEntry(f"custody detail {k} is present but not true")
            out[k] = True
        else:
            out[k] = _text(value, MAX_REASON, k)
    if event == "extraction" and "reason" not in out:
        raise MalformedEntry("an extraction entry names its reason")
    return out


def _event(v: Any) -> str:
    if v not in EVENTS:
        raise MalformedEntry("custody event is not one fieldkit knows")
    return str(v)


def _time(v: Any) -> str:
    if not isinstance(v, str) or not _TIMESTAMP.fullmatch(v):
        raise MalformedEntry("custody time is not YYYY-MM-DDTHH:MM:SSZ")
    return v


def _int(v: Any, low: int, high: int, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise MalformedEntry(f"custody {what} is out of range")
    return v


def _hex(v: Any, size: int, what: str) -> bytes:
    if not isinstance(v, str) or len(v) != 2 * size or not _HEX.fullmatch(v):
        raise MalformedEntry(f"custody {what} is not {size} bytes of lower-case hex")
    return bytes.fromhex(v)


def _text(v: Any, limit: int, what: str) -> str:
    if not isinstance(v, str) or not v or len(v) > limit:
        raise MalformedEntry(f"custody {what} is not text of 1 to {limit} characters")
    bad = text_rules.problem(v)
    if bad is not None:
        raise MalformedEntry(f"custody {what} {bad}")
    return v


# ---- a sequence of signed entries (the bundle's custody section) -------------------


def encode_frames(entries: list[tuple[bytes, bytes]]) -> bytes:
    """u16be(len(body)) | body | signature (64), for each entry in order."""
    out = bytearray()
    for body, sig in entries:
        if not 2 <= len(body) <= MAX_BODY or len(sig) != SIGNATURE_SIZE:
            raise MalformedEntry("a custody entry has an impossible size")
        out += FRAME_LEN.pack(len(body)) + body + sig
    return bytes(out)


def decode_frames(data: bytes, count: int) -> list[tuple[bytes, bytes]]:
    """Exactly `count` entries filling `data`; each length is bounded before it is read."""
    out: list[tuple[bytes, bytes]] = []
    pos = 0
    while pos < len(data):
        if len(out) == count or pos + FRAME_LEN.size > len(data):
            raise MalformedEntry("the custody section does not hold the entries it says")
        (n,) = FRAME_LEN.unpack_from(data, pos)
        pos += FRAME_LEN.size
        if not 2 <= n <= MAX_BODY or pos + n + SIGNATURE_SIZE > len(data):
            raise MalformedEntry("a custody entry in the section has an impossible size")
        out.append((bytes(data[pos : pos + n]), bytes(data[pos + n : pos + n + SIGNATURE_SIZE])))
        pos += n + SIGNATURE_SIZE
    if len(out) != count:
        raise MalformedEntry("the custody section does not hold the entries it says")
    return out

"""The fieldkit bundle container: what travels inside the age envelope.

    magic "FKBUNDLE" (8) | version u16 = 1 | manifest_len u32 | manifest (msgpack)
    | signature (64, Ed25519) | [custody section] | record sections | attachment sections
    | zero padding

The signature is Ed25519 over labelled_hash("fieldkit/v1 bundle manifest";
magic, version, manifest). The manifest lists every record version and attachment
with its size and SHA-256 (record entries unique by record id and version), so the
signature covers every byte that follows. That digest is also the bundle's hash.
Padding brings the container to its Padmé length. docs/bundle-format.md is the
byte-level spec; this module only parses and serialises, and bounds every length
before reading it.
"""

from __future__ import annotations

import json
import re
import struct
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import msgpack

from fieldkit.crypto.hashing import labelled_hash
from fieldkit.crypto.labels import BUNDLE_MANIFEST
from fieldkit.errors import MalformedData
from fieldkit.formats import text as text_rules
from fieldkit.formats.canonical import canonical_json
from fieldkit.formats.padding import padme

MAGIC = b"FKBUNDLE"
VERSION = 1
_PREFIX = struct.Struct(">8sHI")
PREFIX_SIZE = _PREFIX.size
SIGNATURE_SIZE = 64
HASH_SIZE = 32
ID_SIZE = 16

MAX_MANIFEST = 16 * 1024 * 1024
MAX_RECORDS = 100_000
MAX_ATTACHMENTS = 10_000
MAX_RECIPIENTS = 16
MAX_RECORD_SIZE = 8 * 1024 * 1024
MAX_ATTACHMENT_SIZE = 1 << 40  # 1 TiB
MAX_SEQ = (1 << 53) - 1
MAX_VERSION = 1 << 31
MAX_NAME = 255
MAX_MEDIA_TYPE = 255
MAX_DESCRIPTION = 2000
# The custody section (docs/bundle-format.md, section 5): the device's signed custody
# entries for the items the bundle carries. HQ holds it in memory to verify it before
# any record is read, so it is bounded: 256 MiB is some 300,000 entries.
MAX_CUSTODY_SIZE = 256 * 1024 * 1024
MAX_CUSTODY_ENTRIES = 400_000
_ITEM_ID = re.compile(r"^[a-z][0-9a-z]{1,63}$")


class MalformedBundle(MalformedData):
    exit_code = 27
    hint = "the bundle does not follow the fieldkit format; it was not imported"


@dataclass(frozen=True)
class RecordEntry:
    id: str
    version: int
    size: int
    sha256: bytes


@dataclass(frozen=True)
class AttachmentEntry:
    id: str
    record: str
    name: str
    media_type: str
    description: str
    size: int
    sha256: bytes


@dataclass(frozen=True)
class CustodySection:
    size: int  # bytes of the section
    count: int  # entries in it
    sha256: bytes  # SHA-256 of the section's bytes


@dataclass(frozen=True)
class Manifest:
    bundle_id: bytes
    device: bytes
    seq: int
    prev: bytes | None
    created: int
    recipients: tuple[bytes, ...]
    history_head: bytes
    records: tuple[RecordEntry, ...]
    attachments: tuple[AttachmentEntry, ...]
    # The previous bundle (seq - 1, hash `prev`) was never written and never will be:
    # its content changed before it could be; what it still owed is in this bundle or
    # a later one. Encoded only when true.
    prev_abandoned: bool = False
    # The device's custody entries for what the bundle carries, in a section before the
    # records. Encoded only when present: bundles of devices before it stay valid.
    custody: CustodySection | None = None

    def custody_size(self) -> int:
        return 0 if self.custody is None else self.custody.size

    def content_size(self) -> int:
        return (
            self.custody_size()
            + sum(r.size for r in self.records)
            + sum(a.size for a in self.attachments)
        )


# ---- names --------------------------------------------------------------------


def check_attachment_name(name: str) -> str:
    """A file name as metadata, never as a path: no separators, no control characters."""
    if not name or len(name.encode("utf-8")) > MAX_NAME:
        raise MalformedBundle("attachment name is empty or longer than 255 bytes")
    if name in (".", "..") or "/" in name or "\\" in name:
        raise MalformedBundle("attachment name contains a path")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise MalformedBundle("attachment name contains control characters")
    return name


def safe_attachment_name(name: str) -> str:
    """The sanitised form fieldkit stores at intake (basename, no control characters)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join("_" if unicodedata.category(c)[0] == "C" else c for c in base)
    cleaned = cleaned if cleaned not in ("", ".", "..") else "attachment"
    while len(cleaned.encode("utf-8")) > MAX_NAME:
        cleaned = cleaned[:-1]
    return cleaned


# ---- manifest encoding ----------------------------------------------------------


def encode_manifest(m: Manifest) -> bytes:
    """Deterministic msgpack: fixed key order, minimal integer widths, bin for bytes."""
    doc: dict[str, Any] = {
        "v": VERSION,
        "bundle_id": m.bundle_id,
        "device": m.device,
        "seq": m.seq,
        "prev": m.prev,
        **({"prev_abandoned": True} if m.prev_abandoned else {}),
        "created": m.created,
        "recipients": list(m.recipients),
        "history_head": m.history_head,
        "records": [_entry_doc(r) for r in m.records],
        "attachments": [_entry_doc(a) for a in m.attachments],
    }
    if m.custody is not None:
        doc["custody"] = {
            "size": m.custody.size,
            "count": m.custody.count,
            "sha256": m.custody.sha256,
        }
    return _packb(doc)


def entry_size(entry: RecordEntry | AttachmentEntry) -> int:
    """The bytes one entry adds to an encoded manifest: msgpack arrays are their
    header followed by their items, so a manifest is its fixed part plus its entries."""
    return len(_packb(_entry_doc(entry)))


def fixed_manifest_size(device: bytes, recipients: tuple[bytes, ...]) -> int:
    """An upper bound on an encoded manifest without its entries: every number and
    hash at its widest, and both arrays' headers at their widest (5 bytes)."""
    widest = Manifest(
        bundle_id=bytes(ID_SIZE),
        device=device,
        seq=MAX_SEQ,
        prev=bytes(HASH_SIZE),
        created=1 << 40,
        recipients=recipients,
        history_head=bytes(HASH_SIZE),
        records=(),
        attachments=(),
        prev_abandoned=True,
        custody=CustodySection(MAX_CUSTODY_SIZE, MAX_CUSTODY_ENTRIES, bytes(HASH_SIZE)),
    )
    return len(encode_manifest(widest)) + 2 * 4  # an empty array's header is 1 byte


def _entry_doc(e: RecordEntry | AttachmentEntry) -> dict[str, Any]:
    if isinstance(e, RecordEntry):
        return {"id": e.id, "version": e.version, "size": e.size, "sha256": e.sha256}
    return {
        "id": e.id,
        "record": e.record,
        "name": e.name,
        "type": e.media_type,
        "description": e.description,
        "size": e.size,
        "sha256": e.sha256,
    }


def _packb(doc: dict[str, Any]) -> bytes:
    out = msgpack.packb(doc, use_bin_type=True)
    if not isinstance(out, bytes):
        raise TypeError("msgpack did not return bytes")
    return out


def _no_duplicates(pairs: list[tuple[Any, Any]]) -> dict[Any, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise MalformedBundle("manifest has a duplicated key")
    return d


def decode_manifest(data: bytes) -> Manifest:
    if len(data) > MAX_MANIFEST:
        raise MalformedBundle("manifest too large")
    try:
        doc = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
            object_pairs_hook=_no_duplicates,
            max_str_len=64 * 1024,
            max_bin_len=64,
            max_array_len=max(MAX_RECORDS, MAX_ATTACHMENTS, MAX_RECIPIENTS),
            max_map_len=16,
            max_ext_len=0,
        )
    except MalformedBundle:
        raise
    except (ValueError, TypeError, msgpack.UnpackException, RecursionError) as exc:
        raise MalformedBundle(f"manifest is not valid msgpack ({type(exc).__name__})") from None
    return _manifest(doc)


def _manifest(doc: Any) -> Manifest:
    abandoned = isinstance(doc, dict) and "prev_abandoned" in doc
    if abandoned:
        if doc["prev_abandoned"] is not True:  # absent when false: one encoding only
            raise MalformedBundle("prev_abandoned is present but not true")
        doc = {k: v for k, v in doc.items() if k != "prev_abandoned"}
    custody = None
    if isinstance(doc, dict) and "custody" in doc:
        c = _map(doc["custody"], ("size", "count", "sha256"), "custody section")
        custody = CustodySection(
            size=_int(c["size"], 1, MAX_CUSTODY_SIZE, "custody size"),
            count=_int(c["count"], 1, MAX_CUSTODY_ENTRIES, "custody count"),
            sha256=_bin(c["sha256"], HASH_SIZE, "custody sha256"),
        )
        doc = {k: v for k, v in doc.items() if k != "custody"}
    d = _map(
        doc,
        (
            "v",
            "bundle_id",
            "device",
            "seq",
            "prev",
            "created",
            "recipients",
            "history_head",
            "records",
            "attachments",
        ),
        "manifest",
    )
    if d["v"] != VERSION:
        raise MalformedBundle("manifest version is not 1")
    seq = _int(d["seq"], 1, MAX_SEQ, "seq")
    prev = d["prev"]
    if seq == 1:
        if prev is not None or abandoned:
            raise MalformedBundle("the first bundle of a device has no previous bundle")
    else:
        prev = _bin(prev, HASH_SIZE, "prev")
    recipients = _list(d["recipients"], 1, MAX_RECIPIENTS, "recipients")
    recips = tuple(_bin(r, HASH_SIZE, "recipient") for r in recipients)
    if len(set(recips)) != len(recips):
        raise MalformedBundle("manifest lists a recipient twice")
    records = tuple(_record(r) for r in _list(d["records"], 0, MAX_RECORDS, "records"))
    atts = tuple(_attachment(a) for a in _list(d["attachments"], 0, MAX_ATTACHMENTS, "attachments"))
    # One entry per record version: several versions of a record may travel together
    # (every version the fieldworker saved goes to HQ), each version once.
    if len({(r.id, r.version) for r in records}) != len(records):
        raise MalformedBundle("manifest lists a record version twice")
    if len({a.id for a in atts}) != len(atts):
        raise MalformedBundle("manifest lists an attachment twice")
    if not records and not atts:
        raise MalformedBundle("the bundle carries nothing")
    return Manifest(
        bundle_id=_bin(d["bundle_id"], ID_SIZE, "bundle_id"),
        device=_bin(d["device"], HASH_SIZE, "device"),
        seq=seq,
        prev=prev,
        created=_int(d["created"], 0, 1 << 40, "created"),
        recipients=recips,
        history_head=_bin(d["history_head"], HASH_SIZE, "history_head"),
        records=records,
        attachments=atts,
        prev_abandoned=abandoned,
        custody=custody,
    )


def _record(doc: Any) -> RecordEntry:
    d = _map(doc, ("id", "version", "size", "sha256"), "record entry")
    return RecordEntry(
        id=_item_id(d["id"], "record id"),
        version=_int(d["version"], 1, MAX_VERSION, "record version"),
        size=_int(d["size"], 2, MAX_RECORD_SIZE, "record size"),
        sha256=_bin(d["sha256"], HASH_SIZE, "record sha256"),
    )


def _attachment(doc: Any) -> AttachmentEntry:
    d = _map(
        doc, ("id", "record", "name", "type", "description", "size", "sha256"), "attachment entry"
    )
    return AttachmentEntry(
        id=_item_id(d["id"], "attachment id"),
        record=_item_id(d["record"], "attachment record"),
        name=check_attachment_name(_str(d["name"], MAX_NAME, "attachment name")),
        media_type=_str(d["type"], MAX_MEDIA_TYPE, "media type"),
        description=_str(d["description"], MAX_DESCRIPTION, "description", multiline=True),
        size=_int(d["size"], 0, MAX_ATTACHMENT_SIZE, "attachment size"),
        sha256=_bin(d["sha256"], HASH_SIZE, "attachment sha256"),
    )


def _map(doc: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or set(doc) != set(keys):
        raise MalformedBundle(f"{what} does not have exactly the expected fields")
    return doc


def _list(v: Any, low: int, high: int, what: str) -> list[Any]:
    if not isinstance(v, list) or not low <= len(v) <= high:
        raise MalformedBundle(f"{what} must be a list of {low} to {high} entries")
    return v


def _int(v: Any, low: int, high: int, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise MalformedBundle(f"{what} is out of range")
    return v


def _bin(v: Any, size: int, what: str) -> bytes:
    if not isinstance(v, bytes) or len(v) != size:
        raise MalformedBundle(f"{what} must be {size} bytes")
    return v


def _str(v: Any, limit: int, what: str, *, multiline: bool = False) -> str:
    if not isinstance(v, str) or len(v) > limit:
        raise MalformedBundle(f"{what} is not text of at most {limit} characters")
    bad = text_rules.problem(v, multiline=multiline)
    if bad is not None:
        raise MalformedBundle(f"{what} {bad}")
    return v


def _item_id(v: Any, what: str) -> str:
    if not isinstance(v, str) or not _ITEM_ID.fullmatch(v):
        raise MalformedBundle(f"{what} is not a valid id")
    return v


# ---- signature input, hash, prefix, padding ---------------------------------------


def signed_parts(manifest_bytes: bytes) -> list[bytes]:
    return [MAGIC, struct.pack(">H", VERSION), manifest_bytes]


def bundle_hash(manifest_bytes: bytes) -> bytes:
    return labelled_hash(BUNDLE_MANIFEST, signed_parts(manifest_bytes))


def prefix(manifest_bytes: bytes, signature: bytes) -> bytes:
    if len(signature) != SIGNATURE_SIZE or len(manifest_bytes) > MAX_MANIFEST:
        raise ValueError("bad signature or manifest size")
    return _PREFIX.pack(MAGIC, VERSION, len(manifest_bytes)) + manifest_bytes + signature


def padding_size(unpadded: int) -> int:
    return padme(unpadded) - unpadded


def unpadded_size(manifest_bytes_len: int, m: Manifest) -> int:
    return PREFIX_SIZE + manifest_bytes_len + SIGNATURE_SIZE + m.content_size()


# ---- reading ------------------------------------------------------------------------


class Source(Protocol):
    def read(self, n: int) -> bytes: ...


def read_exact(src: Source, n: int, what: str) -> bytes:
    data = src.read(n)
    if len(data) != n:
        raise MalformedBundle(f"the bundle ends inside the {what}")
    return data


def read_prefix(src: Source) -> tuple[bytes, Manifest, bytes]:
    """(manifest bytes, manifest, signature); the length is bounded before reading."""
    magic, version, mlen = _PREFIX.unpack(read_exact(src, PREFIX_SIZE, "header"))
    if magic != MAGIC:
        raise MalformedBundle("not a fieldkit bundle (bad magic)")
    if version != VERSION:
        raise MalformedBundle(f"bundle version {version} is not supported")
    if not 1 <= mlen <= MAX_MANIFEST:
        raise MalformedBundle("manifest length out of range")
    manifest_bytes = read_exact(src, mlen, "manifest")
    signature = read_exact(src, SIGNATURE_SIZE, "signature")
    return manifest_bytes, decode_manifest(manifest_bytes), signature


class PieceSource(Protocol):
    def read_some(self, n: int) -> bytes: ...


def iter_section(src: PieceSource, size: int) -> Iterator[bytes]:
    """Exactly `size` bytes, in pieces as the source delivers them (no re-buffering)."""
    remaining = size
    while remaining:
        part = src.read_some(remaining)
        if not part:
            raise MalformedBundle("the bundle ends inside the content")
        remaining -= len(part)
        yield part


def check_padding(src: Source, expected: int) -> None:
    """Exactly `expected` zero bytes, then the end of the container."""
    remaining = expected
    while remaining:
        part = src.read(min(65536, remaining))
        if not part:
            raise MalformedBundle("the bundle padding is short")
        if part.count(0) != len(part):
            raise MalformedBundle("the bundle padding is not zero")
        remaining -= len(part)
    if src.read(1):
        raise MalformedBundle("data after the end of the bundle")


# ---- record sections ------------------------------------------------------------------

_RECORD_KEYS = ("created_at", "doc", "id", "updated_at", "version")


_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def is_timestamp(v: Any) -> bool:
    """A time as fieldkit writes it (services/clock.py): UTC, ISO 8601, whole seconds,
    'YYYY-MM-DDTHH:MM:SSZ', and a real calendar time."""
    if not isinstance(v, str) or not _TIMESTAMP.fullmatch(v):
        return False
    try:
        datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class RecordSection:
    id: str
    version: int
    created_at: str
    updated_at: str
    doc: dict[str, Any]


def encode_record(r: RecordSection) -> bytes:
    return canonical_json(
        {
            "id": r.id,
            "version": r.version,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "doc": r.doc,
        }
    )


def decode_record(data: bytes, entry: RecordEntry) -> RecordSection:
    """Parse a record section whose SHA-256 the caller has already checked."""
    try:
        d = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedBundle(f"record {entry.id} is not valid JSON") from None
    if not isinstance(d, dict) or tuple(sorted(d)) != _RECORD_KEYS:
        raise MalformedBundle(f"record {entry.id} does not have exactly the expected fields")
    try:
        canonical = canonical_json(d)
    except ValueError:  # a lone surrogate written as a JSON escape; NaN; 1e999
        raise MalformedBundle(f"record {entry.id} is not in canonical form") from None
    if canonical != data:
        raise MalformedBundle(f"record {entry.id} is not in canonical form")
    if d["id"] != entry.id or d["version"] != entry.version:
        raise MalformedBundle(f"record {entry.id} does not match its manifest entry")
    if (
        not isinstance(d["doc"], dict)
        or not is_timestamp(d["created_at"])
        or not is_timestamp(d["updated_at"])
    ):
        raise MalformedBundle(f"record {entry.id} has fields of the wrong type")
    return RecordSection(d["id"], d["version"], d["created_at"], d["updated_at"], d["doc"])

"""HQ receipts: HQ's signed statement that it imported a bundle.

    magic "FKRECEPT" (8) | version u16 = 1 | body_len u32 | body (msgpack) | signature (64)

body = {"v": 1, "bundle_id": bin16, "bundle_hash": bin32, "device": bin32, "seq": int,
        "hq": bin32, "received": int, "records": int, "attachments": int}
signature = Ed25519(HQ key, labelled_hash("fieldkit/v1 receipt"; magic, version, body)).
The whole receipt travels age-encrypted to the device's post-quantum recipient.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import msgpack

from fieldkit.formats.bundle import MAX_SEQ, MalformedBundle

MAGIC = b"FKRECEPT"
VERSION = 1
_PREFIX = struct.Struct(">8sHI")
SIGNATURE_SIZE = 64
MAX_BODY = 4096
MAX_RECEIPT = _PREFIX.size + MAX_BODY + SIGNATURE_SIZE
_KEYS = (
    "v",
    "bundle_id",
    "bundle_hash",
    "device",
    "seq",
    "hq",
    "received",
    "records",
    "attachments",
)


class MalformedReceipt(MalformedBundle):
    hint = "the receipt is damaged or is not a fieldkit receipt"


@dataclass(frozen=True)
class Receipt:
    bundle_id: bytes
    bundle_hash: bytes
    device: bytes
    seq: int
    hq: bytes
    received: int
    records: int
    attachments: int


def encode_body(r: Receipt) -> bytes:
    out = msgpack.packb(
        {
            "v": VERSION,
            "bundle_id": r.bundle_id,
            "bundle_hash": r.bundle_hash,
            "device": r.device,
            "seq": r.seq,
            "hq": r.hq,
            "received": r.received,
            "records": r.records,
            "attachments": r.attachments,
        },
        use_bin_type=True,
    )
    if not isinstance(out, bytes):
        raise TypeError("msgpack did not return bytes")
    return out


def signed_parts(body: bytes) -> list[bytes]:
    return [MAGIC, struct.pack(">H", VERSION), body]


def serialise(body: bytes, signature: bytes) -> bytes:
    return _PREFIX.pack(MAGIC, VERSION, len(body)) + body + signature


def parse(data: bytes) -> tuple[bytes, Receipt, bytes]:
    """(body bytes, receipt, signature). Signature checking is the caller's."""
    if len(data) < _PREFIX.size or len(data) > MAX_RECEIPT:
        raise MalformedReceipt("receipt has an impossible size")
    magic, version, blen = _PREFIX.unpack_from(data, 0)
    if magic != MAGIC or version != VERSION:
        raise MalformedReceipt("not a fieldkit receipt, or an unsupported version")
    if blen > MAX_BODY or len(data) != _PREFIX.size + blen + SIGNATURE_SIZE:
        raise MalformedReceipt("receipt length fields do not match")
    body = data[_PREFIX.size : _PREFIX.size + blen]
    try:
        d = msgpack.unpackb(
            body,
            raw=False,
            strict_map_key=True,
            max_bin_len=64,
            max_str_len=64,
            max_array_len=0,
            max_map_len=16,
            max_ext_len=0,
        )
    except (ValueError, TypeError, msgpack.UnpackException):
        raise MalformedReceipt("receipt body is not valid msgpack") from None
    if not isinstance(d, dict) or set(d) != set(_KEYS) or d["v"] != VERSION:
        raise MalformedReceipt("receipt body does not have exactly the expected fields")
    receipt = Receipt(
        bundle_id=_bin(d["bundle_id"], 16),
        bundle_hash=_bin(d["bundle_hash"], 32),
        device=_bin(d["device"], 32),
        seq=_int(d["seq"], 1, MAX_SEQ),
        hq=_bin(d["hq"], 32),
        received=_int(d["received"], 0, 1 << 40),
        records=_int(d["records"], 0, 1 << 32),
        attachments=_int(d["attachments"], 0, 1 << 32),
    )
    return bytes(body), receipt, bytes(data[-SIGNATURE_SIZE:])


def _bin(v: Any, n: int) -> bytes:
    if not isinstance(v, bytes) or len(v) != n:
        raise MalformedReceipt("receipt field has the wrong size")
    return v


def _int(v: Any, low: int, high: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
        raise MalformedReceipt("receipt number out of range")
    return v

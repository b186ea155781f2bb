"""Tools an attacker (or a test) has: HQ's public key, maybe a device key, and bytes."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import HybridIdentity, HybridRecipient
from fieldkit.crypto.labels import BUNDLE_MANIFEST
from fieldkit.formats import age, bundle
from fieldkit.formats.bundle import AttachmentEntry, Manifest, RecordEntry
from fieldkit.formats.canonical import canonical_json


def decrypt(data: bytes, ident: HybridIdentity) -> bytes:
    return age.decrypt_bytes(data, [ident])


def encrypt(container: bytes, to: HybridRecipient) -> bytes:
    return age.encrypt_bytes(container, [to])


def split(container: bytes) -> tuple[bytes, Manifest, bytes, bytes]:
    """(manifest bytes, manifest, signature, rest after the signature)."""
    src = io.BytesIO(container)
    mbytes, manifest, sig = bundle.read_prefix(src)
    return mbytes, manifest, sig, src.read()


def build(
    manifest: Manifest,
    sections: list[bytes],
    signing_secret: bytes,
    *,
    fix_hashes: bool = True,
    pad: bool = True,
    custody: bytes | None = None,
) -> bytes:
    """A container for `manifest` carrying `sections` (records then attachments), and
    the custody section `custody` before them if given (else none: a bundle as devices
    made it before the custody log, which HQ still takes)."""
    if fix_hashes:
        recs = [
            replace(r, size=len(s), sha256=hashlib.sha256(s).digest())
            for r, s in zip(manifest.records, sections, strict=False)
        ]
        atts = [
            replace(a, size=len(s), sha256=hashlib.sha256(s).digest())
            for a, s in zip(manifest.attachments, sections[len(recs) :], strict=False)
        ]
        manifest = replace(manifest, records=tuple(recs), attachments=tuple(atts))
    if custody is None:
        manifest = replace(manifest, custody=None)
    elif fix_hashes or manifest.custody is None:
        count = manifest.custody.count if manifest.custody is not None else 1
        manifest = replace(
            manifest,
            custody=bundle.CustodySection(len(custody), count, hashlib.sha256(custody).digest()),
        )
    mbytes = bundle.encode_manifest(manifest)
    sig = signing.sign(signing_secret, BUNDLE_MANIFEST, bundle.signed_parts(mbytes))
    body = bundle.prefix(mbytes, sig) + (custody or b"") + b"".join(sections)
    if pad:
        body += bytes(bundle.padding_size(len(body)))
    return body


def record_doc(section: bytes) -> dict[str, Any]:
    """A record section as the JSON object it is."""
    d: dict[str, Any] = json.loads(section)
    return d


def record_section(d: dict[str, Any]) -> bytes:
    """The section bytes for `d`, in canonical JSON as a device writes them. A lone
    surrogate is written as its JSON escape (it has no UTF-8 form)."""
    try:
        return canonical_json(d)
    except UnicodeEncodeError:
        text = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        return text.encode("ascii")


def altered(
    container: bytes,
    signing_secret: bytes,
    *,
    record: Callable[[dict[str, Any]], None] | None = None,
    **manifest_changes: Any,
) -> bytes:
    """`container` with its first record section changed by `record` and manifest
    fields replaced, re-signed with `signing_secret` (the stolen device key)."""
    _mbytes, m, _sig, _rest = split(container)
    sections = sections_of(container)
    if record is not None:
        d = record_doc(sections[0])
        record(d)
        sections[0] = record_section(d)
    return build(replace(m, **manifest_changes), sections, signing_secret)


def custody_of(container: bytes) -> bytes | None:
    """The custody section, if the container has one."""
    _mbytes, m, _sig, rest = split(container)
    return None if m.custody is None else rest[: m.custody.size]


def sections_of(container: bytes) -> list[bytes]:
    """The record and attachment sections (after the custody section, if any)."""
    _mbytes, m, _sig, rest = split(container)
    out, off = [], m.custody_size()
    for e in [*m.records, *m.attachments]:
        out.append(rest[off : off + e.size])
        off += e.size
    return out


__all__ = [
    "AttachmentEntry",
    "RecordEntry",
    "altered",
    "build",
    "custody_of",
    "decrypt",
    "encrypt",
    "record_doc",
    "record_section",
    "sections_of",
    "split",
]

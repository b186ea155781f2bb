"""Tools an attacker (or a test) has: HQ's public key, maybe a device key, and bytes."""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import HybridIdentity, HybridRecipient
from fieldkit.crypto.labels import BUNDLE_MANIFEST
from fieldkit.formats import age, bundle
from fieldkit.formats.bundle import AttachmentEntry, Manifest, RecordEntry


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
) -> bytes:
    """A container for `manifest` carrying `sections` (records then attachments)."""
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
    mbytes = bundle.encode_manifest(manifest)
    sig = signing.sign(signing_secret, BUNDLE_MANIFEST, bundle.signed_parts(mbytes))
    body = bundle.prefix(mbytes, sig) + b"".join(sections)
    if pad:
        body += bytes(bundle.padding_size(len(body)))
    return body


def sections_of(container: bytes) -> list[bytes]:
    _mbytes, m, _sig, rest = split(container)
    out, off = [], 0
    for e in [*m.records, *m.attachments]:
        out.append(rest[off : off + e.size])
        off += e.size
    return out


__all__ = ["AttachmentEntry", "RecordEntry", "build", "decrypt", "encrypt", "sections_of", "split"]

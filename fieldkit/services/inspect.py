"""Inspect a bundle without importing it.

Without keys: file size, recipient count and types (all anyone can see). With an HQ
identity (a file or an HQ vault): the manifest, the signer and a full verification
(signature, recipients, every hash, padding, the age payload to its end), writing
nothing anywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import HybridIdentity, X25519Identity
from fieldkit.crypto.labels import BUNDLE_MANIFEST
from fieldkit.errors import AuthenticationFailed, FieldkitError
from fieldkit.formats import age, bundle, cards
from fieldkit.formats.bundle import Manifest
from fieldkit.services import fsio
from fieldkit.store import trust as trust_store
from fieldkit.store.db import Database


@dataclass
class Inspection:
    path: Path
    size: int
    stanza_types: list[str]
    manifest: Manifest | None = None
    bundle_hash: bytes | None = None
    signer: str | None = None
    verified: bool | None = None
    problems: list[str] = field(default_factory=list)


def outside(path: Path) -> Inspection:
    with fsio.reading(path):
        size = path.stat().st_size
        with open(path, "rb") as fh:
            header, _ = age.stanza_types(fh)
    return Inspection(path, size, [s.type for s in header.stanzas])


def inside(
    path: Path,
    identities: list[HybridIdentity | X25519Identity],
    db: Database | None = None,
    hq_fingerprint: bytes | None = None,
) -> Inspection:
    result = outside(path)
    with fsio.reading(path), open(path, "rb") as fh:
        dec = age.Decryption(fh, identities, armored=False)
        mbytes, manifest, sig = bundle.read_prefix(dec)
        result.manifest = manifest
        result.bundle_hash = bundle.bundle_hash(mbytes)
        device = trust_store.get_device(db, manifest.device) if db is not None else None
        if device is None:
            result.signer = f"unknown device {cards.short_code(manifest.device)}"
            result.problems.append("the signer is not an enrolled device of this HQ")
        else:
            card = cards.parse(device.card)
            result.signer = f"{device.name} ({card.short_code})"
            try:
                signing.verify(card.signing_key, sig, BUNDLE_MANIFEST, bundle.signed_parts(mbytes))
            except AuthenticationFailed:
                result.problems.append("the signature does not verify")
            if device.revoked_at:
                result.problems.append(f"the device was revoked on {device.revoked_at}")
        if hq_fingerprint is not None and hq_fingerprint not in manifest.recipients:
            result.problems.append("this HQ is not among the signed recipients")
        try:
            for r in manifest.records:
                if hashlib.sha256(bundle.read_exact(dec, r.size, "records")).digest() != r.sha256:
                    result.problems.append(f"record {r.id} does not match its hash")
            for a in manifest.attachments:
                h = hashlib.sha256()
                for part in bundle.iter_section(dec, a.size):
                    h.update(part)
                if h.digest() != a.sha256:
                    result.problems.append(f"attachment {a.id} does not match its hash")
            unpadded = bundle.unpadded_size(len(mbytes), manifest)
            bundle.check_padding(dec, bundle.padding_size(unpadded))
        except FieldkitError as exc:
            result.problems.append(exc.message)
    result.verified = not result.problems
    return result

"""Inspect a bundle without importing it.

Without keys: file size, recipient count and types (all anyone can see). With an HQ
identity file: the manifest as the bundle states it, unverified (only an HQ vault's
device roster can check the signer). With the HQ vault: the manifest and the verdict
of `hq import` itself, run as a dry run (services/hq_import.py): the same checks in
the same order, then rolled back, so inspect and import never disagree. Nothing is
kept anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fieldkit.crypto.age_keys import HybridIdentity, X25519Identity
from fieldkit.errors import FieldkitError
from fieldkit.formats import age, bundle, cards
from fieldkit.formats.bundle import Manifest
from fieldkit.services import fsio, hq_import
from fieldkit.store.db import Database

NO_ROSTER = "the signer is not an enrolled device of this HQ"


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
    exit_code: int = 0  # of the first problem, as `hq import` would exit
    duplicate: bool = False
    unknown_recipients: list[str] = field(default_factory=list)


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
) -> Inspection:
    """The manifest (opened with `identities`), and with an HQ vault `db` the verdict
    of a dry-run import."""
    result = outside(path)
    with fsio.reading(path), open(path, "rb") as fh:
        dec = age.Decryption(fh, identities, armored=False)
        mbytes, manifest, _sig = bundle.read_prefix(dec)
    result.manifest = manifest
    result.bundle_hash = bundle.bundle_hash(mbytes)
    result.signer = f"device {cards.short_code(manifest.device)} (as the bundle claims)"
    if db is None:
        result.problems.append(NO_ROSTER)
        result.exit_code = 10
        result.verified = False
        return result
    try:
        report = hq_import.import_bundle(db, path, dry_run=True)
    except FieldkitError as exc:
        result.problems.append(exc.message)
        result.exit_code = exc.exit_code
        result.verified = False
        return result
    result.signer = f"{report.device_name} ({report.device_code})"
    result.duplicate = report.duplicate
    result.unknown_recipients = report.unknown_recipients
    result.verified = True
    return result

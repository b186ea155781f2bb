"""Attachments extracted at HQ, each with a reason that is logged.

An HQ analyst who writes a plaintext copy of an attachment (a photo of an expulsion
order, a recording) out of the vault says why; the vault's extraction log
(`extraction_log`, schema 7) keeps the time, the attachment and record ids, its SHA-256,
the reason and whether the copy was written. The log entry is committed before the copy
is made, so no copy leaves the vault unlogged: an extraction that fails says `failed`.
The log holds no testimony and not the path of the copy (a folder name can identify).

The copy is a working copy without identifying metadata by default (GPS position,
camera serial, author, ...: services/media.py), read back before it is put in place;
a file fieldkit cannot strip is refused (StripUnsupported) rather than written with its
metadata, so a copy that leaves the vault without --original never carries it unseen.
`original=True` writes the bit-exact original. The vault's original is never altered.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fieldkit.errors import (
    FileAccessError,
    IntegrityError,
    InvalidInput,
    MetadataRemains,
    StripUnsupported,
)
from fieldkit.formats import text as text_rules
from fieldkit.services import custody, fsio, identity, media
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.clock import iso_utc
from fieldkit.store import analysis as store
from fieldkit.store import attachments as att_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.db import Database

MAX_REASON = 500
MIN_REASON = 3


def check_reason(reason: str) -> str:
    """The reason as it will be logged (trimmed), or InvalidInput saying what is wrong."""
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise InvalidInput(
            "give a reason for the extraction (it is logged)",
            hint="for example: 'legal team, case file for the appeal'",
        )
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters")
    problem = text_rules.problem(reason)
    if problem is not None:
        raise InvalidInput(f"the reason {problem}", hint="write it on one line")
    return reason


@dataclass(frozen=True)
class Extracted:
    """What `extract` wrote. `sha256` and `stripped` are what a custody log records of
    the copy (services/custody.py at merge): the copy's own hash, and whether it is a
    stripped working copy (False: the bit-exact original, sha256 == row.sha256)."""

    row: AttachmentRow
    sha256: bytes
    size: int
    stripped: bool
    found: media.Findings  # what the original carries (listed to the analyst)
    format: str = ""  # the stripped copy's format ("JPEG", "MP3", ...)


def extract(
    db: Database,
    attachment_id: str,
    out: Path,
    reason: str,
    *,
    original: bool = False,
    overwrite: bool = False,
    now: Callable[[], float] = time.time,
) -> Extracted:
    """Log the extraction with its reason, then write the copy atomically: by default a
    working copy without identifying metadata (services/media.py), read back and refused
    if anything identifying is left; with `original`, the bit-exact original, checked
    against its hash. HQ vaults only. The vault's original is never altered."""
    identity.hq(db)
    reason = check_reason(reason)
    service = AttachmentService(db, now=now)
    row = service.get(attachment_id)
    with db.transaction():
        seq = store.log_extraction(db, iso_utc(now()), row.id, row.record_id, row.sha256, reason)
    try:
        if original:
            service.extract(row.id, out, overwrite=overwrite)
            found = media.inspect_attachment(db, row)
            result = Extracted(row, row.sha256, row.size, False, found)
        else:
            result = _write_stripped(db, row, out, overwrite=overwrite)
    except BaseException:
        with db.transaction():
            store.finish_extraction(db, seq, "failed")
        raise
    with db.transaction():
        store.finish_extraction(
            db,
            seq,
            "written",
            copy="stripped" if result.stripped else "original",
            copy_sha256=result.sha256,
        )
        # The custody entry is signed once the copy exists, so it names the copy's hash
        # when it is a stripped working copy; the extraction log above already said
        # "started" before any byte left the vault.
        custody.log_extraction(
            db,
            attachment_id=row.id,
            original_sha256=row.sha256,
            reason=reason,
            at=iso_utc(now()),
            derived_sha256=result.sha256 if result.stripped else None,
            stripped=result.stripped,
        )
    return result


def _write_stripped(db: Database, row: AttachmentRow, out: Path, *, overwrite: bool) -> Extracted:
    if out.exists() and not overwrite:
        raise FileAccessError(
            f"{out} already exists", hint="choose another path, or pass --force to replace it"
        )
    if not out.parent.is_dir():
        raise FileAccessError(f"folder {out.parent} does not exist")
    try:
        with att_store.open_content(db, row) as src:
            _check_hash(src, row)
            # Everything is written to a temp file beside `out` and renamed only once the
            # copy has been read back clean; any exception removes the temp file.
            with fsio.atomic_writer(out, readable=True) as dst:
                done = media.strip(src, dst)
    except media.NotStrippable as exc:
        raise StripUnsupported(
            f"metadata not stripped from {row.filename}: {exc.reason}; nothing was written"
        ) from None
    except media.MetadataLeft as exc:
        left = ", ".join(sorted({f.label for f in exc.left.items})) or exc.left.problem
        raise MetadataRemains(
            f"the stripped copy of {row.filename} still carries identifying metadata ({left});"
            " it was deleted"
        ) from None
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot write {out}", exc) from None
    return Extracted(row, done.sha256, done.size, True, done.before, done.format)


def _check_hash(src: BinaryIO, row: AttachmentRow) -> None:
    """The stored bytes are the ones the record names (each chunk also authenticates)."""
    h = hashlib.sha256()
    size = 0
    while chunk := src.read(1024 * 1024):
        h.update(chunk)
        size += len(chunk)
    if h.digest() != row.sha256 or size != row.size:
        raise IntegrityError(f"attachment {row.id} does not match its recorded hash")
    src.seek(0)


def log(db: Database, *, limit: int = 1000) -> list[store.Extraction]:
    identity.hq(db)
    return store.extractions(db, limit=limit)

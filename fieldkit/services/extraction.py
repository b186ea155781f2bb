"""Attachments extracted at HQ, each with a reason that is logged.

An HQ analyst who writes a plaintext copy of an attachment (a photo of an expulsion
order, a recording) out of the vault says why; the vault's extraction log
(`extraction_log`, schema 7) keeps the time, the attachment and record ids, its SHA-256,
the reason and whether the copy was written. The log entry is committed before the copy
is made, so no copy leaves the vault unlogged: an extraction that fails says `failed`.
The log holds no testimony and not the path of the copy (a folder name can identify).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fieldkit.errors import InvalidInput
from fieldkit.formats import text as text_rules
from fieldkit.services import custody, identity
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.clock import iso_utc
from fieldkit.store import analysis as store
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


def extract(
    db: Database,
    attachment_id: str,
    out: Path,
    reason: str,
    *,
    overwrite: bool = False,
    now: Callable[[], float] = time.time,
) -> AttachmentRow:
    derived_sha256: bytes | None = None  # the lead wires the media copy's hash in here
    stripped = False
    """Log the extraction with its reason, then write the plaintext copy (checked
    against its hash, atomically). HQ vaults only."""
    identity.hq(db)
    reason = check_reason(reason)
    service = AttachmentService(db, now=now)
    row = service.get(attachment_id)
    with db.transaction():
        seq = store.log_extraction(db, iso_utc(now()), row.id, row.record_id, row.sha256, reason)
    try:
        service.extract(row.id, out, overwrite=overwrite)
    except BaseException:
        with db.transaction():
            store.finish_extraction(db, seq, "failed")
        raise
    with db.transaction():
        store.finish_extraction(db, seq, "written")
        # The custody entry is signed once the copy exists, so it can name the copy's hash
        # (the stripped working copy's, when services/media.py makes one); the extraction
        # log above already said "started" before any byte left the vault.
        custody.log_extraction(
            db,
            attachment_id=row.id,
            original_sha256=row.sha256,
            reason=reason,
            at=iso_utc(now()),
            derived_sha256=derived_sha256,
            stripped=stripped,
        )
    return row


def log(db: Database, *, limit: int = 1000) -> list[store.Extraction]:
    identity.hq(db)
    return store.extractions(db, limit=limit)

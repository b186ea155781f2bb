"""Erase records: one function for purge and for deletion, so both leave the same nothing.

In one transaction it removes each record's versions, summary, full-text entry,
attachments (rows and the keys of their files) and editor drafts, appends a hash-only
history entry, empties the stored manifest of every bundle that carried the record or
one of its attachments, and merges the full-text index so the record's words leave its
segments. secure_delete (store/db.py) overwrites every freed page. After the commit a
checkpoint moves the overwritten pages into the database and truncates the WAL, and the
attachment files, whose keys are already gone, are unlinked.

What stays is content-free: the record id in the history (with version and hash), the
delivery log, and each bundle's number, id and hash (the device's chain).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fieldkit.services import custody, history
from fieldkit.services.attachments import delete_row, remove_files
from fieldkit.services.clock import iso_utc
from fieldkit.services.records import RecordService
from fieldkit.store import attachments as att_store
from fieldkit.store import erase as erase_store
from fieldkit.store import records as rec_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.db import Database

DELETE_ACTION = "record.delete"
PURGE_ACTION = "record.purge"


@dataclass(frozen=True)
class Erased:
    records: int
    attachments: int
    drafts: int
    manifests: int


def erase_records(
    db: Database,
    record_ids: Iterable[str],
    *,
    action: str,
    at: str,
    then: Callable[[str], None] | None = None,
) -> Erased:
    """Erase every trace of these records (ids that no longer exist are skipped).
    `then(record_id)` runs inside the same transaction (purge logs the delivery there)."""
    erased: list[str] = []
    gone: list[AttachmentRow] = []
    drafts = 0
    with db.transaction():
        for rid in record_ids:
            summary = rec_store.get_summary(db, rid)
            if summary is None:
                continue
            att_ids = [a.id for a in att_store.for_record(db, rid)]
            if action == PURGE_ACTION:
                custody.purged(db, rid, att_ids, at)
            else:
                custody.forget(db, rid, att_ids)
            for a in att_store.for_record(db, rid):
                delete_row(db, a, at)
                gone.append(a)
            rec_store.delete_record(db, rid)
            drafts += erase_store.delete_drafts(db, rid)
            history.append(
                db,
                at=at,
                action=action,
                subject=rid,
                version=summary.version,
                content_hash=summary.doc_hash,
            )
            if then is not None:
                then(rid)
            erased.append(rid)
        manifests = erase_store.scrub_manifests(db, erased, [a.id for a in gone])
        if erased:
            erase_store.optimize_index(db)
    if erased:
        # Move the overwritten pages out of the WAL and truncate it.
        db.checkpoint()
    remove_files(db, gone)
    return Erased(len(erased), len(gone), drafts, manifests)


def delete_record(db: Database, record_id: str, *, now: Callable[[], float] = time.time) -> Erased:
    """Delete one record (a full id or a unique prefix) and everything of it, at once."""
    rid = RecordService(db, now=now).resolve(record_id)
    return erase_records(db, [rid], action=DELETE_ACTION, at=iso_utc(now()))

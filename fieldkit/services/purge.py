"""Purge delivered records from the field vault (data minimisation under coercion).

Only records whose current version HQ has receipted are removed, with their versions,
attachments and index entries; secure_delete overwrites the freed pages, among them
the keys of the attachment files, which are unlinked once the deletion has committed. What stays
is the delivery log (record id, version, bundle id, times) and hash-only history
entries, so `history verify` still holds and nothing of the testimony remains.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from fieldkit.services import history, identity
from fieldkit.services.attachments import delete_row, remove_files
from fieldkit.services.clock import iso_utc
from fieldkit.store import attachments as att_store
from fieldkit.store import bundles as bundle_store
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database


@dataclass(frozen=True)
class PurgeResult:
    records: int
    attachments: int


def delivered_records(db: Database) -> list[str]:
    return [r.id for r in rec_store.list_summaries(db, status="delivered", limit=10**9)]


def purge_delivered(db: Database, *, now: Callable[[], float] = time.time) -> PurgeResult:
    identity.device(db)
    ids = delivered_records(db)
    at = iso_utc(now())
    gone: list[att_store.AttachmentRow] = []
    with db.transaction():
        for rid in ids:
            summary = rec_store.get_summary(db, rid)
            if summary is None:
                continue
            for a in att_store.for_record(db, rid):
                delete_row(db, a, at)
                gone.append(a)
            rec_store.delete_record(db, rid)
            history.append(
                db,
                at=at,
                action="record.purge",
                subject=rid,
                version=summary.version,
                content_hash=summary.doc_hash,
            )
            bundle_store.log_purge(db, rid, at)
    # Move the freed (already overwritten) pages out of the WAL as well.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    remove_files(db, gone)
    return PurgeResult(len(ids), len(gone))

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

from fieldkit.services import erase, identity
from fieldkit.services.clock import iso_utc
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
    done = erase.erase_records(
        db, ids, action="record.purge", at=at, then=lambda rid: bundle_store.log_purge(db, rid, at)
    )
    return PurgeResult(done.records, done.attachments)

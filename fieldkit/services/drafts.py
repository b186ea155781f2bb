"""Drafts: what the editor holds, autosaved into the encrypted vault while the user types.

A draft need not validate: it is the user's work in progress. Saving it as a record
(validated, versioned, in the history) removes the draft in the same transaction.
After a crash the app offers the drafts it finds.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fieldkit.services import ids
from fieldkit.services.clock import iso_utc
from fieldkit.services.records import RecordService
from fieldkit.store import drafts as draft_store
from fieldkit.store.db import Database
from fieldkit.store.drafts import DraftRow

MAX_DRAFT = 16 * 1024 * 1024


@dataclass(frozen=True)
class Draft:
    id: str
    record_id: str | None
    doc: dict[str, Any]
    updated_at: str


class DraftService:
    def __init__(self, db: Database, *, now: Callable[[], float] = time.time) -> None:
        self._db = db
        self._now = now

    def new_id(self) -> str:
        return ids.new_id("d")

    def save(self, draft_id: str, record_id: str | None, doc: dict[str, Any]) -> None:
        data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        if len(data) > MAX_DRAFT:
            raise ValueError("draft too large")
        with self._db.transaction():
            draft_store.put(self._db, DraftRow(draft_id, record_id, data, iso_utc(self._now())))

    def all(self) -> list[Draft]:
        return [
            Draft(d.id, d.record_id, json.loads(d.doc), d.updated_at)
            for d in draft_store.all_drafts(self._db)
        ]

    def get(self, draft_id: str) -> Draft | None:
        d = draft_store.get(self._db, draft_id)
        return None if d is None else Draft(d.id, d.record_id, json.loads(d.doc), d.updated_at)

    def discard(self, draft_id: str) -> None:
        with self._db.transaction():
            draft_store.delete(self._db, draft_id)

    def commit(self, draft_id: str, record_id: str | None, doc: dict[str, Any]) -> str:
        """Validate and save as a record version; the draft goes in the same step.
        Raises InvalidInput (with every problem) and keeps the draft if it does not validate."""
        records = RecordService(self._db, now=self._now)

        def drop_draft() -> None:
            draft_store.delete(self._db, draft_id)

        if record_id is None:
            return records.add(doc, then=drop_draft)
        records.edit(record_id, doc, then=drop_draft)
        return record_id

"""Drafts: what the editor holds, autosaved into the encrypted vault while the user types.

A draft need not validate: it is the user's work in progress. Saving it as a record
(validated, versioned, in the history) removes the draft in the same transaction.
After a crash the app offers the drafts it finds. Purging or deleting a record removes
its drafts in the same transaction (services/erase.py); a draft whose record went
before that rule (or while an editor still had it open) opens as a new record.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fieldkit.errors import InvalidInput, NotFound
from fieldkit.services import ids, model
from fieldkit.services.clock import iso_utc
from fieldkit.services.ids import MIN_PREFIX
from fieldkit.services.records import RecordService
from fieldkit.store import drafts as draft_store
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database
from fieldkit.store.drafts import DraftRow

MAX_DRAFT = 16 * 1024 * 1024


@dataclass(frozen=True)
class Draft:
    id: str
    record_id: str | None  # None: a new record (also when its record is gone)
    doc: dict[str, Any]
    updated_at: str
    gone_record_id: str | None = None  # the record it was an edit of, purged or deleted


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
        return [self._load(d) for d in draft_store.all_drafts(self._db)]

    def get(self, draft_id: str) -> Draft | None:
        d = draft_store.get(self._db, draft_id)
        return None if d is None else self._load(d)

    def resolve(self, draft_id: str) -> str:
        """A full draft id or a unique prefix of at least 6 characters."""
        found = [d.id for d in draft_store.all_drafts(self._db) if d.id == draft_id]
        if not found and len(draft_id) >= MIN_PREFIX:
            found = [d.id for d in draft_store.all_drafts(self._db) if d.id.startswith(draft_id)]
        if len(found) == 1:
            return found[0]
        if found:
            raise NotFound(
                f"more than one draft starts with {draft_id!r}", hint="type more of the id"
            )
        raise NotFound(f"no draft {draft_id!r} in this vault", hint="'fieldkit draft list'")

    def discard(self, draft_id: str) -> None:
        with self._db.transaction():
            draft_store.delete(self._db, draft_id)

    def _load(self, d: DraftRow) -> Draft:
        gone = d.record_id is not None and rec_store.get_summary(self._db, d.record_id) is None
        return Draft(
            d.id,
            None if gone else d.record_id,
            _upgraded(json.loads(d.doc)),
            d.updated_at,
            gone_record_id=d.record_id if gone else None,
        )

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


def _upgraded(doc: Any) -> Any:
    """A draft autosaved by an editor of record schema 1 comes back in schema 2, as the
    editor of today edits it (model.upgrade only renames what is there, so a half-typed
    draft stays half-typed); anything upgrade cannot read is left as it was."""
    if isinstance(doc, dict) and doc.get("schema") == 1:
        try:
            return model.upgrade(doc)
        except InvalidInput:
            return doc
    return doc

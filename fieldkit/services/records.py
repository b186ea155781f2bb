"""Records: add, edit, read, list, search; every save is one transaction with its history entry."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fieldkit.errors import InvalidInput, NotFound
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import history, ids, model, search_text
from fieldkit.services.clock import iso_utc
from fieldkit.store import history as hist_store
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database
from fieldkit.store.records import RecordSummary

RECORD_PREFIX = "r"


@dataclass(frozen=True)
class Record:
    """One version of a record as read: `doc` is always schema 2 (model.upgrade), whatever
    schema the stored version has; `stored_schema` says which (the bytes never change)."""

    id: str
    version: int
    doc: dict[str, Any]
    created_at: str
    updated_at: str
    stored_schema: int = model.SCHEMA_VERSION


class RecordService:
    def __init__(self, db: Database, *, now: Callable[[], float] = time.time) -> None:
        self._db = db
        self._now = now

    # ---- writes -------------------------------------------------------------
    def add(self, doc: Any, *, then: Callable[[], None] | None = None) -> str:
        """Validate and store a new record. `then` runs inside the same transaction
        (the editor uses it to remove the draft the record came from)."""
        clean = model.validate(doc)
        self._user_status(clean)
        record_id = ids.new_id(RECORD_PREFIX)
        at = iso_utc(self._now())
        self._save(record_id, 1, clean, created_at=at, at=at, action="record.create", then=then)
        return record_id

    def add_many(self, docs: list[Any]) -> list[str]:
        """Add several records in one transaction: all of them or none."""
        cleaned = [model.validate(d) for d in docs]
        for clean in cleaned:
            self._user_status(clean)
        at = iso_utc(self._now())
        ids_out: list[str] = []
        with self._db.transaction():
            for clean in cleaned:
                record_id = ids.new_id(RECORD_PREFIX)
                self._write(record_id, 1, clean, created_at=at, at=at, action="record.create")
                ids_out.append(record_id)
        return ids_out

    def edit(self, record_id: str, doc: Any, *, then: Callable[[], None] | None = None) -> int:
        """Save a new version; returns its number. Earlier versions are kept."""
        current = self._summary(record_id)
        clean = model.validate(doc)
        self._user_status(clean)
        version = current.version + 1
        self._save(
            current.id,
            version,
            clean,
            created_at=current.created_at,
            at=iso_utc(self._now()),
            action="record.update",
            then=then,
        )
        return version

    def _save(
        self,
        record_id: str,
        version: int,
        clean: dict[str, Any],
        *,
        created_at: str,
        at: str,
        action: str,
        then: Callable[[], None] | None = None,
    ) -> None:
        with self._db.transaction():
            self._write(record_id, version, clean, created_at=created_at, at=at, action=action)
            if then is not None:
                then()

    def _write(
        self,
        record_id: str,
        version: int,
        clean: dict[str, Any],
        *,
        created_at: str,
        at: str,
        action: str,
    ) -> None:
        """Store one version and its history entry; the caller holds the transaction."""
        doc = canonical_json(clean)
        doc_hash = history.record_version_hash(record_id, version, doc)
        summary = summary_for(record_id, version, clean, created_at, at, doc_hash)
        rec_store.save_version(self._db, summary, doc, search_text.index_body(clean))
        history.append(
            self._db,
            at=at,
            action=action,
            subject=record_id,
            version=version,
            content_hash=doc_hash,
        )

    @staticmethod
    def _user_status(clean: dict[str, Any]) -> None:
        # Whether HQ has a record is derived from the export log and receipts
        # (services/delivery.py); 'exported' and 'delivered' are never set by a person,
        # and no edit keeps them.
        if clean["status"] not in model.USER_STATUSES:
            raise InvalidInput(
                "invalid record: status: only draft or complete can be set by hand",
                problems=[("status", "only draft or complete can be set by hand")],
                hint="fieldkit tracks delivery itself: 'fieldkit record show ID' shows it",
            )

    # ---- reads ----------------------------------------------------------------
    def resolve(self, record_id: str) -> str:
        """Accept a full id or a unique prefix of at least 6 characters."""
        return self._summary(record_id).id

    def _summary(self, record_id: str) -> RecordSummary:
        s = rec_store.get_summary(self._db, record_id)
        if s is None:
            full = ids.match_prefix(record_id, "record", self._ids_with_prefix)
            s = rec_store.get_summary(self._db, full)
        if s is None:
            raise NotFound(f"no record {record_id!r} in this vault")
        return s

    def _ids_with_prefix(self, prefix: str, limit: int) -> list[str]:
        return rec_store.ids_with_prefix(self._db, prefix, limit=limit)

    def get(self, record_id: str, version: int | None = None) -> Record:
        s = self._summary(record_id)
        v = s.version if version is None else version
        found = rec_store.get_doc(self._db, s.id, v)
        if found is None:
            raise NotFound(f"record {s.id} has no version {v}")
        doc, _ = found
        stored = json.loads(doc)
        # Upgrade on read: a schema-1 version stays schema 1 in the vault (its hash is
        # evidence, HQ may hold it); what is shown or edited is its schema-2 form.
        return Record(
            s.id,
            v,
            model.upgrade(stored),
            s.created_at,
            s.updated_at,
            int(stored.get("schema", model.SCHEMA_VERSION)),
        )

    def lacking_consent(self, record_ids: list[str]) -> set[str]:
        """Those of `record_ids` whose current version does not say consent was obtained
        (model.lacks_consent): flagged in lists, held back at export until confirmed."""
        return rec_store.lacking_consent(self._db, record_ids)

    def summary(self, record_id: str) -> RecordSummary:
        return self._summary(record_id)

    def list_records(
        self,
        *,
        status: str | None = None,
        incident_type: str | None = None,
        risk: str | None = None,
        device: bytes | None = None,
        sort: str = "updated",
        limit: int = 1000,
        offset: int = 0,
    ) -> list[RecordSummary]:
        """Newest first by default; `device` (a fingerprint, HQ) keeps the records that
        device sent. Filters apply before `limit`."""
        self._check_filters(status, incident_type, risk, sort)
        return rec_store.list_summaries(
            self._db,
            status=status,
            incident_type=incident_type,
            risk=risk,
            device=device,
            sort=sort,
            limit=limit,
            offset=offset,
        )

    def search(
        self,
        typed: str,
        *,
        status: str | None = None,
        incident_type: str | None = None,
        risk: str | None = None,
        device: bytes | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[RecordSummary]:
        self._check_filters(status, incident_type, risk, "updated")
        q = search_text.fts_query(typed)
        if q is None:
            return []
        return rec_store.search(
            self._db,
            q,
            status=status,
            incident_type=incident_type,
            risk=risk,
            device=device,
            limit=limit,
            offset=offset,
        )

    def count(self) -> int:
        return rec_store.count(self._db)

    def history(self, record_id: str) -> list[hist_store.HistoryEntry]:
        s = self._summary(record_id)
        return list(hist_store.iterate(self._db, subject=s.id))

    @staticmethod
    def _check_filters(
        status: str | None, incident_type: str | None, risk: str | None, sort: str
    ) -> None:
        if status and status not in model.STATUSES:
            raise InvalidInput(
                f"unknown status {status!r}", hint=f"use one of: {', '.join(model.STATUSES)}"
            )
        if incident_type and incident_type not in model.INCIDENT_TYPES:
            raise InvalidInput(
                f"unknown incident type {incident_type!r}",
                hint=f"use one of: {', '.join(model.INCIDENT_TYPES)}",
            )
        if risk and risk not in model.RISK_LEVELS:
            raise InvalidInput(
                f"unknown risk level {risk!r}", hint=f"use one of: {', '.join(model.RISK_LEVELS)}"
            )
        if sort not in rec_store.SORT_COLUMNS:
            raise InvalidInput(
                f"unknown sort order {sort!r}",
                hint=f"use one of: {', '.join(rec_store.SORT_COLUMNS)}",
            )


def summary_for(
    record_id: str,
    version: int,
    clean: dict[str, Any],
    created_at: str,
    updated_at: str,
    doc_hash: bytes,
) -> RecordSummary:
    """The searchable summary row of a validated record document."""
    return RecordSummary(
        id=record_id,
        version=version,
        status=clean["status"],
        risk=clean["risk"],
        pseudonym=clean["pseudonym"],
        interview_date=clean["interview"].get("date"),
        incident_types=tuple(dict.fromkeys(i["type"] for i in clean["incidents"])),
        created_at=created_at,
        updated_at=updated_at,
        doc_hash=doc_hash,
    )

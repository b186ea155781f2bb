"""The tamper-evident edit history: an append-only hash chain over every change.

Entry n stores the hash of the new content (a record version, or an attachment's
metadata) and the hash of entry n-1; its own hash covers all of its fields. The
first entry chains from a genesis hash bound to the vault id. `verify` recomputes
everything from the stored data. It detects any change made behind the app's back
by someone who does not rewrite the whole chain consistently; the chain head is
sent to HQ with each bundle (issue 3), which anchors it outside the laptop.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fieldkit.crypto.hashing import labelled_hash
from fieldkit.crypto.labels import ATTACHMENT_META, HISTORY_ENTRY, HISTORY_GENESIS, RECORD_VERSION
from fieldkit.errors import IntegrityError
from fieldkit.store import attachments as att_store
from fieldkit.store import history as hist_store
from fieldkit.store import meta
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database
from fieldkit.store.history import HistoryEntry

RECORD_ACTIONS = ("record.create", "record.update", "record.import")
ATTACHMENT_ACTIONS = ("attachment.add", "attachment.describe", "attachment.import")
REMOVAL_ACTIONS = ("record.purge", "record.delete", "attachment.remove")


def record_version_hash(record_id: str, version: int, doc: bytes) -> bytes:
    return labelled_hash(RECORD_VERSION, [record_id.encode(), str(version).encode(), doc])


def attachment_meta_hash(a: att_store.AttachmentRow) -> bytes:
    return labelled_hash(
        ATTACHMENT_META,
        [
            a.id.encode(),
            a.record_id.encode(),
            a.filename.encode(),
            a.media_type.encode(),
            a.description.encode(),
            str(a.size).encode(),
            a.sha256,
        ],
    )


def genesis(db: Database) -> bytes:
    vault_id = meta.get(db, "vault_id") or ""
    return labelled_hash(HISTORY_GENESIS, [vault_id.encode()])


def entry_hash(
    seq: int,
    at: str,
    action: str,
    subject: str,
    version: int,
    content_hash: bytes,
    prev_hash: bytes,
) -> bytes:
    return labelled_hash(
        HISTORY_ENTRY,
        [
            str(seq).encode(),
            at.encode(),
            action.encode(),
            subject.encode(),
            str(version).encode(),
            content_hash,
            prev_hash,
        ],
    )


def append(
    db: Database, *, at: str, action: str, subject: str, version: int, content_hash: bytes
) -> HistoryEntry:
    """Append one entry. Call inside the transaction that makes the change."""
    last = hist_store.last(db)
    seq = 1 if last is None else last.seq + 1
    prev = genesis(db) if last is None else last.entry_hash
    h = entry_hash(seq, at, action, subject, version, content_hash, prev)
    entry = HistoryEntry(seq, at, action, subject, version, content_hash, prev, h)
    hist_store.append(db, entry)
    return entry


@dataclass
class VerifyReport:
    entries: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(db: Database, *, attachment_content: bool = False) -> VerifyReport:
    problems: list[str] = []
    prev = genesis(db)
    expected_seq = 1
    removed: set[str] = set()
    version_entries: dict[tuple[str, int], bytes] = {}
    latest_attachment: dict[str, bytes] = {}
    count = 0
    for e in hist_store.iterate(db):
        count += 1
        if e.seq != expected_seq:
            problems.append(f"history entry {expected_seq} is missing (found {e.seq})")
        expected_seq = e.seq + 1
        if e.prev_hash != prev:
            problems.append(f"history entry {e.seq} does not follow the entry before it")
        if (
            entry_hash(e.seq, e.at, e.action, e.subject, e.version, e.content_hash, e.prev_hash)
            != e.entry_hash
        ):
            problems.append(f"history entry {e.seq} was altered")
        prev = e.entry_hash
        if e.action in RECORD_ACTIONS:
            version_entries[(e.subject, e.version)] = e.content_hash
        elif e.action in ATTACHMENT_ACTIONS:
            latest_attachment[e.subject] = e.content_hash
        elif e.action in REMOVAL_ACTIONS:
            removed.add(e.subject)
            latest_attachment.pop(e.subject, None)
    problems += _check_records(db, version_entries, removed)
    problems += _check_attachments(db, latest_attachment, attachment_content)
    return VerifyReport(count, problems)


def _check_records(
    db: Database, version_entries: dict[tuple[str, int], bytes], removed: set[str]
) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[str, int]] = set()
    for record_id in rec_store.all_record_ids(db):
        summary = rec_store.get_summary(db, record_id)
        versions = rec_store.list_versions(db, record_id)
        if summary is None or not versions:
            problems.append(f"record {record_id} has no stored versions")
            continue
        for version, doc, stored_hash, _saved in versions:
            seen.add((record_id, version))
            actual = record_version_hash(record_id, version, doc)
            if actual != stored_hash:
                problems.append(f"record {record_id} version {version} was changed")
            logged = version_entries.get((record_id, version))
            if logged is None:
                problems.append(f"record {record_id} version {version} has no history entry")
            elif logged != actual:
                problems.append(f"record {record_id} version {version} differs from its history")
        top_version, _doc, top_hash, _ = versions[-1]
        if summary.version != top_version or summary.doc_hash != top_hash:
            problems.append(f"record {record_id} does not point at its latest version")
    for record_id, version in version_entries:
        if (record_id, version) not in seen and record_id not in removed:
            problems.append(f"record {record_id} version {version} was deleted")
    return problems


def _check_attachments(db: Database, latest: dict[str, bytes], content: bool) -> list[str]:
    problems: list[str] = []
    rows = {a.id: a for a in att_store.all_rows(db)}
    for att_id, a in rows.items():
        logged = latest.get(att_id)
        if logged is None:
            problems.append(f"attachment {att_id} has no history entry")
        elif logged != attachment_meta_hash(a):
            problems.append(f"attachment {att_id} metadata differs from its history")
        if a.blob_id is None or not att_store.blob_store(db).exists(a.blob_id):
            problems.append(f"attachment {att_id} has no stored file")
        elif content:
            h = hashlib.sha256()
            size = 0
            try:
                for chunk in att_store.content(db, a):
                    h.update(chunk)
                    size += len(chunk)
            except IntegrityError as exc:
                problems.append(f"attachment {att_id}: {exc.message}")
                continue
            if h.digest() != a.sha256 or size != a.size:
                problems.append(f"attachment {att_id} content differs from its hash")
    for att_id in latest:
        if att_id not in rows:
            problems.append(f"attachment {att_id} was deleted")
    return problems

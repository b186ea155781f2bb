"""Schema versions and migrations, from the first release on.

`PRAGMA user_version` holds the schema version. Each migration runs in its own
transaction with the version bump, so a crash leaves the old or the new schema,
never half of one. A database newer than this code is refused, not touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fieldkit.errors import CorruptVault
from fieldkit.msgids import N_

if TYPE_CHECKING:
    from fieldkit.store.db import Database


@dataclass(frozen=True)
class Upgrade:
    """What a migration needs from the layers above the store, which alone know it.

    `index_body` turns a stored record document (the bytes in record_versions.doc) into
    the text the full-text index holds (services/search_text.py); `progress` hears
    (records done, records in all) while a migration re-indexes, so whoever opens the
    vault can show that it is working, not hung."""

    index_body: Callable[[bytes], str] | None = None
    progress: Callable[[int, int], None] | None = None


_V1 = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- One row per record: the current version's searchable summary. The documents
-- themselves live in record_versions, one row per saved version.
CREATE TABLE records (
    rid            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    version        INTEGER NOT NULL CHECK (version >= 1),
    status         TEXT NOT NULL,
    risk           TEXT NOT NULL,
    pseudonym      TEXT NOT NULL,
    interview_date TEXT,
    incident_types TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    doc_hash       BLOB NOT NULL
) STRICT;
CREATE INDEX records_updated ON records(updated_at);
CREATE INDEX records_status ON records(status);

CREATE TABLE record_versions (
    record_id TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    version   INTEGER NOT NULL,
    doc       BLOB NOT NULL,
    doc_hash  BLOB NOT NULL,
    saved_at  TEXT NOT NULL,
    PRIMARY KEY (record_id, version)
) STRICT;

CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    record_id   TEXT NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    filename    TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    description TEXT NOT NULL,
    size        INTEGER NOT NULL,
    sha256      BLOB NOT NULL,
    chunk_size  INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    added_at    TEXT NOT NULL
) STRICT;
CREATE INDEX attachments_record ON attachments(record_id);

CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL
        REFERENCES attachments(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    idx           INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (attachment_id, idx)
) STRICT;

-- Append-only, hash-chained edit history (see services/history.py).
CREATE TABLE history (
    seq          INTEGER PRIMARY KEY,
    at           TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    content_hash BLOB NOT NULL,
    prev_hash    BLOB NOT NULL,
    entry_hash   BLOB NOT NULL
) STRICT;

-- Contentless full-text index: it keeps no second copy of the text, and rows
-- can still be deleted (purge) thanks to contentless_delete.
CREATE VIRTUAL TABLE records_fts USING fts5(
    body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0',
    prefix='2 3 4'
);
"""

# Version 2: identities, trust, the device roster, bundles and receipts.
_V2 = """
-- This vault's own keys: 'device' on a field vault, 'hq' on an HQ vault.
CREATE TABLE identity (
    role         TEXT PRIMARY KEY CHECK (role IN ('device', 'hq')),
    name         TEXT NOT NULL,
    signing_key  BLOB NOT NULL,
    age_identity BLOB NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;

-- Field side: HQ cards this device encrypts bundles to and accepts receipts from.
CREATE TABLE trusted_hq (
    fingerprint BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    card        TEXT NOT NULL,
    added_at    TEXT NOT NULL
) STRICT;

-- Field side: every bundle this device made, and what it carried.
-- The signed manifest is kept so a lost bundle can be written again, byte for
-- byte the same container (HQ then sees a duplicate, never a fork).
CREATE TABLE exports (
    seq          INTEGER PRIMARY KEY,
    bundle_id    BLOB NOT NULL UNIQUE,
    bundle_hash  BLOB NOT NULL,
    manifest     BLOB NOT NULL,
    signature    BLOB NOT NULL,
    created_at   TEXT NOT NULL,
    written_at   TEXT,
    receipt_at   TEXT
) STRICT;
CREATE TABLE export_items (
    seq     INTEGER NOT NULL REFERENCES exports(seq),
    kind    TEXT NOT NULL CHECK (kind IN ('record', 'attachment')),
    item_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (seq, kind, item_id)
) STRICT;
CREATE INDEX export_items_item ON export_items(kind, item_id);

-- Field side: what was delivered and purged; ids and times only, no content.
CREATE TABLE delivery_log (
    record_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    bundle_id    BLOB NOT NULL,
    delivered_at TEXT NOT NULL,
    purged_at    TEXT,
    PRIMARY KEY (record_id, version)
) STRICT;

-- HQ side: the device roster.
CREATE TABLE devices (
    fingerprint BLOB PRIMARY KEY,
    name        TEXT NOT NULL,
    card        TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;

-- HQ side: every bundle imported, per device and sequence number.
CREATE TABLE device_bundles (
    device      BLOB NOT NULL REFERENCES devices(fingerprint),
    seq         INTEGER NOT NULL,
    bundle_id   BLOB NOT NULL UNIQUE,
    bundle_hash BLOB NOT NULL,
    prev_hash   BLOB,
    history_head BLOB NOT NULL,
    created     INTEGER NOT NULL,
    imported_at TEXT NOT NULL,
    PRIMARY KEY (device, seq)
) STRICT;

-- HQ side: where each received record version and attachment came from.
CREATE TABLE provenance (
    kind      TEXT NOT NULL CHECK (kind IN ('record', 'attachment')),
    item_id   TEXT NOT NULL,
    version   INTEGER NOT NULL,
    device    BLOB NOT NULL,
    bundle_id BLOB NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (kind, item_id, version)
) STRICT;
"""

# Version 3: editor drafts, autosaved while typing (they may not validate yet).
_V3 = """
CREATE TABLE drafts (
    id         TEXT PRIMARY KEY,
    record_id  TEXT,
    doc        BLOB NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
"""

# Version 4: attachment bytes move out of SQLite into encrypted files beside it
# (store/blobs.py); the row keeps each file's id and its key. Rows with no blob_id
# still have their bytes in attachment_chunks: services/attachments.py moves them
# at unlock, one attachment per transaction. chunk_size and chunk_count are 0 for
# attachments stored as files.
_V4 = """
ALTER TABLE attachments ADD COLUMN blob_id BLOB;
ALTER TABLE attachments ADD COLUMN blob_key BLOB;
CREATE UNIQUE INDEX attachments_blob ON attachments(blob_id);
"""

# Version 5: delivery is derived from the export log and the receipts (services/delivery.py),
# never kept as a record status. Each exported attachment is logged with the SHA-256
# it was exported with; a receipt covers it only with that hash. Attachment rows never
# change their content (a new file is a new id), so the backfill takes today's hash.
# records.status holds only what a person sets (draft, complete): 'exported' and
# 'delivered' become the current version's own status, or 'complete' (on a field
# vault: at HQ the status is the one the device sent).
_V5 = """
ALTER TABLE export_items ADD COLUMN sha256 BLOB;
UPDATE export_items SET sha256 = (
    SELECT a.sha256 FROM attachments a WHERE a.id = export_items.item_id
) WHERE kind = 'attachment';
UPDATE records SET status = COALESCE((
    SELECT json_extract(CAST(v.doc AS TEXT), '$.status') FROM record_versions v
    WHERE v.record_id = records.id AND v.version = records.version
      AND json_extract(CAST(v.doc AS TEXT), '$.status') IN ('draft', 'complete')
), 'complete') WHERE status NOT IN ('draft', 'complete')
  AND EXISTS (SELECT 1 FROM identity WHERE role = 'device');
"""

# Version 6 (HQ side): a bundle may say that the one before it was abandoned, never
# written (docs/bundle-format.md, section 3); HQ keeps that, and stops listing the
# abandoned number as missing.
_V6 = """
ALTER TABLE device_bundles ADD COLUMN prev_abandoned INTEGER NOT NULL DEFAULT 0;
"""

# Version 7 (field side): a bundle carries every saved version of a record HQ has not
# acknowledged, several versions of one record in one bundle (docs/bundle-format.md,
# section 2), so the export log is keyed by version too. SQLite cannot change a primary
# key in place: the table is made again and its rows copied, all in this migration's
# transaction.
#
# Also in version 7 (HQ side): every attachment extracted at HQ, with the reason the analyst gave
# (services/extraction.py). It holds ids, the hash, a time and the analyst's reason:
# never testimony text, never the path the copy went to.
#
# Also in version 7: lists filtered at HQ's scale (docs/performance.md, HQ). The testimony view
# filters by device on every keystroke; without provenance_device that read the whole
# provenance table (0.8 s at 200,000 records); field vaults get it too, empty. A list
# filtered by status or risk, newest first, sorted every matching row (94 ms at 20,000
# for status): with (status, updated_at) it reads the first rows of the index only.
# At HQ each record also names the device it came from (a bundle's record of another
# device is refused, so there is one), backfilled from provenance and kept by
# store/bundles.add_provenance: with (device, updated_at) a device's 60 newest are the
# first 60 rows of an index (at 200,000 records, 120 ms through provenance alone).
_V7 = """
CREATE TABLE export_items_v7 (
    seq     INTEGER NOT NULL REFERENCES exports(seq),
    kind    TEXT NOT NULL CHECK (kind IN ('record', 'attachment')),
    item_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    sha256  BLOB,
    PRIMARY KEY (seq, kind, item_id, version)
) STRICT;
INSERT INTO export_items_v7 (seq, kind, item_id, version, sha256)
    SELECT seq, kind, item_id, version, sha256 FROM export_items;
DROP TABLE export_items;
ALTER TABLE export_items_v7 RENAME TO export_items;
CREATE INDEX export_items_item ON export_items(kind, item_id, version);
CREATE TABLE extraction_log (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    attachment_id TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    sha256        BLOB NOT NULL,
    reason        TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('started', 'written', 'failed'))
) STRICT;
CREATE INDEX provenance_device ON provenance(device, kind, item_id);
ALTER TABLE records ADD COLUMN device BLOB;
UPDATE records SET device = (
    SELECT p.device FROM provenance p WHERE p.kind = 'record' AND p.item_id = records.id
    ORDER BY p.version DESC LIMIT 1
);
CREATE INDEX records_device_updated ON records(device, updated_at);
CREATE INDEX records_status_updated ON records(status, updated_at);
CREATE INDEX records_risk_updated ON records(risk, updated_at);
DROP INDEX records_status;
"""

# Version 8 (search): the full-text index is made again, with prefix indexes for 1 to 6
# characters and without word positions (docs/performance.md, "Search grows with the
# vault"). Search as people type ends in a prefix; one that no prefix index served (1
# letter, or 5 and more) made FTS5 merge the posting list of every word starting with it,
# the whole list whatever the LIMIT: 0.1-0.4 s at 200,000 records. Positions (detail=full)
# serve only phrase and NEAR queries, which search never makes (each typed word is its own
# quoted term, services/search_text.py); without them (detail=column) the index with six
# prefix indexes is about the size of the old one with three. The index is contentless,
# so it cannot rebuild itself: _reindex_search (below, in this migration's transaction)
# indexes every record's current version again from its stored document. DROP TABLE
# with secure_delete on overwrites the old index's pages.
_V8_SEARCH = """
DROP TABLE records_fts;
CREATE VIRTUAL TABLE records_fts USING fts5(
    body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0',
    prefix='1 2 3 4 5 6', detail=column
);
"""

# Version 8, media (identifying metadata in attachments, services/media.py): `hq extract`
# writes a copy stripped of identifying metadata unless the analyst asks for the original;
# the extraction log says which copy left and keeps that copy's SHA-256. Entries made
# before version 8 keep NULL in both (every one of them was the original).
_V8_MEDIA = """
ALTER TABLE extraction_log ADD COLUMN copy TEXT CHECK (copy IN ('original', 'stripped'));
ALTER TABLE extraction_log ADD COLUMN copy_sha256 BLOB;
"""

# Version 8 (custody, field and HQ side): the chain-of-custody log (docs/custody.md). One
# row per signed entry, per item: an attachment (version 0) or one record version. The
# body is the entry's canonical JSON exactly as signed; entry_hash is the next entry's
# prev. Only hashes, ids, times and key fingerprints: never testimony. Items stored
# before this version get a "capture" (field) or "hq_import" (HQ) entry marked
# backfilled at the first unlock after the upgrade (services/custody.py), dated with the
# upgrade time kept here, never with a made-up capture time.
_V8_CUSTODY = """
CREATE TABLE custody (
    kind       TEXT NOT NULL CHECK (kind IN ('attachment', 'record_version')),
    item_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    event      TEXT NOT NULL,
    body       BLOB NOT NULL,
    signature  BLOB NOT NULL,
    entry_hash BLOB NOT NULL,
    PRIMARY KEY (kind, item_id, version, seq)
) STRICT;
INSERT OR IGNORE INTO meta (key, value)
    SELECT 'custody_backfill_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
    WHERE EXISTS (SELECT 1 FROM records) OR EXISTS (SELECT 1 FROM attachments);
"""

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
    (6, _V6),
    (7, _V7),
    # Version 8 is one migration: the parts above shipped together.
    (8, _V8_SEARCH + _V8_MEDIA + _V8_CUSTODY),
)
CURRENT_VERSION = MIGRATIONS[-1][0]

# How many records the re-index reads, indexes and reports at a time.
REINDEX_BATCH = 500


def _announce_reindex(db: Database, upgrade: Upgrade) -> None:
    """Before the SQL: dropping the old index overwrites its pages (secure_delete), which
    takes a while on its own (about two minutes for 200,000 records), so whoever waits
    hears of the re-index before it."""
    total = int(db.scalar("SELECT count(*) FROM records"))
    if total == 0:
        return
    if upgrade.index_body is None:
        raise RuntimeError("this migration re-indexes records: open the vault through services")
    if upgrade.progress is not None:
        upgrade.progress(0, total)


def _reindex_search(db: Database, upgrade: Upgrade) -> None:
    """Fill the (new, empty) full-text index from every record's current version,
    reading the documents REINDEX_BATCH at a time (Python holds one batch; SQLite's own
    memory for the long transaction still grows with the vault, docs/performance.md). A document
    that does not decode raises from index_body, and the whole migration rolls back:
    the vault stays at its old schema, untouched."""
    total = int(db.scalar("SELECT count(*) FROM records"))
    if total == 0:
        return
    if upgrade.index_body is None:
        raise RuntimeError("this migration re-indexes records: open the vault through services")
    index_body = upgrade.index_body
    done, last = 0, -1
    while True:
        rows = db.all(
            "SELECT r.rid, v.doc FROM records r LEFT JOIN record_versions v"
            " ON v.record_id = r.id AND v.version = r.version"
            " WHERE r.rid > ? ORDER BY r.rid LIMIT ?",
            (last, REINDEX_BATCH),
        )
        if not rows:
            break
        batch: list[tuple[int, str]] = []
        for rid, doc in rows:
            if not isinstance(doc, bytes | memoryview):
                raise CorruptVault(
                    N_("a record's current version is missing from the vault"),
                    hint=N_("nothing was changed; restore the vault folder from a copy"),
                )
            batch.append((int(rid), index_body(bytes(doc))))
        db.executemany("INSERT INTO records_fts (rowid, body) VALUES (?, ?)", batch)
        done += len(rows)
        last = int(rows[-1][0])
        if upgrade.progress is not None:
            upgrade.progress(min(done, total), total)


# Python work a migration does before and after its SQL, in the same transaction.
Step = Callable[["Database", Upgrade], None]
STEPS: dict[int, tuple[Step, Step]] = {8: (_announce_reindex, _reindex_search)}


def migrate(db: Database, upgrade: Upgrade | None = None) -> None:
    version = int(db.scalar("PRAGMA user_version"))
    if version > CURRENT_VERSION:
        raise CorruptVault(
            f"the vault has schema version {version}, newer than this fieldkit ({CURRENT_VERSION})",
            hint="upgrade fieldkit before opening this vault",
        )
    for target, sql in MIGRATIONS:
        if target <= version:
            continue
        with db.transaction():
            before, after = STEPS.get(target, (None, None))
            if before is not None:
                before(db, upgrade or Upgrade())
            for statement in _statements(sql):
                db.execute(statement)
            if after is not None:
                after(db, upgrade or Upgrade())
            db.execute(f"PRAGMA user_version = {int(target)}")


def _statements(sql: str) -> list[str]:
    """Split a migration into statements: comment lines are dropped first, and none of
    our statements has ';' inside a literal."""
    code = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in code.split(";") if s.strip()]

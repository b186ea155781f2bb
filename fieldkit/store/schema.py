"""Schema versions and migrations, from the first release on.

`PRAGMA user_version` holds the schema version. Each migration runs in its own
transaction with the version bump, so a crash leaves the old or the new schema,
never half of one. A database newer than this code is refused, not touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fieldkit.errors import CorruptVault

if TYPE_CHECKING:
    from fieldkit.store.db import Database

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
    body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0'
);
"""

MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1),)
CURRENT_VERSION = MIGRATIONS[-1][0]


def migrate(db: Database) -> None:
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
            for statement in _statements(sql):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {int(target)}")


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (none of ours has ';' inside a literal)."""
    return [s.strip() for s in sql.split(";") if s.strip() and not _only_comments(s)]


def _only_comments(chunk: str) -> bool:
    return all(line.strip().startswith("--") or not line.strip() for line in chunk.splitlines())

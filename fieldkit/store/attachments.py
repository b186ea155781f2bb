"""SQL for attachments. The bytes live in encrypted files (store/blobs.py); each row
holds its file's id and key. Older vaults kept the bytes here as chunks; those rows
have no blob_id until services/attachments.py moves them at unlock."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from fieldkit.errors import IntegrityError
from fieldkit.store import db as store_db
from fieldkit.store.blobs import BlobStore
from fieldkit.store.db import Busy, Database, as_bytes

_COLS = (
    "id, record_id, filename, media_type, description, size, sha256, added_at, blob_id, blob_key"
)


@dataclass(frozen=True)
class AttachmentRow:
    id: str
    record_id: str
    filename: str
    media_type: str
    description: str
    size: int
    sha256: bytes
    added_at: str
    blob_id: bytes | None = None
    blob_key: bytes | None = field(default=None, repr=False)


def _row(r: tuple[object, ...]) -> AttachmentRow:
    return AttachmentRow(
        id=str(r[0]),
        record_id=str(r[1]),
        filename=str(r[2]),
        media_type=str(r[3]),
        description=str(r[4]),
        size=int(str(r[5])),
        sha256=as_bytes(r[6]),
        added_at=str(r[7]),
        blob_id=None if r[8] is None else as_bytes(r[8]),
        blob_key=None if r[9] is None else as_bytes(r[9]),
    )


def insert(db: Database, a: AttachmentRow) -> None:
    if a.blob_id is None or a.blob_key is None:
        raise ValueError("a new attachment needs its file")
    db.execute(
        f"INSERT INTO attachments ({_COLS}, chunk_size, chunk_count)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,0,0)",
        (
            a.id,
            a.record_id,
            a.filename,
            a.media_type,
            a.description,
            a.size,
            a.sha256,
            a.added_at,
            a.blob_id,
            a.blob_key,
        ),
    )


def get(db: Database, attachment_id: str) -> AttachmentRow | None:
    row = db.one(f"SELECT {_COLS} FROM attachments WHERE id=?", (attachment_id,))
    return None if row is None else _row(row)


def for_record(db: Database, record_id: str) -> list[AttachmentRow]:
    return [
        _row(r)
        for r in db.all(
            f"SELECT {_COLS} FROM attachments WHERE record_id=? ORDER BY added_at, id",
            (record_id,),
        )
    ]


def ids_with_prefix(db: Database, prefix: str, *, limit: int) -> list[str]:
    return store_db.ids_with_prefix(db, "attachments", prefix, limit=limit)


def all_rows(db: Database) -> list[AttachmentRow]:
    return [_row(r) for r in db.all(f"SELECT {_COLS} FROM attachments ORDER BY added_at, id")]


def set_description(db: Database, attachment_id: str, description: str) -> None:
    db.execute("UPDATE attachments SET description=? WHERE id=?", (description, attachment_id))


def delete(db: Database, attachment_id: str) -> None:
    db.execute("DELETE FROM attachment_chunks WHERE attachment_id=?", (attachment_id,))
    db.execute("DELETE FROM attachments WHERE id=?", (attachment_id,))


def blob_ids(db: Database) -> set[bytes]:
    return {
        as_bytes(r[0]) for r in db.all("SELECT blob_id FROM attachments WHERE blob_id IS NOT NULL")
    }


def sweep_orphan_files(db: Database, blobs: BlobStore) -> int | None:
    """Remove attachment files no row names (left by a crash); None if another
    process is writing to the vault right now (it is tried again at the next unlock)."""
    try:
        with db.transaction(wait=False):
            return blobs.sweep(blob_ids(db))
    except Busy:
        return None


# ---- vaults from before schema 4 ---------------------------------------------------


def legacy_ids(db: Database) -> list[str]:
    return [str(r[0]) for r in db.all("SELECT id FROM attachments WHERE blob_id IS NULL")]


def legacy_chunks(db: Database, attachment_id: str) -> Iterator[bytes]:
    """Yield the old in-database chunks in order, one query each."""
    count = int(
        db.scalar("SELECT count(*) FROM attachment_chunks WHERE attachment_id=?", (attachment_id,))
    )
    for idx in range(count):
        row = db.one(
            "SELECT data FROM attachment_chunks WHERE attachment_id=? AND idx=?",
            (attachment_id, idx),
        )
        if row is None:
            raise LookupError(f"attachment chunk {idx} is missing")
        yield as_bytes(row[0])


def move_to_blob(db: Database, attachment_id: str, blob_id: bytes, blob_key: bytes) -> None:
    db.execute(
        "UPDATE attachments SET blob_id=?, blob_key=?, chunk_size=0, chunk_count=0 WHERE id=?",
        (blob_id, blob_key, attachment_id),
    )
    db.execute("DELETE FROM attachment_chunks WHERE attachment_id=?", (attachment_id,))


def blob_store(db: Database) -> BlobStore:
    return BlobStore.beside(db.path)


def content(db: Database, a: AttachmentRow) -> Iterator[bytes]:
    """The attachment's bytes, authenticated chunk by chunk (at most 1 MiB each)."""
    if a.blob_id is None or a.blob_key is None:
        raise IntegrityError(f"attachment {a.id} has not been moved to its file yet")
    return blob_store(db).read(a.blob_id, a.blob_key, a.size)


def open_content(db: Database, a: AttachmentRow) -> io.BufferedReader:
    """The attachment as a read-only, seekable file object, decrypted a chunk at a time
    (store/blobs.py BlobStore.open_random). Close it after use."""
    if a.blob_id is None or a.blob_key is None:
        raise IntegrityError(f"attachment {a.id} has not been moved to its file yet")
    return blob_store(db).open_random(a.blob_id, a.blob_key, a.size)

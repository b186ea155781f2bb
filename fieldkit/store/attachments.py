"""SQL for attachments, stored as fixed-size chunks so nothing is held whole in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fieldkit.store.db import Database, as_bytes

_COLS = (
    "id, record_id, filename, media_type, description, size, sha256, chunk_size,"
    " chunk_count, added_at"
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
    chunk_size: int
    chunk_count: int
    added_at: str


def _row(r: tuple[object, ...]) -> AttachmentRow:
    return AttachmentRow(
        id=str(r[0]),
        record_id=str(r[1]),
        filename=str(r[2]),
        media_type=str(r[3]),
        description=str(r[4]),
        size=int(str(r[5])),
        sha256=as_bytes(r[6]),
        chunk_size=int(str(r[7])),
        chunk_count=int(str(r[8])),
        added_at=str(r[9]),
    )


def insert_chunk(db: Database, attachment_id: str, idx: int, data: bytes) -> None:
    db.execute(
        "INSERT INTO attachment_chunks (attachment_id, idx, data) VALUES (?,?,?)",
        (attachment_id, idx, data),
    )


def insert_meta(db: Database, a: AttachmentRow) -> None:
    db.execute(
        f"INSERT INTO attachments ({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            a.id,
            a.record_id,
            a.filename,
            a.media_type,
            a.description,
            a.size,
            a.sha256,
            a.chunk_size,
            a.chunk_count,
            a.added_at,
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


def all_rows(db: Database) -> list[AttachmentRow]:
    return [_row(r) for r in db.all(f"SELECT {_COLS} FROM attachments ORDER BY added_at, id")]


def iter_chunks(db: Database, attachment_id: str, chunk_count: int) -> Iterator[bytes]:
    """Yield chunks in order, one query each, so memory holds one chunk at a time."""
    for idx in range(chunk_count):
        row = db.one(
            "SELECT data FROM attachment_chunks WHERE attachment_id=? AND idx=?",
            (attachment_id, idx),
        )
        if row is None:
            raise LookupError(f"attachment chunk {idx} is missing")
        yield as_bytes(row[0])


def set_description(db: Database, attachment_id: str, description: str) -> None:
    db.execute("UPDATE attachments SET description=? WHERE id=?", (description, attachment_id))


def delete(db: Database, attachment_id: str) -> None:
    db.execute("DELETE FROM attachment_chunks WHERE attachment_id=?", (attachment_id,))
    db.execute("DELETE FROM attachments WHERE id=?", (attachment_id,))


def stored_chunk_count(db: Database, attachment_id: str) -> int:
    return int(
        db.scalar("SELECT count(*) FROM attachment_chunks WHERE attachment_id=?", (attachment_id,))
    )

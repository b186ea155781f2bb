"""SQL for the append-only edit history."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fieldkit.store.db import Database, as_bytes


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: str
    action: str
    subject: str
    version: int
    content_hash: bytes
    prev_hash: bytes
    entry_hash: bytes


def last(db: Database) -> HistoryEntry | None:
    row = db.one(
        "SELECT seq, at, action, subject, version, content_hash, prev_hash, entry_hash"
        " FROM history ORDER BY seq DESC LIMIT 1"
    )
    return None if row is None else _entry(row)


def append(db: Database, entry: HistoryEntry) -> None:
    db.execute(
        "INSERT INTO history (seq, at, action, subject, version, content_hash, prev_hash,"
        " entry_hash) VALUES (?,?,?,?,?,?,?,?)",
        (
            entry.seq,
            entry.at,
            entry.action,
            entry.subject,
            entry.version,
            entry.content_hash,
            entry.prev_hash,
            entry.entry_hash,
        ),
    )


def iterate(db: Database, subject: str | None = None) -> Iterator[HistoryEntry]:
    sql = (
        "SELECT seq, at, action, subject, version, content_hash, prev_hash, entry_hash FROM history"
    )
    params: tuple[object, ...] = ()
    if subject is not None:
        sql += " WHERE subject = ?"
        params = (subject,)
    cur = db.execute(sql + " ORDER BY seq", params)
    for row in cur:
        yield _entry(tuple(row))


def _entry(row: tuple[object, ...]) -> HistoryEntry:
    return HistoryEntry(
        seq=int(str(row[0])),
        at=str(row[1]),
        action=str(row[2]),
        subject=str(row[3]),
        version=int(str(row[4])),
        content_hash=as_bytes(row[5]),
        prev_hash=as_bytes(row[6]),
        entry_hash=as_bytes(row[7]),
    )

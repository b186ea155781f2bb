"""HQ reads for analysis: every current record, streamed from one read snapshot, and the
log of attachments extracted at HQ.

`snapshot(db)` holds one read transaction: in WAL mode every SELECT inside it sees the
database as it was at its first read, whatever other connections commit meanwhile (an
import, an edit). `current_records` walks the records table in rowid order and fetches
a few rows at a time, so memory does not grow with the number of records.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fieldkit.store.db import Database, as_bytes

FETCH = 64  # rows per fetch: a record document is at most 8 MiB, usually a few KiB


@dataclass(frozen=True)
class CurrentRecord:
    id: str
    version: int
    doc: bytes
    device: bytes | None  # fingerprint of the device that sent this version, if any


@contextlib.contextmanager
def snapshot(db: Database) -> Iterator[Database]:
    """One read transaction (BEGIN DEFERRED ... ROLLBACK): a consistent view for as long
    as it is open. Nothing is written inside it."""
    db.execute("BEGIN")
    try:
        yield db
    finally:
        with contextlib.suppress(Exception):  # a connection closed by a lock rolled back
            db.execute("ROLLBACK")


def current_records(
    db: Database, devices: Sequence[bytes] | None = None
) -> Iterator[CurrentRecord]:
    """Every record's current version in the order they arrived, with the device that
    sent it; with `devices`, only records whose current version came from one of them.
    Call inside `snapshot` for a consistent view."""
    sql = (
        "SELECT r.id, r.version, v.doc, p.device FROM records r"
        " JOIN record_versions v ON v.record_id = r.id AND v.version = r.version"
        " LEFT JOIN provenance p"
        "   ON p.kind = 'record' AND p.item_id = r.id AND p.version = r.version"
    )
    params: list[object] = []
    if devices is not None:
        if not devices:
            return
        sql += f" WHERE p.device IN ({','.join('?' * len(devices))})"
        params.extend(devices)
    sql += " ORDER BY r.rid"
    cur = db.execute(sql, params)
    try:
        while True:
            rows = cur.fetchmany(FETCH)
            if not rows:
                return
            for r in rows:
                yield CurrentRecord(
                    str(r[0]), int(r[1]), as_bytes(r[2]), None if r[3] is None else as_bytes(r[3])
                )
    finally:
        cur.close()


def device_names(db: Database) -> dict[bytes, str]:
    """Every enrolled device's fingerprint and the name on its card."""
    return {as_bytes(r[0]): str(r[1]) for r in db.all("SELECT fingerprint, name FROM devices")}


# ---- the extraction log (schema 7) -------------------------------------------------------


@dataclass(frozen=True)
class Extraction:
    seq: int
    at: str
    attachment_id: str
    record_id: str
    sha256: bytes
    reason: str
    outcome: str  # 'started', 'written' or 'failed'
    copy: str | None = None  # 'original' or 'stripped' once written (schema 8; None before)
    copy_sha256: bytes | None = None  # of the copy written (schema 8)


def log_extraction(
    db: Database, at: str, attachment_id: str, record_id: str, sha256: bytes, reason: str
) -> int:
    """Inside the caller's transaction: log an extraction about to happen; its seq."""
    cur = db.execute(
        "INSERT INTO extraction_log (at, attachment_id, record_id, sha256, reason, outcome)"
        " VALUES (?,?,?,?,?, 'started')",
        (at, attachment_id, record_id, sha256, reason),
    )
    return int(cur.lastrowid)


def finish_extraction(
    db: Database,
    seq: int,
    outcome: str,
    *,
    copy: str | None = None,
    copy_sha256: bytes | None = None,
) -> None:
    """`copy` ('original' or 'stripped') and its hash once written (schema 8)."""
    db.execute(
        "UPDATE extraction_log SET outcome = ?, copy = ?, copy_sha256 = ? WHERE seq = ?",
        (outcome, copy, copy_sha256, seq),
    )


def extractions(db: Database, *, limit: int = 1000) -> list[Extraction]:
    return [
        Extraction(
            int(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            as_bytes(r[4]),
            str(r[5]),
            str(r[6]),
            None if r[7] is None else str(r[7]),
            None if r[8] is None else as_bytes(r[8]),
        )
        for r in db.all(
            "SELECT seq, at, attachment_id, record_id, sha256, reason, outcome, copy,"
            " copy_sha256 FROM extraction_log ORDER BY seq DESC LIMIT ?",
            (limit,),
        )
    ]

"""SQL for records, their versions and the full-text index."""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit.store import db as store_db
from fieldkit.store.db import Database, as_bytes

_SUMMARY_COLS = (
    "id, version, status, risk, pseudonym, interview_date, incident_types,"
    " created_at, updated_at, doc_hash"
)
SORT_COLUMNS = {
    "updated": "updated_at DESC",
    "created": "created_at DESC",
    "interview": "interview_date DESC",
    "risk": "CASE risk WHEN 'critical' THEN 0 WHEN 'high' THEN 1"
    " WHEN 'medium' THEN 2 ELSE 3 END, updated_at DESC",
    "pseudonym": "pseudonym COLLATE NOCASE",
}


@dataclass(frozen=True)
class RecordSummary:
    id: str
    version: int
    status: str
    risk: str
    pseudonym: str
    interview_date: str | None
    incident_types: tuple[str, ...]
    created_at: str
    updated_at: str
    doc_hash: bytes


def _summary(row: tuple[object, ...]) -> RecordSummary:
    return RecordSummary(
        id=str(row[0]),
        version=int(str(row[1])),
        status=str(row[2]),
        risk=str(row[3]),
        pseudonym=str(row[4]),
        interview_date=None if row[5] is None else str(row[5]),
        incident_types=tuple(str(row[6]).split()),
        created_at=str(row[7]),
        updated_at=str(row[8]),
        doc_hash=as_bytes(row[9]),
    )


def _types_column(types: tuple[str, ...]) -> str:
    # Padded with spaces so a filter can match ' type ' exactly.
    return " " + " ".join(types) + " " if types else " "


def save_version(db: Database, summary: RecordSummary, doc: bytes, fts_body: str) -> None:
    """Insert or update a record to `summary.version`, keeping every earlier version."""
    if summary.version == 1:
        db.execute(
            f"INSERT INTO records ({_SUMMARY_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            _summary_params(summary),
        )
    else:
        if _update_summary(db, summary, previous=summary.version - 1) != 1:
            raise RuntimeError("record changed concurrently")
    db.execute(
        "INSERT INTO record_versions (record_id, version, doc, doc_hash, saved_at)"
        " VALUES (?,?,?,?,?)",
        (summary.id, summary.version, doc, summary.doc_hash, summary.updated_at),
    )
    rid = db.scalar("SELECT rid FROM records WHERE id=?", (summary.id,))
    db.execute("DELETE FROM records_fts WHERE rowid=?", (rid,))
    db.execute("INSERT INTO records_fts (rowid, body) VALUES (?, ?)", (rid, fts_body))


def _update_summary(db: Database, s: RecordSummary, *, previous: int | None = None) -> int:
    """Point a record's summary row at version `s.version`; with `previous`, only if the
    row is still at that version (a guard against a concurrent save). Returns rows changed."""
    sql = (
        "UPDATE records SET version=?, status=?, risk=?, pseudonym=?, interview_date=?,"
        " incident_types=?, updated_at=?, doc_hash=? WHERE id=?"
    )
    params: list[object] = [
        s.version,
        s.status,
        s.risk,
        s.pseudonym,
        s.interview_date,
        _types_column(s.incident_types),
        s.updated_at,
        s.doc_hash,
        s.id,
    ]
    if previous is not None:
        sql += " AND version=?"
        params.append(previous)
    return int(db.execute(sql, params).rowcount)


def _summary_params(s: RecordSummary) -> tuple[object, ...]:
    return (
        s.id,
        s.version,
        s.status,
        s.risk,
        s.pseudonym,
        s.interview_date,
        _types_column(s.incident_types),
        s.created_at,
        s.updated_at,
        s.doc_hash,
    )


def get_summary(db: Database, record_id: str) -> RecordSummary | None:
    row = db.one(f"SELECT {_SUMMARY_COLS} FROM records WHERE id=?", (record_id,))
    return None if row is None else _summary(row)


def get_doc(db: Database, record_id: str, version: int) -> tuple[bytes, bytes] | None:
    """(document, stored hash) of one version."""
    row = db.one(
        "SELECT doc, doc_hash FROM record_versions WHERE record_id=? AND version=?",
        (record_id, version),
    )
    return None if row is None else (as_bytes(row[0]), as_bytes(row[1]))


def get_version(db: Database, record_id: str, version: int) -> tuple[bytes, str] | None:
    """(document, saved_at) of one version."""
    row = db.one(
        "SELECT doc, saved_at FROM record_versions WHERE record_id=? AND version=?",
        (record_id, version),
    )
    return None if row is None else (as_bytes(row[0]), str(row[1]))


def list_versions(db: Database, record_id: str) -> list[tuple[int, bytes, bytes, str]]:
    """(version, doc, doc_hash, saved_at) for every stored version, oldest first."""
    return [
        (int(r[0]), as_bytes(r[1]), as_bytes(r[2]), str(r[3]))
        for r in db.all(
            "SELECT version, doc, doc_hash, saved_at FROM record_versions"
            " WHERE record_id=? ORDER BY version",
            (record_id,),
        )
    ]


_IN_CHUNK = 500


def lacking_consent(db: Database, record_ids: list[str]) -> set[str]:
    """Those of `record_ids` whose current version does not record consent as obtained:
    `consent.obtained` is not JSON true (null, false, or absent as in schema 1). The same
    rule as services/model.py lacks_consent, read in SQL so a list of records need not
    parse each whole document in Python."""
    out: set[str] = set()
    for i in range(0, len(record_ids), _IN_CHUNK):
        chunk = record_ids[i : i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        out.update(
            str(r[0])
            for r in db.all(
                "SELECT r.id FROM records r JOIN record_versions v"
                " ON v.record_id = r.id AND v.version = r.version"
                f" WHERE r.id IN ({marks}) AND"
                " COALESCE(json_type(CAST(v.doc AS TEXT), '$.consent.obtained'), '') <> 'true'",
                tuple(chunk),
            )
        )
    return out


def all_record_ids(db: Database) -> list[str]:
    return [str(r[0]) for r in db.all("SELECT id FROM records ORDER BY rid")]


def list_summaries(
    db: Database,
    *,
    status: str | None = None,
    incident_type: str | None = None,
    risk: str | None = None,
    device: bytes | None = None,
    sort: str = "updated",
    limit: int = 1000,
    offset: int = 0,
) -> list[RecordSummary]:
    where, params = _filters(status, incident_type, risk, device)
    order = SORT_COLUMNS[sort]
    sql = f"SELECT {_SUMMARY_COLS} FROM records {where} ORDER BY {order} LIMIT ? OFFSET ?"
    return [_summary(r) for r in db.all(sql, (*params, limit, offset))]


def search(
    db: Database,
    fts_query: str,
    *,
    status: str | None = None,
    incident_type: str | None = None,
    risk: str | None = None,
    device: bytes | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[RecordSummary]:
    # Newest first. FTS5 walks its index in rowid order and stops at LIMIT, so a
    # word found in every record costs no more than a rare one; ordering by bm25
    # rank would score every match first (measured in docs/performance.md).
    where, params = _filters(status, incident_type, risk, device, prefix="r.")
    extra = where.replace("WHERE", "AND", 1) if where else ""
    cols = ", ".join("r." + c.strip() for c in _SUMMARY_COLS.split(","))
    sql = (
        f"SELECT {cols} FROM records_fts JOIN records r ON r.rid = records_fts.rowid"
        f" WHERE records_fts MATCH ? {extra} ORDER BY records_fts.rowid DESC LIMIT ? OFFSET ?"
    )
    return [_summary(r) for r in db.all(sql, (fts_query, *params, limit, offset))]


def _filters(
    status: str | None,
    incident_type: str | None,
    risk: str | None,
    device: bytes | None,
    prefix: str = "",
) -> tuple[str, list[object]]:
    """WHERE clauses for the filters given; every filter runs in SQL before LIMIT, so a
    page holds the first matching rows, not the matches among the first rows."""
    clauses: list[str] = []
    params: list[object] = []
    if status:
        clauses.append(f"{prefix}status = ?")
        params.append(status)
    if risk:
        clauses.append(f"{prefix}risk = ?")
        params.append(risk)
    if incident_type:
        clauses.append(f"instr({prefix}incident_types, ?) > 0")
        params.append(f" {incident_type} ")
    if device is not None:
        # HQ: the records this device sent (schema 7: records.device, indexed with
        # updated_at, so the newest of one device are read straight from the index).
        clauses.append(f"{prefix}device = ?")
        params.append(device)
    return ("WHERE " + " AND ".join(clauses) if clauses else "", params)


def count(db: Database) -> int:
    return int(db.scalar("SELECT count(*) FROM records"))


def delete_record(db: Database, record_id: str) -> None:
    """Remove a record, its versions, attachments and index entry (secure_delete is on)."""
    rid = db.scalar("SELECT rid FROM records WHERE id=?", (record_id,))
    if rid is None:
        return
    db.execute("DELETE FROM records_fts WHERE rowid=?", (rid,))
    db.execute("DELETE FROM records WHERE id=?", (record_id,))


def ids_with_prefix(db: Database, prefix: str, *, limit: int) -> list[str]:
    return store_db.ids_with_prefix(db, "records", prefix, limit=limit)


def receive_version(db: Database, summary: RecordSummary, doc: bytes, fts_body: str) -> bool:
    """HQ side: store a version received in a bundle. Versions arrive in any order
    (bundles import in any order, and a bundle lists them as the device signed them);
    the summary and the search index follow the highest one. Returns False if this
    version was already stored (the caller compares its hash: a fork otherwise)."""
    exists = db.scalar(
        "SELECT 1 FROM record_versions WHERE record_id=? AND version=?",
        (summary.id, summary.version),
    )
    if exists:
        return False
    current = get_summary(db, summary.id)
    if current is None:
        db.execute(
            f"INSERT INTO records ({_SUMMARY_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            _summary_params(summary),
        )
    elif summary.version > current.version:
        _update_summary(db, summary)
    db.execute(
        "INSERT INTO record_versions (record_id, version, doc, doc_hash, saved_at)"
        " VALUES (?,?,?,?,?)",
        (summary.id, summary.version, doc, summary.doc_hash, summary.updated_at),
    )
    if current is None or summary.version > current.version:
        rid = db.scalar("SELECT rid FROM records WHERE id=?", (summary.id,))
        db.execute("DELETE FROM records_fts WHERE rowid=?", (rid,))
        db.execute("INSERT INTO records_fts (rowid, body) VALUES (?, ?)", (rid, fts_body))
    return True

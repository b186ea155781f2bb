"""SQL for bundles: the field side's export log and delivery log, the HQ side's
per-device chain and provenance."""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit.store.db import Database, as_bytes

# ---- field side -------------------------------------------------------------------

# Bound on SQL parameters per statement (SQLite's default limit is 32,766).
_IN_CHUNK = 500


@dataclass(frozen=True)
class ExportItem:
    """One line of the export log: a record version or an attachment a bundle carried
    (attachments with the SHA-256 they were exported with; version 1). A bundle may
    carry several versions of one record, each once."""

    kind: str
    item_id: str
    version: int
    sha256: bytes | None = None


@dataclass(frozen=True)
class ExportRow:
    seq: int
    bundle_id: bytes
    bundle_hash: bytes
    manifest: bytes
    signature: bytes
    created_at: str
    written_at: str | None
    receipt_at: str | None


_EXPORT_COLS = (
    "seq, bundle_id, bundle_hash, manifest, signature, created_at, written_at, receipt_at"
)


def _export(r: tuple[object, ...]) -> ExportRow:
    return ExportRow(
        int(str(r[0])),
        as_bytes(r[1]),
        as_bytes(r[2]),
        as_bytes(r[3]),
        as_bytes(r[4]),
        str(r[5]),
        None if r[6] is None else str(r[6]),
        None if r[7] is None else str(r[7]),
    )


def last_export(db: Database) -> ExportRow | None:
    row = db.one(f"SELECT {_EXPORT_COLS} FROM exports ORDER BY seq DESC LIMIT 1")
    return None if row is None else _export(row)


def export_by_id(db: Database, bundle_id: bytes) -> ExportRow | None:
    row = db.one(f"SELECT {_EXPORT_COLS} FROM exports WHERE bundle_id=?", (bundle_id,))
    return None if row is None else _export(row)


def export_by_seq(db: Database, seq: int) -> ExportRow | None:
    row = db.one(f"SELECT {_EXPORT_COLS} FROM exports WHERE seq=?", (seq,))
    return None if row is None else _export(row)


def mark_written(db: Database, seq: int, at: str) -> None:
    db.execute("UPDATE exports SET written_at=? WHERE seq=?", (at, seq))


def record_export(db: Database, row: ExportRow, items: list[ExportItem]) -> None:
    db.execute(
        f"INSERT INTO exports ({_EXPORT_COLS}) VALUES (?,?,?,?,?,?,NULL,NULL)",
        (row.seq, row.bundle_id, row.bundle_hash, row.manifest, row.signature, row.created_at),
    )
    for it in items:
        db.execute(
            "INSERT INTO export_items (seq, kind, item_id, version, sha256) VALUES (?,?,?,?,?)",
            (row.seq, it.kind, it.item_id, it.version, it.sha256),
        )


def release_items(db: Database, seq: int) -> None:
    """Bundle `seq` is abandoned: what it carried is owed again (to the next bundle)."""
    db.execute("DELETE FROM export_items WHERE seq=?", (seq,))


def exported_items(db: Database, seq: int) -> list[tuple[str, str, int]]:
    return [
        (str(r[0]), str(r[1]), int(str(r[2])))
        for r in db.all(
            "SELECT kind, item_id, version FROM export_items WHERE seq=?"
            " ORDER BY kind, item_id, version",
            (seq,),
        )
    ]


def record_ever_exported(db: Database, record_id: str) -> bool:
    """Whether some bundle in the export log carries a version of this record."""
    return (
        db.one("SELECT 1 FROM export_items WHERE kind='record' AND item_id=? LIMIT 1", (record_id,))
        is not None
    )


def records_to_export(db: Database, everything: bool) -> list[tuple[str, int]]:
    """(record id, version) of every saved version no bundle carries (an abandoned
    bundle's items were released): records in the order they were made, each one's
    versions oldest first. With `everything`, every saved version."""
    owed = (
        ""
        if everything
        else " WHERE NOT EXISTS (SELECT 1 FROM export_items e WHERE e.kind='record'"
        " AND e.item_id=v.record_id AND e.version=v.version)"
    )
    sql = (
        "SELECT v.record_id, v.version FROM record_versions v"
        f" JOIN records r ON r.id = v.record_id{owed} ORDER BY r.rid, v.version"
    )
    return [(str(r[0]), int(str(r[1]))) for r in db.all(sql)]


def attachments_to_export(db: Database, everything: bool) -> list[str]:
    if everything:
        sql = "SELECT id FROM attachments ORDER BY added_at, id"
    else:
        sql = (
            "SELECT a.id FROM attachments a WHERE NOT EXISTS (SELECT 1 FROM export_items e"
            " WHERE e.kind='attachment' AND e.item_id=a.id) ORDER BY a.added_at, a.id"
        )
    return [str(r[0]) for r in db.all(sql)]


def mark_receipt(db: Database, seq: int, at: str) -> None:
    db.execute("UPDATE exports SET receipt_at=? WHERE seq=? AND receipt_at IS NULL", (at, seq))


def record_deliveries(
    db: Database, record_ids: list[str]
) -> list[tuple[str, int, int | None, bool]]:
    """(record id, version, bundle seq or None, receipted) for every saved version of
    these records: one row per bundle that carried it, or one row with no bundle if
    none did."""
    out: list[tuple[str, int, int | None, bool]] = []
    for i in range(0, len(record_ids), _IN_CHUNK):
        chunk = record_ids[i : i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        out += [
            (str(r[0]), int(str(r[1])), None if r[2] is None else int(str(r[2])), bool(r[3]))
            for r in db.all(
                "SELECT v.record_id, v.version, e.seq, x.receipt_at IS NOT NULL"
                " FROM record_versions v LEFT JOIN export_items e ON e.kind='record'"
                " AND e.item_id = v.record_id AND e.version = v.version"
                " LEFT JOIN exports x ON x.seq = e.seq"
                f" WHERE v.record_id IN ({marks})",
                chunk,
            )
        ]
    return out


def attachment_deliveries(
    db: Database, record_ids: list[str]
) -> list[tuple[str, str, int | None, bool]]:
    """(record id, attachment id, bundle seq or None, receipted) for each attachment of
    these records: one row per bundle that carried it with its current SHA-256, or one
    row with no bundle if none did."""
    out: list[tuple[str, str, int | None, bool]] = []
    for i in range(0, len(record_ids), _IN_CHUNK):
        chunk = record_ids[i : i + _IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        out += [
            (str(r[0]), str(r[1]), None if r[2] is None else int(str(r[2])), bool(r[3]))
            for r in db.all(
                "SELECT a.record_id, a.id, e.seq, x.receipt_at IS NOT NULL FROM attachments a"
                " LEFT JOIN export_items e ON e.kind='attachment' AND e.item_id = a.id"
                " AND e.sha256 = a.sha256 LEFT JOIN exports x ON x.seq = e.seq"
                f" WHERE a.record_id IN ({marks})",
                chunk,
            )
        ]
    return out


def log_delivery(db: Database, record_id: str, version: int, bundle_id: bytes, at: str) -> None:
    db.execute(
        "INSERT INTO delivery_log (record_id, version, bundle_id, delivered_at)"
        " VALUES (?,?,?,?) ON CONFLICT(record_id, version) DO NOTHING",
        (record_id, version, bundle_id, at),
    )


def log_purge(db: Database, record_id: str, at: str) -> None:
    db.execute(
        "UPDATE delivery_log SET purged_at=? WHERE record_id=? AND purged_at IS NULL",
        (at, record_id),
    )


# ---- HQ side -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceBundle:
    device: bytes
    seq: int
    bundle_id: bytes
    bundle_hash: bytes
    prev_hash: bytes | None
    history_head: bytes
    created: int
    imported_at: str
    prev_abandoned: bool = False


_DB_COLS = (
    "device, seq, bundle_id, bundle_hash, prev_hash, history_head, created, imported_at,"
    " prev_abandoned"
)


def _device_bundle(r: tuple[object, ...]) -> DeviceBundle:
    return DeviceBundle(
        as_bytes(r[0]),
        int(str(r[1])),
        as_bytes(r[2]),
        as_bytes(r[3]),
        None if r[4] is None else as_bytes(r[4]),
        as_bytes(r[5]),
        int(str(r[6])),
        str(r[7]),
        bool(r[8]),
    )


def device_bundle(db: Database, device: bytes, seq: int) -> DeviceBundle | None:
    row = db.one(f"SELECT {_DB_COLS} FROM device_bundles WHERE device=? AND seq=?", (device, seq))
    return None if row is None else _device_bundle(row)


def bundle_by_id(db: Database, bundle_id: bytes) -> DeviceBundle | None:
    row = db.one(f"SELECT {_DB_COLS} FROM device_bundles WHERE bundle_id=?", (bundle_id,))
    return None if row is None else _device_bundle(row)


def device_seqs(db: Database, device: bytes) -> list[int]:
    return [
        int(str(r[0]))
        for r in db.all("SELECT seq FROM device_bundles WHERE device=? ORDER BY seq", (device,))
    ]


def all_device_seqs(db: Database) -> list[tuple[bytes, int, bool]]:
    """(device, seq, prev_abandoned) of every bundle imported, by device and seq: one
    walk of the primary key for the whole roster."""
    return [
        (as_bytes(r[0]), int(str(r[1])), bool(r[2]))
        for r in db.all(
            "SELECT device, seq, prev_abandoned FROM device_bundles ORDER BY device, seq"
        )
    ]


def last_device_seq(db: Database, device: bytes) -> int:
    """The highest sequence number imported from this device, 0 for none."""
    return int(
        db.scalar("SELECT COALESCE(max(seq), 0) FROM device_bundles WHERE device=?", (device,))
    )


def add_device_bundle(db: Database, b: DeviceBundle) -> None:
    db.execute(
        f"INSERT INTO device_bundles ({_DB_COLS}) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            b.device,
            b.seq,
            b.bundle_id,
            b.bundle_hash,
            b.prev_hash,
            b.history_head,
            b.created,
            b.imported_at,
            int(b.prev_abandoned),
        ),
    )


def abandoned_seqs(db: Database, device: bytes) -> set[int]:
    """Numbers the device declared abandoned (never written) in the bundle after them."""
    return {
        int(str(r[0])) - 1
        for r in db.all(
            "SELECT seq FROM device_bundles WHERE device=? AND prev_abandoned=1", (device,)
        )
    }


def add_provenance(
    db: Database, kind: str, item_id: str, version: int, device: bytes, bundle_id: bytes, seq: int
) -> None:
    db.execute(
        "INSERT INTO provenance (kind, item_id, version, device, bundle_id, seq)"
        " VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        (kind, item_id, version, device, bundle_id, seq),
    )
    if kind == "record":  # the device filter reads it from the record's row (schema 7)
        db.execute(
            "UPDATE records SET device = ? WHERE id = ? AND device IS NULL", (device, item_id)
        )


def record_device(db: Database, record_id: str) -> bytes | None:
    v = db.scalar(
        "SELECT device FROM provenance WHERE kind='record' AND item_id=?"
        " ORDER BY version DESC LIMIT 1",
        (record_id,),
    )
    return None if v is None else as_bytes(v)


def record_ids_of_device(db: Database, device: bytes) -> set[str]:
    return {
        str(r[0])
        for r in db.all(
            "SELECT DISTINCT item_id FROM provenance WHERE kind='record' AND device=?", (device,)
        )
    }

"""SQL for the custody log (schema 8): signed entries, one chain per item."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fieldkit.store.db import Database, Row, as_bytes


@dataclass(frozen=True)
class CustodyRow:
    kind: str
    item_id: str
    version: int  # 0 for an attachment
    seq: int
    event: str
    body: bytes
    signature: bytes
    entry_hash: bytes


_COLUMNS = "kind, item_id, version, seq, event, body, signature, entry_hash"


def _row(r: Row) -> CustodyRow:
    return CustodyRow(
        str(r[0]),
        str(r[1]),
        int(r[2]),
        int(r[3]),
        str(r[4]),
        as_bytes(r[5]),
        as_bytes(r[6]),
        as_bytes(r[7]),
    )


def append(db: Database, row: CustodyRow) -> None:
    db.execute(
        f"INSERT INTO custody ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
        (
            row.kind,
            row.item_id,
            row.version,
            row.seq,
            row.event,
            row.body,
            row.signature,
            row.entry_hash,
        ),
    )


def last(db: Database, kind: str, item_id: str, version: int) -> CustodyRow | None:
    r = db.one(
        f"SELECT {_COLUMNS} FROM custody WHERE kind = ? AND item_id = ? AND version = ?"
        " ORDER BY seq DESC LIMIT 1",
        (kind, item_id, version),
    )
    return None if r is None else _row(r)


def chain(db: Database, kind: str, item_id: str, version: int) -> list[CustodyRow]:
    rows = db.all(
        f"SELECT {_COLUMNS} FROM custody WHERE kind = ? AND item_id = ? AND version = ?"
        " ORDER BY seq",
        (kind, item_id, version),
    )
    return [_row(r) for r in rows]


def items(db: Database) -> list[tuple[str, str, int]]:
    rows = db.all("SELECT DISTINCT kind, item_id, version FROM custody ORDER BY 1, 2, 3")
    return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]


def iterate(db: Database) -> Iterator[CustodyRow]:
    for r in db.all(f"SELECT {_COLUMNS} FROM custody ORDER BY kind, item_id, version, seq"):
        yield _row(r)


def versions_of(db: Database, record_id: str) -> list[int]:
    rows = db.all(
        "SELECT DISTINCT version FROM custody WHERE kind = 'record_version' AND item_id = ?"
        " ORDER BY version",
        (record_id,),
    )
    return [int(r[0]) for r in rows]


def ids_with_prefix(db: Database, kind: str, prefix: str, *, limit: int) -> list[str]:
    """Ids of items with custody entries that start with `prefix` (a range scan): an
    item HQ purged or a device deleted keeps its log and can still be looked up."""
    rows = db.all(
        "SELECT DISTINCT item_id FROM custody WHERE kind = ? AND item_id >= ? AND item_id < ?"
        " ORDER BY item_id LIMIT ?",
        (kind, prefix, prefix + "\U0010ffff", limit),
    )
    return [str(r[0]) for r in rows]


def delete_item(db: Database, kind: str, item_id: str) -> None:
    db.execute("DELETE FROM custody WHERE kind = ? AND item_id = ?", (kind, item_id))

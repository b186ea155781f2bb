"""SQL for editor drafts: the record being typed, saved every few seconds."""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit.store.db import Database, as_bytes


@dataclass(frozen=True)
class DraftRow:
    id: str
    record_id: str | None
    doc: bytes
    updated_at: str


def put(db: Database, d: DraftRow) -> None:
    db.execute(
        "INSERT INTO drafts (id, record_id, doc, updated_at) VALUES (?,?,?,?)"
        " ON CONFLICT(id) DO UPDATE SET doc=excluded.doc, updated_at=excluded.updated_at,"
        " record_id=excluded.record_id",
        (d.id, d.record_id, d.doc, d.updated_at),
    )


def get(db: Database, draft_id: str) -> DraftRow | None:
    r = db.one("SELECT id, record_id, doc, updated_at FROM drafts WHERE id=?", (draft_id,))
    return (
        None
        if r is None
        else DraftRow(str(r[0]), None if r[1] is None else str(r[1]), as_bytes(r[2]), str(r[3]))
    )


def all_drafts(db: Database) -> list[DraftRow]:
    return [
        DraftRow(str(r[0]), None if r[1] is None else str(r[1]), as_bytes(r[2]), str(r[3]))
        for r in db.all(
            "SELECT id, record_id, doc, updated_at FROM drafts ORDER BY updated_at DESC"
        )
    ]


def delete(db: Database, draft_id: str) -> None:
    db.execute("DELETE FROM drafts WHERE id=?", (draft_id,))

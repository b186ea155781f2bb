"""SQL for what a deleted record leaves outside its own rows: drafts, the bundle
manifests that name it, and the words the full-text index still holds."""

from __future__ import annotations

from fieldkit.store.db import Database


def delete_drafts(db: Database, record_id: str) -> int:
    """The editor drafts of one record; returns how many."""
    return int(db.execute("DELETE FROM drafts WHERE record_id=?", (record_id,)).rowcount)


def scrub_manifests(db: Database, record_ids: list[str], attachment_ids: list[str]) -> int:
    """Empty the stored manifest of every bundle that carried one of these items; returns
    how many. The manifest names attachment files and their descriptions; it is kept
    only to write the same bundle again, which cannot be done once one of its items is
    gone. The row stays (sequence number, bundle hash: the device's chain)."""
    changed = 0
    for kind, ids in (("record", record_ids), ("attachment", attachment_ids)):
        for item_id in ids:
            changed += int(
                db.execute(
                    "UPDATE exports SET manifest=x'' WHERE length(manifest) > 0 AND seq IN"
                    " (SELECT seq FROM export_items WHERE kind=? AND item_id=?)",
                    (kind, item_id),
                ).rowcount
            )
    return changed


def optimize_index(db: Database) -> None:
    """Merge the full-text index into one segment. A contentless_delete table only marks
    deleted rows; their words stay in the old segments until a merge rewrites them (and
    secure_delete then overwrites the freed pages)."""
    db.execute("INSERT INTO records_fts(records_fts) VALUES('optimize')")

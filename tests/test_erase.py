"""Deleted means deleted: after purge and after record deletion no byte of the record is
left in the vault folder, neither in the raw files (database, WAL, SHM, attachment files)
nor in any decrypted page of the database or its WAL, free pages and stale frames
included (tests/sqlcipher_pages.py decrypts them with the master key).

Every free-text field of the record, its attachment's file name, description and media
type, and an editor draft each carry their own marker; each marker is one FTS token, so
it also lands in the full-text index. Every check first shows the markers present."""

from __future__ import annotations

import io
import secrets
from pathlib import Path
from typing import Any

import pytest

from fieldkit.errors import NotFound
from fieldkit.services import export as export_svc
from fieldkit.services import hq_import, model, purge, receipts
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.drafts import DraftService
from fieldkit.services.erase import delete_record
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests import sqlcipher_pages
from tests.bundle_fixtures import Pair

# Keys that hold codes or dates, not free text.
_CODED = {
    "schema", "status", "risk", "date", "language", "id", "role", "gender", "nationality",
    "type", "country", "actor_type", "currency", "amount", "earliest", "latest",
    "related_to", "scope", "withdrawn_on", "victims", "languages", "roles", "method",
    "obtained_on",
}  # fmt: skip


class Markers:
    """Unique single-token markers, one per field. FTS5 stores a term's shared prefix
    with its neighbour only once, so scans look for each marker's random tail."""

    def __init__(self) -> None:
        self.by_field: dict[str, str] = {}

    def new(self, field: str, *, lead: str = "zq") -> str:
        m = f"{lead}{len(self.by_field):02d}x{secrets.token_hex(8)}"
        self.by_field[field] = m
        return m

    def needles(self) -> dict[str, bytes]:
        return {f: m[-16:].encode() for f, m in self.by_field.items()}


def marked_record(mk: Markers, tag: str) -> dict[str, Any]:
    doc = model.template()

    def fill(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {
                k: v if k in _CODED and not isinstance(v, dict) else fill(v, f"{path}.{k}")
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [fill(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str):
            if path.endswith("real_name"):  # a real name, in Cyrillic and Tajik letters
                return "Қодир " + mk.new(f"{tag}{path}", lead="ҷқ")
            return mk.new(f"{tag}{path}")
        return node

    doc = fill(doc, "")
    doc["interview"]["date"] = "2026-05-14"
    return model.validate(doc)


def add_marked(db: Any, mk: Markers, tag: str) -> str:
    rs = RecordService(db)
    rid = rs.add(marked_record(mk, tag))
    rs.edit(rid, marked_record(mk, f"{tag}v2"))  # two versions, both must go
    AttachmentService(db).add_stream(
        rid,
        io.BytesIO(b"scan " + mk.new(f"{tag}content").encode() * 100),
        filename=mk.new(f"{tag}filename") + ".jpg",
        description=mk.new(f"{tag}description"),
        media_type="image/x-" + mk.new(f"{tag}media_type"),
    )
    draft = marked_record(mk, f"{tag}draft")
    DraftService(db).save(DraftService(db).new_id(), rid, draft)
    return rid


def raw_hits(root: Path, needles: dict[str, bytes]) -> list[str]:
    hits = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            hits += [f"{name} raw in {p.name}" for name, n in needles.items() if n in data]
    return hits


def plain_hits(vault: Vault, key: bytes, needles: dict[str, bytes]) -> list[str]:
    return sqlcipher_pages.find(sqlcipher_pages.pages(vault.paths.database, key), needles)


def _only(needles: dict[str, bytes], tag: str) -> dict[str, bytes]:
    return {k: v for k, v in needles.items() if k.startswith(tag)}


def _missing(hits: list[str], needles: dict[str, bytes]) -> set[str]:
    """Needles (except the attachment's content, which only its own file holds) found
    nowhere in `hits`."""
    found = {h.split(" ")[0] for h in hits}
    return {n for n in needles if n not in found and not n.endswith("content")}


def _scan_after(vault: Vault, key: bytes, gone: dict[str, bytes], kept: dict[str, bytes]) -> None:
    """Open and after lock: nothing of `gone` anywhere, all of `kept` still readable."""
    for stage in ("open", "locked"):
        if stage == "locked":
            vault.lock()
        assert raw_hits(vault.paths.root, {**gone, **kept}) == [], stage
        hits = plain_hits(vault, key, {**gone, **kept})
        assert [h for h in hits if h.split(" ")[0] in gone] == [], stage
        assert _missing(hits, kept) == set(), stage  # the scan still sees what stays


def test_purge_leaves_nothing_of_the_record(pair: Pair) -> None:
    mk = Markers()
    db = pair.field.db
    key = bytes(pair.field._master_key)
    gone_id = add_marked(db, mk, "gone")
    out = pair.tmp / "1.fkb"
    assert export_svc.export(db, out) is not None
    rdir = pair.tmp / "receipts"
    rdir.mkdir()
    rep = hq_import.import_bundle(pair.hq.db, out, receipts_dir=rdir)
    assert rep.receipt is not None
    receipts.import_receipt(db, rep.receipt)
    kept_id = add_marked(db, mk, "kept")  # not delivered: stays
    needles = mk.needles()
    gone, kept = _only(needles, "gone"), _only(needles, "kept")
    # Before: every marker is in the decrypted pages (the scan can fail).
    assert _missing(plain_hits(pair.field, key, needles), needles) == set()

    # A record with an unsaved draft is kept (test_delivery.py): the fieldworker
    # discards the draft, as purge's message says, and the purge takes the record.
    assert purge.purge_delivered(db).kept == {"draft": 1, "not_sent": 1}
    DraftService(db).discard(str(db.scalar("SELECT id FROM drafts WHERE record_id=?", (gone_id,))))
    assert purge.purge_delivered(db).records == 1

    assert db.scalar("SELECT count(*) FROM drafts WHERE record_id=?", (kept_id,)) == 1
    assert db.scalar("SELECT count(*) FROM drafts") == 1
    _scan_after(pair.field, key, gone, kept)


def test_record_deletion_leaves_nothing_of_the_record(vault: Vault) -> None:
    mk = Markers()
    key = bytes(vault._master_key)
    rid = add_marked(vault.db, mk, "gone")
    kept_id = add_marked(vault.db, mk, "kept")
    needles = mk.needles()
    assert _missing(plain_hits(vault, key, needles), needles) == set()

    result = delete_record(vault.db, rid)

    assert (result.records, result.attachments, result.drafts) == (1, 1, 1)
    assert RecordService(vault.db).count() == 1
    assert [r.id for r in RecordService(vault.db).search(mk.by_field["keptv2.narrative"])] == [
        kept_id
    ]
    assert RecordService(vault.db).search(mk.by_field["gonev2.narrative"]) == []
    _scan_after(vault, key, _only(needles, "gone"), _only(needles, "kept"))


def test_deletion_scrubs_the_manifest_of_a_bundle_that_carried_the_record(
    pair: Pair,
) -> None:
    """An unreceipted bundle's manifest names the attachment; once its record is deleted
    the bundle cannot be written again anyway, and the names go with the record."""
    mk = Markers()
    db = pair.field.db
    key = bytes(pair.field._master_key)
    rid = add_marked(db, mk, "gone")
    kept_id = add_marked(db, mk, "kept")
    assert export_svc.export(db, pair.tmp / "1.fkb") is not None  # carries both
    needles = mk.needles()

    delete_record(db, rid)

    assert RecordService(db).summary(kept_id).version == 2
    with pytest.raises(NotFound, match="can no longer be written"):
        export_svc.resend(db, 1, pair.tmp / "again.fkb")
    _scan_after(pair.field, key, _only(needles, "gone"), _only(needles, "kept"))

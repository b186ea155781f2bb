"""The edit history detects every change made behind the app's back."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from fieldkit.formats.canonical import canonical_json
from fieldkit.services import model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.history import verify
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store
from fieldkit.store.db import Database


def _populate(vault: Vault) -> tuple[str, str]:
    rs = RecordService(vault.db)
    rid = rs.add(model.template())
    d = model.template()
    d["narrative"] = "Version two."
    rs.edit(rid, d)
    rs.add({"pseudonym": "Other"})
    att = AttachmentService(vault.db).add_stream(rid, io.BytesIO(b"audio" * 1000), filename="a.ogg")
    return rid, att.id


def test_clean_history_verifies(vault: Vault) -> None:
    _populate(vault)
    report = verify(vault.db, attachment_content=True)
    assert report.ok, report.problems
    assert report.entries == 4


def _raw(db: Database, sql: str, params: tuple[object, ...] = ()) -> None:
    with db.transaction():
        db.execute(sql, params)


def _blob_path(db: Database, attachment_id: str) -> Path:
    row = att_store.get(db, attachment_id)
    assert row is not None and row.blob_id is not None
    return att_store.blob_store(db).path(row.blob_id)


def _truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size - 1)


TAMPERS: dict[str, Callable[[Database, str, str], None]] = {
    "doc edited in place": lambda db, rid, _a: _raw(
        db,
        "UPDATE record_versions SET doc=? WHERE record_id=? AND version=1",
        (canonical_json({**model.template(), "narrative": "forged"}), rid),
    ),
    "doc and its stored hash edited": lambda db, rid, _a: _raw(
        db,
        "UPDATE record_versions SET doc=?, doc_hash=zeroblob(32) WHERE record_id=? AND version=2",
        (canonical_json({"pseudonym": "forged"}), rid),
    ),
    "version deleted": lambda db, rid, _a: _raw(
        db, "DELETE FROM record_versions WHERE record_id=? AND version=1", (rid,)
    ),
    "history entry deleted": lambda db, _r, _a: _raw(db, "DELETE FROM history WHERE seq=2"),
    "last history entry deleted": lambda db, _r, _a: _raw(
        db, "DELETE FROM history WHERE seq=(SELECT max(seq) FROM history)"
    ),
    "history entry altered": lambda db, _r, _a: _raw(
        db, "UPDATE history SET at='2020-01-01T00:00:00Z' WHERE seq=1"
    ),
    "record summary points elsewhere": lambda db, rid, _a: _raw(
        db, "UPDATE records SET version=1 WHERE id=?", (rid,)
    ),
    "whole record deleted": lambda db, rid, _a: _raw(db, "DELETE FROM records WHERE id=?", (rid,)),
    "attachment description changed": lambda db, _r, aid: _raw(
        db, "UPDATE attachments SET description='x' WHERE id=?", (aid,)
    ),
    "attachment file replaced": lambda db, _r, aid: _blob_path(db, aid).write_bytes(b"forged"),
    "attachment file deleted": lambda db, _r, aid: _blob_path(db, aid).unlink(),
    "attachment file truncated": lambda db, _r, aid: _truncate(_blob_path(db, aid)),
    "attachment deleted": lambda db, _r, aid: _raw(
        db, "DELETE FROM attachments WHERE id=?", (aid,)
    ),
}


# What `history verify` must say for each: the tampered record, version, attachment or
# entry by name, not merely that something is wrong.
FINDINGS = {
    "attachment deleted": "attachment {aid} was deleted",
    "attachment description changed": "attachment {aid} metadata differs from its history",
    "attachment file deleted": "attachment {aid} has no stored file",
    "attachment file replaced": "attachment {aid}: a stored attachment file has the wrong length",
    "attachment file truncated": "attachment {aid}: a stored attachment file has the wrong length",
    "doc and its stored hash edited": "record {rid} version 2 differs from its history",
    "doc edited in place": "record {rid} version 1 was changed",
    "history entry altered": "history entry 1 was altered",
    "history entry deleted": "history entry 2 is missing (found 3)",
    "last history entry deleted": "attachment {aid} has no history entry",
    "record summary points elsewhere": "record {rid} does not point at its latest version",
    "version deleted": "record {rid} version 1 was deleted",
    "whole record deleted": "record {rid} version 2 was deleted",
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_is_detected(vault: Vault, name: str) -> None:
    rid, aid = _populate(vault)
    TAMPERS[name](vault.db, rid, aid)
    report = verify(vault.db, attachment_content=True)
    assert FINDINGS[name].format(rid=rid, aid=aid) in report.problems, report.problems


def test_removal_through_the_app_is_not_tampering(vault: Vault) -> None:
    _rid, aid = _populate(vault)
    AttachmentService(vault.db).remove(aid)
    assert verify(vault.db).ok

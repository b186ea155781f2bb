"""Field -> HQ -> receipt -> purge, through the services."""

from __future__ import annotations

import io
import os
import resource
from pathlib import Path

import pytest

from fieldkit.formats import bundle
from fieldkit.services import delivery, hq_import, purge, receipts, trust
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.history import verify
from fieldkit.services.records import RecordService
from fieldkit.store import attachments as att_store
from tests.bundle_fixtures import Pair


def test_round_trip(pair: Pair) -> None:
    blob = os.urandom(1_300_000)
    rid = pair.add_testimony("Қодир was detained on 2 April", attachment=blob)
    out = pair.tmp / "b1.fkb"
    res = export_svc.export(pair.field.db, out)
    assert res is not None and res.seq == 1 and res.records == 1 and res.attachments == 1
    assert delivery.state_of(pair.field.db, RecordService(pair.field.db).summary(rid)).kind == (
        "waiting"
    )
    assert not out.read_bytes()[:200].count(b"Qodir")
    rdir = pair.tmp / "receipts"
    rdir.mkdir()
    rep = hq_import.import_bundle(pair.hq.db, out, receipts_dir=rdir)
    assert (rep.records_new, rep.attachments_new, rep.duplicate) == (1, 1, False)
    hq_records = RecordService(pair.hq.db)
    assert hq_records.get(rid).doc["narrative"] == "Қодир was detained on 2 April"
    assert [r.id for r in hq_records.search("кодир")] == [rid]
    att = AttachmentService(pair.hq.db).for_record(rid)[0]
    AttachmentService(pair.hq.db).extract(att.id, pair.tmp / "x.jpg")
    assert (pair.tmp / "x.jpg").read_bytes() == blob
    assert verify(pair.hq.db, attachment_content=True).ok
    # same bundle again: no-op
    again = hq_import.import_bundle(pair.hq.db, out)
    assert again.duplicate
    # receipt back at the field
    assert rep.receipt is not None
    rr = receipts.import_receipt(pair.field.db, rep.receipt)
    assert (rr.delivered, rr.superseded) == (1, 0)
    assert delivery.state_of(pair.field.db, RecordService(pair.field.db).summary(rid)).kind == (
        "delivered"
    )
    pr = purge.purge_delivered(pair.field.db)
    assert (pr.records, pr.attachments) == (1, 1)
    assert RecordService(pair.field.db).count() == 0
    assert pair.field.db.scalar("SELECT count(*) FROM attachments") == 0
    assert list(att_store.blob_store(pair.field.db).folder.iterdir()) == []
    assert verify(pair.field.db).ok
    # Nothing new: no bundle.
    assert export_svc.export(pair.field.db, pair.tmp / "b2.fkb") is None


def test_incremental_and_superseding_versions(pair: Pair) -> None:
    rs = RecordService(pair.field.db)
    a = pair.add_testimony("first")
    export_svc.export(pair.field.db, pair.tmp / "1.fkb")
    b = pair.add_testimony("second")
    doc = rs.get(a).doc
    doc["narrative"] = "first, corrected"
    rs.edit(a, doc)
    r2 = export_svc.export(pair.field.db, pair.tmp / "2.fkb")
    assert r2 is not None and r2.seq == 2 and r2.records == 2
    hq_import.import_bundle(pair.hq.db, pair.tmp / "1.fkb")
    hq_import.import_bundle(pair.hq.db, pair.tmp / "2.fkb")
    hq = RecordService(pair.hq.db)
    assert hq.get(a).doc["narrative"] == "first, corrected"
    assert hq.get(a, 1).doc["narrative"] == "first"  # history kept
    assert hq.get(b).version == 1
    assert verify(pair.hq.db).ok


def test_gap_is_imported_and_reported(pair: Pair) -> None:
    for i in range(3):
        pair.add_testimony(f"t{i}")
        export_svc.export(pair.field.db, pair.tmp / f"{i + 1}.fkb")
    hq_import.import_bundle(pair.hq.db, pair.tmp / "1.fkb")
    rep = hq_import.import_bundle(pair.hq.db, pair.tmp / "3.fkb")
    assert rep.missing_before == [2]
    status = trust.devices(pair.hq.db)[0]
    assert status.missing == [2] and status.last_seq == 3
    hq_import.import_bundle(pair.hq.db, pair.tmp / "2.fkb")
    assert trust.devices(pair.hq.db)[0].missing == []


def test_resend_is_a_duplicate_not_a_fork(pair: Pair) -> None:
    pair.add_testimony("x", attachment=b"abc" * 1000)
    export_svc.export(pair.field.db, pair.tmp / "1.fkb")
    export_svc.resend(pair.field.db, 1, pair.tmp / "1-again.fkb")
    assert (pair.tmp / "1.fkb").read_bytes() != (pair.tmp / "1-again.fkb").read_bytes()
    hq_import.import_bundle(pair.hq.db, pair.tmp / "1-again.fkb")
    assert hq_import.import_bundle(pair.hq.db, pair.tmp / "1.fkb").duplicate


def test_receipt_after_edit_keeps_new_version(pair: Pair, tmp_path: Path) -> None:
    rid = pair.add_testimony("v1")
    export_svc.export(pair.field.db, pair.tmp / "1.fkb")
    rs = RecordService(pair.field.db)
    doc = rs.get(rid).doc
    doc["narrative"] = "v2"
    rs.edit(rid, doc)
    rdir = tmp_path / "r"
    rdir.mkdir()
    rep = hq_import.import_bundle(pair.hq.db, pair.tmp / "1.fkb", receipts_dir=rdir)
    assert rep.receipt is not None
    rr = receipts.import_receipt(pair.field.db, rep.receipt)
    assert (rr.delivered, rr.superseded) == (0, 1)
    assert rs.summary(rid).status == "draft"
    assert purge.purge_delivered(pair.field.db).records == 0


def test_an_attachment_sent_again_is_checked_not_stored_twice(pair: Pair) -> None:
    data = os.urandom(2_500_000)
    pair.add_testimony("with a scan", attachment=data)
    export_svc.export(pair.field.db, pair.tmp / "1.fkb")
    again = export_svc.export(pair.field.db, pair.tmp / "2.fkb", everything=True)
    assert again is not None and again.attachments == 1
    hq_import.import_bundle(pair.hq.db, pair.tmp / "1.fkb")
    files = sorted(att_store.blob_store(pair.hq.db).folder.iterdir())
    rep = hq_import.import_bundle(pair.hq.db, pair.tmp / "2.fkb")
    assert (rep.attachments_new, rep.duplicate) == (0, False)
    assert sorted(att_store.blob_store(pair.hq.db).folder.iterdir()) == files
    assert verify(pair.hq.db, attachment_content=True).ok


def test_a_bundle_with_more_attachments_than_open_files_allowed(pair: Pair) -> None:
    """Weeks offline, hundreds of document photos: a bundle may hold more attachments
    than the process may have files open (macOS allows 256 by default), and still
    imports."""
    rid = pair.add_testimony("many scans")
    svc = AttachmentService(pair.field.db)
    for i in range(300):
        svc.add_stream(rid, io.BytesIO(b"scan %d" % i), filename=f"{i}.jpg")
    export_svc.export(pair.field.db, pair.tmp / "1.fkb")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    open_now = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 64
    resource.setrlimit(resource.RLIMIT_NOFILE, (open_now + 100, hard))
    try:
        rep = hq_import.import_bundle(pair.hq.db, pair.tmp / "1.fkb")
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert rep.attachments_new == 300
    assert verify(pair.hq.db, attachment_content=True).ok


@pytest.mark.parametrize(
    "limit", [("MAX_RECORDS", 2), ("MAX_ATTACHMENTS", 3), ("MAX_MANIFEST", 3000)]
)
def test_more_than_one_bundle_holds_is_split_across_bundles(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, limit: tuple[str, int]
) -> None:
    """A reader refuses a manifest over its limits, so export must not write one: what
    does not fit waits for the next bundle, and a record's attachments never travel
    ahead of it. (Small limits stand in for 100,000 records, 10,000 attachments and
    16 MiB of manifest, on both sides.)"""
    monkeypatch.setattr(bundle, limit[0], limit[1])
    svc = AttachmentService(pair.field.db)
    for i in range(5):
        rid = pair.add_testimony(f"testimony {i}")
        for j in range(2):
            svc.add_stream(
                rid,
                io.BytesIO(b"scan %d.%d" % (i, j)),
                filename=f"{i}-{j}.jpg",
                description="описание документа " * 6,
            )
    seqs = []
    while (p := export_svc.plan(pair.field.db)) and not p.empty:
        assert len(p.records) <= bundle.MAX_RECORDS
        assert len(p.attachments) <= bundle.MAX_ATTACHMENTS
        res = export_svc.export(pair.field.db, pair.tmp / f"{len(seqs) + 1}.fkb")
        assert res is not None
        seqs.append(res.seq)
        rep = hq_import.import_bundle(pair.hq.db, res.path)  # the reader's limits hold
        assert not rep.missing_before
    assert len(seqs) > 1
    assert len(att_store.all_rows(pair.hq.db)) == 10
    assert pair.hq.db.scalar("SELECT count(*) FROM records") == 5
    assert verify(pair.hq.db, attachment_content=True).ok

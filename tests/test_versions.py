"""Every version the fieldworker saved reaches HQ before purge may remove it (issue 9).

A bundle lists record versions, unique by (record id, version): export sends every
saved version HQ has not acknowledged and no waiting bundle carries, oldest first;
HQ stores each in any order; a receipt covers exactly the (id, version) pairs its
bundle carried, and a record is delivered, so purgeable, only when receipts cover
every saved version and every attachment.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from pathlib import Path

import pytest

from fieldkit.errors import ForkDetected, NotForThisHQ
from fieldkit.formats import bundle
from fieldkit.formats.bundle import MalformedBundle, RecordEntry
from fieldkit.services import delivery, hq_import, identity, purge, receipts
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store.db import Database
from tests import bundle_forge as forge
from tests.bundle_fixtures import Pair
from tests.conftest import PASSPHRASE, cli


def _versions(db: Database, rid: str) -> dict[int, bytes]:
    return {
        int(str(r[0])): bytes(r[1])  # type: ignore[arg-type]
        for r in db.all("SELECT version, doc_hash FROM record_versions WHERE record_id=?", (rid,))
    }


def _carried(pair: Pair, path: Path) -> list[tuple[str, int]]:
    container = forge.decrypt(path.read_bytes(), identity.hq(pair.hq.db).age)
    _mb, m, _sig, _rest = forge.split(container)
    return [(r.id, r.version) for r in m.records]


def test_edit_edit_export_sends_every_version_oldest_first(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    pair.edit(rid, "v2")
    pair.edit(rid, "v3")
    saved = _versions(pair.field.db, rid)
    b1 = pair.export("1.age")
    assert _carried(pair, b1) == [(rid, 1), (rid, 2), (rid, 3)]
    assert pair.state(rid) == delivery.DeliveryState("waiting", 1)
    got = pair.deliver(b1)
    assert (got.delivered, got.superseded, got.pending) == (1, 0, 0)
    assert _versions(pair.hq.db, rid) == saved
    assert RecordService(pair.hq.db).summary(rid).version == 3
    assert pair.state(rid).kind == "delivered"
    assert purge.purge_delivered(pair.field.db).records == 1
    assert export_svc.plan(pair.field.db).empty


def test_export_edit_edit_export_sends_the_versions_in_between(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    b1 = pair.export("1.age")
    pair.edit(rid, "v2")
    pair.edit(rid, "v3")
    b2 = pair.export("2.age")
    assert _carried(pair, b2) == [(rid, 2), (rid, 3)]
    # Bundle 2's receipt covers v2 and v3; v1 waits for bundle 1's.
    got = pair.deliver(b2)
    assert (got.delivered, got.superseded, got.pending) == (0, 0, 1)
    assert pair.state(rid) == delivery.DeliveryState("waiting", 1)
    assert purge.purge_delivered(pair.field.db).kept == {"waiting": 1}
    pair.deliver(b1)
    assert pair.state(rid).kind == "delivered"
    assert _versions(pair.hq.db, rid) == _versions(pair.field.db, rid)
    assert RecordService(pair.hq.db).summary(rid).version == 3  # v1 came last
    assert purge.purge_delivered(pair.field.db).records == 1


def test_a_lost_bundle_with_versions_keeps_them_until_it_is_sent_again(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    pair.edit(rid, "v2")
    b1 = pair.export("1.age")
    b1.unlink()  # the stick was lost
    pair.edit(rid, "v3")
    b2 = pair.export("2.age")
    assert _carried(pair, b2) == [(rid, 3)]  # v1 and v2 wait in bundle 1
    pair.deliver(b2)
    assert pair.state(rid) == delivery.DeliveryState("waiting", 1)
    res = purge.purge_delivered(pair.field.db)
    assert (res.records, res.kept) == (0, {"waiting": 1})
    assert sorted(_versions(pair.field.db, rid)) == [1, 2, 3]
    again = pair.tmp / "1-again.age"
    export_svc.resend(pair.field.db, 1, again)
    pair.deliver(again)
    assert _versions(pair.hq.db, rid) == _versions(pair.field.db, rid)
    assert purge.purge_delivered(pair.field.db).records == 1


def test_receipts_covering_only_some_versions_keep_the_record(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundle, "MAX_RECORDS", 2)  # stands in for a full bundle
    rid = pair.add_testimony("v1")
    pair.edit(rid, "v2")
    pair.edit(rid, "v3")
    p = export_svc.plan(pair.field.db)
    assert (p.records, p.left_records) == ([(rid, 1), (rid, 2)], 1)
    b1 = pair.export("1.age")
    b2 = pair.export("2.age")  # the spill-over: v3
    assert _carried(pair, b2) == [(rid, 3)]
    assert export_svc.plan(pair.field.db).empty
    pair.deliver(b2)  # HQ gets v3 first: its summary follows the highest version
    assert RecordService(pair.hq.db).summary(rid).version == 3
    assert pair.state(rid) == delivery.DeliveryState("waiting", 1)
    assert purge.purge_delivered(pair.field.db).records == 0
    pair.deliver(b1)
    assert RecordService(pair.hq.db).summary(rid).version == 3
    assert _versions(pair.hq.db, rid) == _versions(pair.field.db, rid)
    assert pair.state(rid).kind == "delivered"


def test_a_version_not_yet_in_a_bundle_makes_a_record_changed(pair: Pair) -> None:
    """Delivered until it is edited; then changed, and the CLI says so."""
    rid = pair.add_testimony("v1")
    pair.deliver(pair.export("1.age"))
    assert pair.state(rid).kind == "delivered"
    pair.edit(rid, "v2")
    assert pair.state(rid).kind == "changed"
    pair.field.lock()
    pair.hq.lock()
    pf = pair.tmp / "pass"
    pf.write_text(PASSPHRASE + "\n")
    field = ["--vault", str(pair.tmp / "field"), "--passphrase-file", str(pf)]
    listed = cli(["record", "list", "--json", *field])
    assert listed.code == 0, listed.err
    assert [r["delivery"]["state"] for r in listed.json()] == ["changed"]
    plan = cli(["export", "--dry-run", "--out", str(pair.tmp), "--json", *field])
    assert plan.code == 0, plan.err
    assert (plan.json()["records"], plan.json()["versions"]) == (1, 1)


def test_the_attachments_of_a_record_travel_with_its_versions(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record's new attachments go in the bundle with its last version that fits:
    every bundle that carries an attachment carries a version of its record."""
    monkeypatch.setattr(bundle, "MAX_RECORDS", 2)
    rid = pair.add_testimony("v1", attachment=b"scan")
    pair.edit(rid, "v2")
    pair.edit(rid, "v3")
    b1 = pair.export("1.age")
    b2 = pair.export("2.age")
    assert _carried(pair, b1) == [(rid, 1), (rid, 2)]
    assert _carried(pair, b2) == [(rid, 3)]
    rep = hq_import.import_bundle(pair.hq.db, b2)  # any order: the scan is with v3
    assert (rep.records_new, rep.attachments_new) == (1, 1)
    assert hq_import.import_bundle(pair.hq.db, b1).records_new == 2


# ---- HQ: versions in any order, forks refused ----------------------------------------


def _device_secret(pair: Pair) -> bytes:
    return identity.device(pair.field.db).signing_secret


def _reseal(pair: Pair, container: bytes) -> Path:
    path = pair.tmp / f"forged-{hashlib.sha256(container).hexdigest()[:8]}.age"
    path.write_bytes(forge.encrypt(container, identity.hq(pair.hq.db).age.recipient()))
    return path


def test_hq_stores_versions_listed_in_any_order(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    pair.edit(rid, "v2")
    pair.edit(rid, "v3")
    b1 = pair.export("1.age")
    container = forge.decrypt(b1.read_bytes(), identity.hq(pair.hq.db).age)
    _mb, m, _sig, _rest = forge.split(container)
    sections = forge.sections_of(container)
    order = [2, 0, 1]  # v3, v1, v2: signed by the device, so HQ takes them as they come
    shuffled = forge.build(
        replace(m, records=tuple(m.records[i] for i in order)),
        [sections[i] for i in order],
        _device_secret(pair),
    )
    rep = hq_import.import_bundle(pair.hq.db, _reseal(pair, shuffled))
    assert rep.records_new == 3
    assert _versions(pair.hq.db, rid) == _versions(pair.field.db, rid)
    assert RecordService(pair.hq.db).summary(rid).version == 3
    assert RecordService(pair.hq.db).get(rid).doc["narrative"] == "v3"


def test_a_version_hq_holds_sent_again_with_other_content_is_a_fork(pair: Pair) -> None:
    rid = pair.add_testimony("v1")
    pair.edit(rid, "v2")
    hq_import.import_bundle(pair.hq.db, pair.export("1.age"))
    pair.edit(rid, "v3")
    b2 = pair.export("2.age")
    container = forge.decrypt(b2.read_bytes(), identity.hq(pair.hq.db).age)
    _mb, m, _sig, _rest = forge.split(container)
    v3 = forge.sections_of(container)[0]
    other_v1 = forge.record_doc(v3)
    other_v1["version"] = 1  # a second "version 1" with v3's narrative
    sections = [forge.record_section(other_v1), v3]
    entries = (RecordEntry(rid, 1, 0, bytes(32)), m.records[0])
    forged = forge.build(replace(m, records=entries), sections, _device_secret(pair))
    before = pair.hq_digest()
    with pytest.raises(ForkDetected):
        hq_import.import_bundle(pair.hq.db, _reseal(pair, forged))
    assert pair.hq_digest() == before
    assert hq_import.import_bundle(pair.hq.db, b2).records_new == 1  # the honest one


# ---- the manifest: unique by (id, version), bounded -----------------------------------


def _manifest_with(records: tuple[RecordEntry, ...]) -> bytes:
    m = bundle.Manifest(
        bundle_id=bytes(16),
        device=bytes(32),
        seq=1,
        prev=None,
        created=0,
        recipients=(bytes(32),),
        history_head=bytes(32),
        records=records,
        attachments=(),
    )
    return bundle.encode_manifest(m)


def test_a_manifest_may_list_several_versions_of_a_record() -> None:
    entries = tuple(RecordEntry("rabc", v, 10, bytes(32)) for v in (2, 1, 3))
    assert bundle.decode_manifest(_manifest_with(entries)).records == entries


def test_a_manifest_listing_a_version_twice_is_refused() -> None:
    e = RecordEntry("rabc", 2, 10, bytes(32))
    with pytest.raises(MalformedBundle, match="lists a record version twice"):
        bundle.decode_manifest(_manifest_with((e, replace(e, sha256=bytes([1]) * 32))))


@pytest.mark.parametrize("version", [0, -1, (1 << 31) + 1, (1 << 53), (1 << 64) - 1])
def test_absurd_version_numbers_are_refused(version: int) -> None:
    with pytest.raises(MalformedBundle, match="record version is out of range"):
        bundle.decode_manifest(_manifest_with((RecordEntry("rabc", version, 10, bytes(32)),)))


def _signed_hostile(pair: Pair, change: str) -> Path:
    rid = pair.add_testimony("v1")
    pair.edit(rid, "v2")
    b1 = pair.export("1.age")
    container = forge.decrypt(b1.read_bytes(), identity.hq(pair.hq.db).age)
    _mb, m, _sig, _rest = forge.split(container)
    sections = forge.sections_of(container)
    if change == "same version twice":
        entries, secs = (
            (m.records[0], m.records[0], m.records[1]),
            [
                sections[0],
                sections[0],
                sections[1],
            ],
        )
    elif change == "same version twice, other content":
        other = forge.record_doc(sections[1])
        other["version"] = 1
        entries = (m.records[0], replace(m.records[1], version=1))
        secs = [sections[0], forge.record_section(other)]
    else:
        absurd = (1 << 31) + 1
        doc = forge.record_doc(sections[1])
        doc["version"] = absurd
        entries = (m.records[0], replace(m.records[1], version=absurd))
        secs = [sections[0], forge.record_section(doc)]
    forged = forge.build(replace(m, records=entries), secs, _device_secret(pair))
    return _reseal(pair, forged)


@pytest.mark.parametrize(
    "change", ["same version twice", "same version twice, other content", "absurd version"]
)
def test_a_validly_signed_hostile_version_list_is_refused_with_nothing_written(
    pair: Pair, change: str
) -> None:
    path = _signed_hostile(pair, change)
    before = pair.hq_digest()
    pair.hq.lock()
    pf = pair.tmp / "pass"
    pf.write_text(PASSPHRASE + "\n")
    hq = ["--vault", str(pair.tmp / "hq"), "--passphrase-file", str(pf)]
    r = cli(["hq", "import", str(path), *hq])
    assert r.code == 27, r.err
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 2
    pair.hq = Vault.unlock(pair.tmp / "hq", PASSPHRASE)
    assert pair.hq_digest() == before


def test_a_receipt_for_a_bundle_whose_manifest_purge_emptied_is_refused_cleanly(
    pair: Pair,
) -> None:
    """Bundle 1 carried v1; bundle 2 carried v1 again (with a new attachment) and its
    receipt made the record delivered, so purge removed it and emptied bundle 1's stored
    manifest. Bundle 1's receipt then can no longer be checked against its recipients:
    refused with one clear error (it used to fail as "manifest is not valid msgpack",
    exit 27, a bundle error for a receipt), nothing changed."""
    rid = pair.add_testimony("v1")
    b1 = pair.export("1.age")
    AttachmentService(pair.field.db).add_stream(
        rid, io.BytesIO(b"late scan"), filename="scan.jpg", media_type="image/jpeg"
    )
    pair.deliver(pair.export("2.age"))
    assert purge.purge_delivered(pair.field.db).records == 1
    rdir = pair.tmp / "receipts-late"
    rdir.mkdir()
    rep = hq_import.import_bundle(pair.hq.db, b1, receipts_dir=rdir)
    assert rep.receipt is not None
    with pytest.raises(NotForThisHQ, match="cannot be checked"):
        receipts.import_receipt(pair.field.db, rep.receipt)
    assert pair.field.db.scalar("SELECT receipt_at FROM exports WHERE seq=1") is None

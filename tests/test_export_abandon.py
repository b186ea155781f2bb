"""A bundle that could not be written (a full stick) and whose content can no longer
be produced (an attachment removed since) is abandoned: its items go into the next
bundle, which says so in its signed manifest, and HQ stops waiting for it. The laptop
can always export again; HQ never sees a fork and nothing is lost."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from fieldkit.errors import FileAccessError, InvalidInput, NotFound
from fieldkit.formats import bundle
from fieldkit.services import export as export_svc
from fieldkit.services import hq_import, identity, trust
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.store import attachments as att_store
from tests import bundle_forge as forge
from tests.bundle_fixtures import Pair


def _full_stick(done: int, total: int) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _fail_to_write(pair: Pair, name: str) -> None:
    with pytest.raises(FileAccessError):
        export_svc.export(pair.field.db, pair.tmp / name, progress=_full_stick)
    assert not (pair.tmp / name).exists()


def _manifest(pair: Pair, path: Path) -> bundle.Manifest:
    return forge.split(forge.decrypt(path.read_bytes(), identity.hq(pair.hq.db).age))[1]


def test_export_goes_on_after_an_unwritable_bundle_lost_its_content(pair: Pair) -> None:
    keep = pair.add_testimony("stays", attachment=b"kept photo")
    gone = pair.add_testimony("photo removed", attachment=b"wrong photo")
    _fail_to_write(pair, "1.fkb")
    (wrong,) = att_store.for_record(pair.field.db, gone)
    AttachmentService(pair.field.db).remove(wrong.id)
    with pytest.raises(NotFound, match="can no longer be written") as err:
        export_svc.resend(pair.field.db, 1, pair.tmp / "1-again.fkb")
    assert "fieldkit export" in err.value.hint
    res = export_svc.export(pair.field.db, pair.tmp / "2.fkb")
    assert res is not None and res.seq == 2 and res.abandoned == 1
    assert (res.records, res.attachments) == (2, 1)
    m = _manifest(pair, pair.tmp / "2.fkb")
    assert m.prev_abandoned and m.prev == export_svc.bundle_store.export_by_seq(
        pair.field.db, 1
    ).bundle_hash  # type: ignore[union-attr]
    rep = hq_import.import_bundle(pair.hq.db, pair.tmp / "2.fkb")
    assert rep.records_new == 2 and rep.attachments_new == 1
    assert rep.missing_before == [] and trust.devices(pair.hq.db)[0].missing == []
    assert [a.sha256 for a in att_store.for_record(pair.hq.db, keep)] == [
        a.sha256 for a in att_store.for_record(pair.field.db, keep)
    ]
    # an abandoned bundle stays abandoned; the next export is an ordinary one
    with pytest.raises(NotFound, match="abandoned"):
        export_svc.resend(pair.field.db, 1, pair.tmp / "1-third.fkb")
    pair.add_testimony("later")
    res3 = export_svc.export(pair.field.db, pair.tmp / "3.fkb")
    assert res3 is not None and res3.abandoned is None
    assert not _manifest(pair, pair.tmp / "3.fkb").prev_abandoned


def test_an_unwritten_bundle_that_can_still_be_written_is_never_abandoned(pair: Pair) -> None:
    rid = pair.add_testimony("x", attachment=b"photo")
    _fail_to_write(pair, "1.fkb")
    doc = RecordService(pair.field.db).get(rid).doc
    doc["narrative"] = "edited: the old version is still in the vault"
    RecordService(pair.field.db).edit(rid, doc)
    with pytest.raises(InvalidInput, match="never written"):
        export_svc.export(pair.field.db, pair.tmp / "2.fkb")
    assert export_svc.resend(pair.field.db, 1, pair.tmp / "1.fkb").seq == 1


@pytest.mark.parametrize("order", [(1, 2), (2, 1)])
def test_an_abandoned_bundle_that_reached_hq_after_all_is_no_fork(
    pair: Pair, order: tuple[int, int]
) -> None:
    """Written to the stick, then the laptop could not record it (a crash, its own disk
    full): it counts as unwritten, yet its file may reach HQ. The bundle after it keeps
    the chain through it, so HQ imports both, in either order."""
    rid = pair.add_testimony("r", attachment=b"first photo")
    export_svc.export(pair.field.db, pair.tmp / "1.fkb")
    pair.field.db.execute("UPDATE exports SET written_at=NULL WHERE seq=1")
    (photo,) = att_store.for_record(pair.field.db, rid)
    AttachmentService(pair.field.db).remove(photo.id)
    res = export_svc.export(pair.field.db, pair.tmp / "2.fkb")
    assert res is not None and res.abandoned == 1
    for n in order:
        assert not hq_import.import_bundle(pair.hq.db, pair.tmp / f"{n}.fkb").duplicate
    assert trust.devices(pair.hq.db)[0].missing == []
    assert RecordService(pair.hq.db).get(rid).version == 1


def test_manifest_flag_round_trips_and_is_refused_where_it_cannot_be() -> None:
    m = bundle.Manifest(
        bundle_id=bytes(16),
        device=bytes(32),
        seq=2,
        prev=bytes(32),
        created=0,
        recipients=(bytes(32),),
        history_head=bytes(32),
        records=(bundle.RecordEntry("r1", 1, 10, bytes(32)),),
        attachments=(),
    )
    plain = bundle.encode_manifest(m)
    assert b"prev_abandoned" not in plain  # unchanged bytes for every ordinary bundle
    flagged = bundle.encode_manifest(
        bundle.Manifest(**{**m.__dict__, "prev_abandoned": True})
    )
    assert bundle.decode_manifest(flagged).prev_abandoned
    assert not bundle.decode_manifest(plain).prev_abandoned
    first = bundle.encode_manifest(
        bundle.Manifest(**{**m.__dict__, "seq": 1, "prev": None, "prev_abandoned": True})
    )
    with pytest.raises(bundle.MalformedBundle):
        bundle.decode_manifest(first)
    false = flagged.replace(b"\xaeprev_abandoned\xc3", b"\xaeprev_abandoned\xc2")
    with pytest.raises(bundle.MalformedBundle):
        bundle.decode_manifest(false)

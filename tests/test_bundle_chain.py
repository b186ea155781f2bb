"""A device's chain at HQ: bundles in any order, gaps from stored numbers only, a
bounded jump, and ownership (a device never adds to another device's record), also
against a device whose key was stolen (validly signed bundles of any content)."""

from __future__ import annotations

import io
import os
import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from fieldkit.errors import ForkDetected, OutOfOrder
from fieldkit.formats import bundle
from fieldkit.formats.bundle import MalformedBundle
from fieldkit.services import export as export_svc
from fieldkit.services import hq_import, identity, trust
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store
from tests import bundle_forge as forge
from tests.bundle_fixtures import Pair
from tests.conftest import PASSPHRASE, WEAK, cli


def _export(pair: Pair, name: str) -> Path:
    out = pair.tmp / name
    assert export_svc.export(pair.field.db, out) is not None
    return out


def _attach(pair: Pair, rid: str, data: bytes) -> None:
    AttachmentService(pair.field.db).add_stream(
        rid, io.BytesIO(data), filename="photo.jpg", media_type="image/jpeg"
    )


def _container(pair: Pair, path: Path) -> bytes:
    return forge.decrypt(path.read_bytes(), identity.hq(pair.hq.db).age)


def _seal(pair: Pair, container: bytes, name: str) -> Path:
    out = pair.tmp / name
    out.write_bytes(forge.encrypt(container, identity.hq(pair.hq.db).age.recipient()))
    return out


def _resign(pair: Pair, path: Path, name: str, **changes: object) -> Path:
    """The bundle at `path` with manifest fields changed, signed with the device key."""
    container = _container(pair, path)
    _mb, m, _sig, _rest = forge.split(container)
    rebuilt = forge.build(
        replace(m, **changes),  # type: ignore[arg-type]
        forge.sections_of(container),
        identity.device(pair.field.db).signing_secret,
    )
    return _seal(pair, rebuilt, name)


# ---- out of order -----------------------------------------------------------------


def test_a_new_attachment_imports_before_its_records_bundle(pair: Pair) -> None:
    rid = pair.add_testimony("первый")
    b1 = _export(pair, "bundle-1.fkb")
    blob = os.urandom(5000)
    _attach(pair, rid, blob)
    b2 = _export(pair, "bundle-2.fkb")
    rep2 = hq_import.import_bundle(pair.hq.db, b2)  # arrives first
    assert rep2.attachments_new == 1 and rep2.missing_before == [1]
    rep1 = hq_import.import_bundle(pair.hq.db, b1)
    assert not rep1.duplicate and rep1.missing_before == []
    (att,) = att_store.for_record(pair.hq.db, rid)
    assert att.sha256 == att_store.for_record(pair.field.db, rid)[0].sha256
    assert RecordService(pair.hq.db).get(rid).doc["narrative"] == "первый"


def test_a_new_version_imports_before_the_first(pair: Pair) -> None:
    rs = RecordService(pair.field.db)
    rid = pair.add_testimony("v1")
    b1 = _export(pair, "1.fkb")
    doc = rs.get(rid).doc
    doc["narrative"] = "v2"
    rs.edit(rid, doc)
    b2 = _export(pair, "2.fkb")
    hq_import.import_bundle(pair.hq.db, b2)
    hq_import.import_bundle(pair.hq.db, b1)
    hq = RecordService(pair.hq.db)
    assert hq.get(rid).doc["narrative"] == "v2" and hq.get(rid).version == 2
    assert hq.get(rid, 1).doc["narrative"] == "v1"


def test_every_order_of_a_devices_bundles_imports(pair: Pair, tmp_path: Path) -> None:
    rs = RecordService(pair.field.db)
    rid = pair.add_testimony("a", attachment=b"one")
    paths = [_export(pair, "1.fkb")]
    _attach(pair, rid, b"two")
    paths.append(_export(pair, "2.fkb"))
    doc = rs.get(rid).doc
    doc["narrative"] = "a2"
    rs.edit(rid, doc)
    _attach(pair, rid, b"three")
    paths.append(_export(pair, "3.fkb"))
    _attach(pair, rid, b"four")
    paths.append(_export(pair, "4.fkb"))
    pair.hq.lock()
    want = {a.sha256 for a in att_store.for_record(pair.field.db, rid)}
    for n in range(6):  # copies of the untouched HQ vault, each fed another order
        order = paths[::-1]
        if n:
            random.Random(n).shuffle(order)
        shutil.copytree(pair.tmp / "hq", tmp_path / f"hq{n}")
        hq = Vault.unlock(tmp_path / f"hq{n}", PASSPHRASE)
        for p in order:
            assert not hq_import.import_bundle(hq.db, p).duplicate
        assert {a.sha256 for a in att_store.for_record(hq.db, rid)} == want
        assert RecordService(hq.db).get(rid).version == 2
        assert trust.devices(hq.db)[0].missing == []
        hq.lock()


def test_an_old_style_bundle_says_which_bundle_to_import_first(pair: Pair) -> None:
    """A bundle made before attachments travelled with their record (or forged so):
    an attachment for a record HQ has not received is refused, naming the bundles to
    import first, and imports once they are in."""
    rid = pair.add_testimony("r")
    b1 = _export(pair, "1.fkb")
    _attach(pair, rid, b"late photo")
    b2 = _export(pair, "2.fkb")
    container = _container(pair, b2)
    _mb, m, _sig, _rest = forge.split(container)
    sections = forge.sections_of(container)
    loose = forge.build(
        replace(m, records=()),
        sections[len(m.records) :],
        identity.device(pair.field.db).signing_secret,
    )
    old = _seal(pair, loose, "old-2.fkb")
    before = pair.hq_digest()
    with pytest.raises(OutOfOrder, match="import bundle 1 from this device first"):
        hq_import.import_bundle(pair.hq.db, old)
    assert pair.hq_digest() == before
    hq_import.import_bundle(pair.hq.db, b1)
    assert hq_import.import_bundle(pair.hq.db, old).attachments_new == 1


def test_cli_imports_in_device_and_sequence_order(pair: Pair) -> None:
    rid = pair.add_testimony("r")
    names = []
    for i in range(1, 11):
        _attach(pair, rid, f"photo {i}".encode())
        names.append(str(_export(pair, f"bundle-{i}.fkb")))
    pair.hq.lock()
    pf = pair.tmp / "pass"
    pf.write_text(PASSPHRASE + "\n")
    opts = ["--vault", str(pair.tmp / "hq"), "--passphrase-file", str(pf), "--json"]
    # the shell's order (1, 10, 2, ...), and one file given twice
    r = cli(["hq", "import", *sorted(names), names[0], *opts])
    assert r.code == 0, r.err
    rows = r.json()
    assert [row["seq"] for row in rows] == [1, *range(1, 11)]
    assert [row["duplicate"] for row in rows] == [False, True] + [False] * 9
    assert all(row["missing"] == [] for row in rows)


def test_cli_reports_an_unreadable_file_and_imports_the_rest(pair: Pair) -> None:
    pair.add_testimony("r")
    good = _export(pair, "good.fkb")
    bad = pair.tmp / "bad.fkb"
    bad.write_bytes(b"not a bundle")
    pair.hq.lock()
    pf = pair.tmp / "pass"
    pf.write_text(PASSPHRASE + "\n")
    opts = ["--vault", str(pair.tmp / "hq"), "--passphrase-file", str(pf), "--json"]
    r = cli(["hq", "import", str(bad), str(good), *opts])
    assert r.code == 20
    rows = {row["bundle"]: row for row in r.json()}
    assert rows[str(good)]["ok"] and not rows[str(bad)]["ok"]


# ---- sequence bound ---------------------------------------------------------------


def test_a_huge_sequence_number_is_refused(pair: Pair) -> None:
    pair.add_testimony("r")
    b1 = _export(pair, "1.fkb")
    hq_import.import_bundle(pair.hq.db, b1)
    before = pair.hq_digest()
    huge = _resign(pair, b1, "huge.fkb", seq=bundle.MAX_SEQ, prev=os.urandom(32))
    with pytest.raises(ForkDetected, match="ahead of"):
        hq_import.import_bundle(pair.hq.db, huge)
    assert pair.hq_digest() == before
    assert trust.devices(pair.hq.db)[0].missing == []


def test_a_huge_first_sequence_number_is_refused(pair: Pair) -> None:
    pair.add_testimony("r")
    b1 = _export(pair, "1.fkb")
    huge = _resign(pair, b1, "huge.fkb", seq=bundle.MAX_SEQ, prev=os.urandom(32))
    with pytest.raises(ForkDetected, match="ahead of"):
        hq_import.import_bundle(pair.hq.db, huge)
    pair.hq.lock()
    pf = pair.tmp / "pass"
    pf.write_text(PASSPHRASE + "\n")
    r = cli(["hq", "import", str(huge), "--vault", str(pair.tmp / "hq"), "--passphrase-file",
             str(pf)])
    assert r.code == 28 and "Traceback" not in r.err and "revoke" in r.err


def test_a_jump_up_to_the_bound_imports_and_gaps_are_counted(pair: Pair) -> None:
    pair.add_testimony("r")
    b1 = _export(pair, "1.fkb")
    hq_import.import_bundle(pair.hq.db, b1)
    top = 1 + hq_import.MAX_SEQ_JUMP
    far = _resign(pair, b1, "far.fkb", seq=top, prev=os.urandom(32), bundle_id=os.urandom(16))
    rep = hq_import.import_bundle(pair.hq.db, far)
    assert rep.missing_before == list(range(2, top))
    assert trust.devices(pair.hq.db)[0].missing == list(range(2, top))
    beyond = _resign(
        pair, b1, "beyond.fkb", seq=2 * top, prev=os.urandom(32), bundle_id=os.urandom(16)
    )
    with pytest.raises(ForkDetected, match="ahead of"):
        hq_import.import_bundle(pair.hq.db, beyond)


# ---- ownership, with a stolen key ---------------------------------------------------


@pytest.fixture
def thief(pair: Pair, tmp_path: Path) -> Vault:
    """A second enrolled device whose key is in an attacker's hands."""
    v, _ = Vault.create(tmp_path / "thief", PASSPHRASE, kdf_params=WEAK, name="FW-07")
    trust.trust_hq(v.db, identity.hq(pair.hq.db).card_text())
    trust.enroll(pair.hq.db, identity.device(v.db).card_text())
    yield v
    v.lock()


def _thief_bundle(pair: Pair, thief: Vault, donor: Path, name: str, **changes: object) -> Path:
    """The thief re-signs content of its own shape under its own key."""
    container = _container(pair, donor)
    _mb, m, _sig, _rest = forge.split(container)
    sections = forge.sections_of(container)
    secs = changes.pop("sections", sections)
    m = replace(m, device=identity.device(thief.db).card.fingerprint, seq=1, prev=None)
    built = forge.build(replace(m, **changes), secs, identity.device(thief.db).signing_secret)  # type: ignore[arg-type]
    return _seal(pair, built, name)


def test_a_stolen_key_cannot_add_an_attachment_to_another_devices_record(
    pair: Pair, thief: Vault
) -> None:
    rid = pair.add_testimony("victim's record")
    hq_import.import_bundle(pair.hq.db, _export(pair, "1.fkb"))
    _attach(pair, rid, b"genuine")
    b2 = _export(pair, "2.fkb")  # carries the record again, with its attachment
    _mb, m, _s, _r = forge.split(_container(pair, b2))
    secs = forge.sections_of(_container(pair, b2))
    before = pair.hq_digest()
    # with the record in the bundle
    with_record = _thief_bundle(pair, thief, b2, "t1.fkb", bundle_id=os.urandom(16))
    with pytest.raises(MalformedBundle, match="belongs to another device"):
        hq_import.import_bundle(pair.hq.db, with_record)
    # the attachment alone, for the record HQ holds
    alone = _thief_bundle(
        pair, thief, b2, "t2.fkb", records=(), sections=secs[len(m.records) :],
        bundle_id=os.urandom(16),
    )
    with pytest.raises(MalformedBundle, match="belongs to another device"):
        hq_import.import_bundle(pair.hq.db, alone)
    assert pair.hq_digest() == before


def test_a_stolen_key_cannot_reuse_another_devices_attachment_id(
    pair: Pair, thief: Vault
) -> None:
    pair.add_testimony("victim", attachment=b"victim's photo")
    b1 = _export(pair, "1.fkb")
    hq_import.import_bundle(pair.hq.db, b1)
    # the thief's own record, claiming the victim's attachment (same id and bytes)
    own = RecordService(thief.db).add(
        {"pseudonym": "thief", "consent": {"obtained": True, "method": "oral"}}
    )
    out = pair.tmp / "own.fkb"
    export_svc.export(thief.db, out)
    tc = _container(pair, out)
    _mb, tm, _s, _r = forge.split(tc)
    vc = _container(pair, b1)
    _mb, vm, _s, _r = forge.split(vc)
    att = replace(vm.attachments[0], record=own)
    m = replace(tm, attachments=(att,))
    built = forge.build(
        m,
        [*forge.sections_of(tc), forge.sections_of(vc)[-1]],
        identity.device(thief.db).signing_secret,
    )
    before = pair.hq_digest()
    with pytest.raises(MalformedBundle, match="another record"):
        hq_import.import_bundle(pair.hq.db, _seal(pair, built, "steal.fkb"))
    assert pair.hq_digest() == before

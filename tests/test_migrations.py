"""Vaults made by old releases open, upgrade and keep working.

The fixtures under tests/fixtures/vaults/vN were written by the code of the commit that
introduced schema N (scripts/make_vault_fixtures.py; README.md beside them), not by
today's code pretending to be old. Each test works on a copy.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlcipher3

from fieldkit.errors import CorruptVault, NotConfigured, NotFound
from fieldkit.formats.keyslots import SlotKind
from fieldkit.locations import VaultPaths
from fieldkit.services import delivery, history, hq_import, identity, keyring, model, purge, trust
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.drafts import DraftService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault, _secret, read_keyslots
from fieldkit.store import attachments as att_store
from fieldkit.store import schema
from scripts.make_vault_fixtures import payload
from tests.conftest import PASSPHRASE, cli

FIXTURES = Path(__file__).parent / "fixtures" / "vaults"
VERSIONS = (1, 2, 3, 6)


def _expected(version: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"v{version}" / "expected.json").read_text())
    return data


def _copy(version: int, tmp_path: Path) -> Path:
    dest = tmp_path / f"v{version}"
    shutil.copytree(FIXTURES / f"v{version}", dest)
    for vault in dest.iterdir():
        if vault.is_dir():
            vault.chmod(0o700)
    return dest


def _raw(root: Path) -> Any:
    """A plain SQLCipher connection to a vault's database (no migration runs)."""
    paths = VaultPaths(root)
    slots = read_keyslots(paths)
    slot = slots.slot(SlotKind.PASSPHRASE)
    assert slot is not None
    key = keyring.unwrap(slot, _secret(PASSPHRASE), slots.vault_id)
    conn = sqlcipher3.connect(str(paths.database), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{bytes(key).hex()}'\"")
    conn.execute("PRAGMA cipher_compatibility = 4")
    return conn


def _user_version(root: Path) -> int:
    conn = _raw(root)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_fixture_really_has_that_schema(version: int, tmp_path: Path) -> None:
    root = _copy(version, tmp_path)
    assert _user_version(root / "field") == version
    assert _expected(version)["schema"] == version
    conn = _raw(root / "field")
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        # Attachment bytes still live in SQLite before schema 4 (files beside it since) ...
        chunks = conn.execute("SELECT count(*) FROM attachment_chunks").fetchone()[0]
        # 0 bytes: no chunk; 3,000 bytes: one; 1 MiB + 4,321: three
        assert chunks == (4 if version < 4 else 0)
        keys = _primary_key(conn.execute("PRAGMA table_info(export_items)").fetchall())
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        conn.close()
    # ... and each schema's own tables are there, and no later one's.
    assert ("identity" in tables) == (version >= 2)
    assert ("drafts" in tables) == (version >= 3)
    # Before schema 7 the export log is keyed without the version.
    assert keys == ([] if version < 2 else ["seq", "kind", "item_id"])
    assert "provenance_device" not in indexes  # schema 7's


@pytest.mark.parametrize("version", VERSIONS)
def test_unlock_upgrades_and_keeps_every_record_version_and_attachment(
    version: int, tmp_path: Path
) -> None:
    root = _copy(version, tmp_path)
    exp = _expected(version)["field"]
    with Vault.unlock(root / "field", PASSPHRASE) as v:
        assert v.db.pragma("user_version") == schema.CURRENT_VERSION
        recs = RecordService(v.db)
        assert {s.id for s in recs.list_records()} == set(exp["records"])
        for rid, docs in exp["records"].items():
            assert recs.summary(rid).version == len(docs)
            for n, doc in enumerate(docs, start=1):
                # Read as schema 2; the stored schema-1 bytes are checked by verify below.
                assert recs.get(rid, n).doc == model.upgrade(doc), (rid, n)
                assert recs.get(rid, n).stored_schema == 1
        atts = AttachmentService(v.db)
        # Every attachment left SQLite for its own encrypted file at this unlock.
        assert att_store.legacy_ids(v.db) == []
        for aid, info in exp["attachments"].items():
            data = payload(f"v{version}/{info['name']}", info["size"])
            row = atts.get(aid)
            assert (row.size, row.sha256, row.record_id) == (
                info["size"],
                hashlib.sha256(data).digest(),
                info["record"],
            )
            out = tmp_path / f"{aid}.out"
            atts.extract(aid, out)
            assert out.read_bytes() == data
        with pytest.raises(NotFound):
            atts.get(exp["removed_attachment"])
        report = history.verify(v.db, attachment_content=True)
        assert report.ok, report.problems
        assert report.entries > len(exp["attachments"]) + sum(map(len, exp["records"].values()))
        if version >= 3:
            drafts = {d.id: d.record_id for d in DraftService(v.db).all()}
            assert drafts == exp["drafts"]
    assert _user_version(root / "field") == schema.CURRENT_VERSION


@pytest.mark.parametrize("version", VERSIONS)
def test_recovery_code_of_an_old_vault_still_opens_it(version: int, tmp_path: Path) -> None:
    root = _copy(version, tmp_path)
    code = _expected(version)["field"]["recovery_code"]
    with Vault.unlock_with_recovery_code(root / "field", code) as v:
        assert v.db.pragma("user_version") == schema.CURRENT_VERSION


def test_upgraded_v1_vault_gets_a_device_identity_and_can_export(tmp_path: Path) -> None:
    """Schema 1 had no identities: without one made at upgrade, such a vault could
    never make a card, trust HQ or export (exit 30 forever)."""
    root = _copy(1, tmp_path)
    with Vault.unlock(root / "field", PASSPHRASE) as v:
        me = identity.device(v.db)
        assert me.name == "fieldkit device"
        first = me.card.fingerprint
    with Vault.unlock(root / "field", PASSPHRASE) as v:
        assert identity.device(v.db).card.fingerprint == first  # made once, then kept
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    field = ["--vault", str(root / "field"), "--passphrase-file", str(pf)]
    hq = ["--vault", str(tmp_path / "hq"), "--passphrase-file", str(pf)]
    assert cli(["hq", "init", "--name", "HQ", *hq]).code == 0
    _pair_and_deliver(tmp_path, field, hq, expect_seq=1)
    with Vault.unlock(tmp_path / "hq", PASSPHRASE) as h:
        _hq_holds(h, 1, _expected(1)["field"])


def test_a_vault_that_made_bundles_never_gets_a_new_identity(tmp_path: Path) -> None:
    """A missing identity on a vault that has signed bundles is damage, not an old
    schema: making a new key would start a second chain HQ does not know."""
    root = _copy(2, tmp_path) / "field"
    conn = _raw(root)
    conn.execute("DELETE FROM identity")
    conn.close()
    with Vault.unlock(root, PASSPHRASE) as v:
        with pytest.raises(NotConfigured):
            identity.device(v.db)


@pytest.mark.parametrize("version", (2, 3, 6))
def test_upgraded_field_and_hq_vaults_continue_their_chain(version: int, tmp_path: Path) -> None:
    """Bundle 1 went from the old field vault to the old HQ, with a receipt back; after
    both upgrade, the change made since delivery goes out as bundle 2 and links on."""
    root = _copy(version, tmp_path)
    exp = _expected(version)
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    field = ["--vault", str(root / "field"), "--passphrase-file", str(pf)]
    hq = ["--vault", str(root / "hq"), "--passphrase-file", str(pf)]
    before = cli(["hq", "devices", "--json", *hq]).json()
    seq = exp["field"]["exported_seq"]
    assert [d["last_seq"] for d in before] == [seq]
    bundle = tmp_path / "bundle-2.fkb"
    # Records from before schema 2 never recorded consent: exported as confirmed.
    ex = cli(["export", "--out", str(bundle), "--include-without-consent", "--json", *field])
    assert ex.code == 0, ex.err
    assert ex.json()["seq"] == seq + 1
    rdir = tmp_path / "receipts"
    rdir.mkdir()
    imp = cli(["hq", "import", str(bundle), "--receipts", str(rdir), "--json", *hq])
    assert imp.code == 0, imp.err
    assert imp.json()[0]["missing"] == []
    after = cli(["hq", "devices", "--json", *hq]).json()
    assert [d["last_seq"] for d in after] == [seq + 1]
    receipt = next(rdir.iterdir())
    assert cli(["receipt", "import", str(receipt), *field]).code == 0
    with Vault.unlock(root / "hq", PASSPHRASE) as h:
        _hq_holds(h, version, exp["field"])
    assert cli(["history", "verify", "--attachments", *field]).code == 0


def test_schema_6_versions_never_sent_are_owed_after_the_upgrade(tmp_path: Path) -> None:
    """Schema 6 sent only each record's current version, and its receipts made a record
    'delivered' with versions HQ never had. After schema 7 such a record is 'changed':
    purge keeps it, and the next export carries exactly the versions never sent."""
    root = _copy(6, tmp_path)
    exp = _expected(6)["field"]
    ((rid, never_sent),) = exp["never_sent"].items()
    with Vault.unlock(root / "field", PASSPHRASE) as v:
        assert _primary_key(v.db.all("PRAGMA table_info(export_items)")) == [
            "seq",
            "kind",
            "item_id",
            "version",
        ]
        assert v.db.scalar("SELECT count(*) FROM export_items") > 0  # rows kept
        summary = RecordService(v.db).summary(rid)
        assert delivery.state_of(v.db, summary).kind == "changed"
        # The other record is delivered, but has an unsaved editor draft (the fixture's).
        assert purge.purge_delivered(v.db).kept == {"changed": 1, "draft": 1}
        assert RecordService(v.db).summary(rid).version == len(exp["records"][rid])
        # Schema 1 never recorded consent: held back until the fieldworker confirms.
        held = export_svc.plan(v.db)
        assert held.records == [] and [h.id for h in held.held] == [rid]
        plan = export_svc.plan(v.db, include_without_consent=True)
        assert plan.records == [(rid, n) for n in never_sent]
        bundle = tmp_path / "bundle-3.fkb"
        res = export_svc.export(v.db, bundle, include_without_consent=True)
        assert res is not None and (res.seq, res.records, res.versions) == (3, 1, 2)
    with Vault.unlock(root / "hq", PASSPHRASE) as h:
        assert not _versions_held(h, rid) & set(never_sent)
        hq_import.import_bundle(h.db, bundle)
        assert _versions_held(h, rid) == set(range(1, len(exp["records"][rid]) + 1))
        assert RecordService(h.db).get(rid).doc == model.upgrade(exp["records"][rid][-1])
        assert history.verify(h.db).ok


def _primary_key(table_info: list[Any]) -> list[str]:
    """The primary key's columns, in key order, from PRAGMA table_info rows."""
    return [str(r[1]) for r in sorted(table_info, key=lambda r: int(r[5])) if int(r[5])]


def _versions_held(h: Vault, rid: str) -> set[int]:
    rows = h.db.all("SELECT version FROM record_versions WHERE record_id=?", (rid,))
    return {int(str(r[0])) for r in rows}


def test_previous_hq_schema_gets_the_device_index_and_filters_by_device(tmp_path: Path) -> None:
    """Schema 7 adds the provenance index the testimony view's device filter uses; an HQ
    vault of schema 6 gets it at unlock and its records are found by device."""
    root = _copy(6, tmp_path) / "hq"
    assert _user_version(root) == 6
    with Vault.unlock(root, PASSPHRASE) as h:
        assert h.db.pragma("user_version") == schema.CURRENT_VERSION == 7
        indexes = {str(r[0]) for r in h.db.all("SELECT name FROM sqlite_master")}
        assert "provenance_device" in indexes
        plan = " ".join(
            str(r[-1])
            for r in h.db.all(
                "EXPLAIN QUERY PLAN SELECT item_id FROM provenance"
                " WHERE device = ? AND kind = 'record'",
                (b"x",),
            )
        )
        assert "provenance_device" in plan
        assert "records_device_updated" in indexes
        assert h.db.scalar("SELECT count(*) FROM records WHERE device IS NULL") == 0  # backfilled
        (device,) = trust.devices(h.db)
        held = set(_expected(6)["hq"]["records"])
        recs = RecordService(h.db)
        assert {s.id for s in recs.list_records(device=device.fingerprint)} == held
        assert recs.list_records(device=bytes(32)) == []
        assert history.verify(h.db).ok
    assert _user_version(root) == 7


def _pair_and_deliver(tmp_path: Path, field: list[str], hq: list[str], *, expect_seq: int) -> None:
    hq_card, dev_card = tmp_path / "hq.card", tmp_path / "dev.card"
    h = cli(["hq", "card", "--out", str(hq_card), "--json", *hq])
    assert h.code == 0, h.err
    r = cli(["card", "--out", str(dev_card), "--json", *field])
    assert r.code == 0, r.err
    trust = ["trust", str(hq_card), "--fingerprint", h.json()["fingerprint"], *field]
    assert cli(trust).code == 0
    enrol = ["hq", "enroll", str(dev_card), "--fingerprint", r.json()["fingerprint"], *hq]
    assert cli(enrol).code == 0
    bundle = tmp_path / "bundle.fkb"
    ex = cli(["export", "--out", str(bundle), "--include-without-consent", "--json", *field])
    assert ex.code == 0, ex.err
    assert ex.json()["seq"] == expect_seq
    rdir = tmp_path / "receipts"
    rdir.mkdir()
    imp = cli(["hq", "import", str(bundle), "--receipts", str(rdir), *hq])
    assert imp.code == 0, imp.err
    rr = cli(["receipt", "import", str(next(rdir.iterdir())), "--json", *field])
    assert rr.code == 0, rr.err


def _hq_holds(h: Vault, version: int, exp: dict[str, Any]) -> None:
    """HQ has every record at its latest version and every attachment, byte-exact."""
    recs = RecordService(h.db)
    for rid, docs in exp["records"].items():
        assert recs.get(rid).doc == model.upgrade(docs[-1])
    atts = AttachmentService(h.db)
    for aid, info in exp["attachments"].items():
        data = payload(f"v{version}/{info['name']}", info["size"])
        assert atts.get(aid).sha256 == hashlib.sha256(data).digest()
    assert trust.devices(h.db)
    assert history.verify(h.db, attachment_content=True).ok


@pytest.mark.parametrize("version", VERSIONS)
def test_newer_schema_is_refused_and_nothing_is_touched(version: int, tmp_path: Path) -> None:
    root = _copy(version, tmp_path) / "field"
    conn = _raw(root)
    conn.execute(f"PRAGMA user_version = {schema.CURRENT_VERSION + 1}")
    conn.close()
    before = _digest_tree(root)
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    r = cli(["record", "list", "--vault", str(root), "--passphrase-file", str(pf)])
    assert r.code == 8, r.err
    assert "newer than this fieldkit" in r.err and "Traceback" not in r.err
    with pytest.raises(CorruptVault):
        Vault.unlock(root, PASSPHRASE)
    assert _digest_tree(root) == before


@pytest.mark.parametrize("damage", ["empty", "blank", "header", "truncated"])
def test_a_database_that_does_not_decode_is_never_reinitialised(
    damage: str, tmp_path: Path
) -> None:
    root = _copy(3, tmp_path) / "field"
    db = VaultPaths(root).database
    data = db.read_bytes()
    if damage == "empty":
        db.write_bytes(b"")
    elif damage == "blank":  # opens with the right key, but holds no schema
        db.unlink()
        conn = _raw(root)
        conn.execute("PRAGMA journal_mode = WAL").fetchall()
        conn.execute("CREATE TABLE t (a)")
        conn.execute("DROP TABLE t")
        conn.close()
    elif damage == "header":
        db.write_bytes(data[:16] + bytes(4096 - 16) + data[4096:])
    else:
        db.write_bytes(data[: 4096 * 3])
    before = _digest_tree(root)
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    r = cli(["record", "list", "--vault", str(root), "--passphrase-file", str(pf)])
    assert r.code == 8, r.err
    assert _digest_tree(root) == before

"""The custody log end to end: written with each action, verified at the vault, in a
report, and by the standalone verifier in a fresh process; tampering of every kind is
found; hostile text is shown literally; a v7 vault is backfilled honestly."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fieldkit import custody_verify
from fieldkit.formats import custody as fmt
from fieldkit.services import custody, erase, extraction, hq_import, purge, receipts
from fieldkit.services import export as export_svc
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests.bundle_fixtures import Pair, make_pair
from tests.conftest import PASSPHRASE, cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "vaults"


def _events(db: Any, kind: str, item_id: str, version: int = 0) -> list[str]:
    return [
        str(r[0])
        for r in db.all(
            "SELECT event FROM custody WHERE kind=? AND item_id=? AND version=? ORDER BY seq",
            (kind, item_id, version),
        )
    ]


@pytest.fixture
def delivered(tmp_path: Path) -> Any:
    """A record with two versions and a photo: exported, imported at HQ, receipted,
    extracted at HQ with a reason, purged on the laptop."""
    pair = make_pair(tmp_path)
    rid = pair.add_testimony("testimony", attachment=b"\xff\xd8 photo bytes")
    recs = RecordService(pair.field.db)
    doc = recs.get(rid).doc
    doc["narrative"] = "corrected"
    recs.edit(rid, doc)
    aid = str(pair.field.db.scalar("SELECT id FROM attachments"))
    export_svc.export(pair.field.db, tmp_path / "1.age")
    rdir = tmp_path / "receipts"
    rdir.mkdir()
    rep = hq_import.import_bundle(pair.hq.db, tmp_path / "1.age", receipts_dir=rdir)
    assert rep.receipt is not None
    receipts.import_receipt(pair.field.db, Path(rep.receipt))
    extraction.extract(
        pair.hq.db, aid, tmp_path / "copy.jpg", "legal team, appeal", original=True
    )
    purge.purge_delivered(pair.field.db)
    yield pair, rid, aid
    for v in (pair.field, pair.hq):
        if not v.is_locked:
            v.lock()


def test_each_action_writes_its_entry(delivered: Any) -> None:
    pair, rid, aid = delivered
    assert _events(pair.field.db, "record_version", rid, 1) == [
        "capture",
        "export",
        "receipt",
        "purge",
    ]
    assert _events(pair.field.db, "record_version", rid, 2) == [
        "edit",
        "export",
        "receipt",
        "purge",
    ]
    assert _events(pair.field.db, "attachment", aid) == ["capture", "export", "receipt", "purge"]
    assert _events(pair.hq.db, "attachment", aid)[-1] == "extraction"
    assert _events(pair.hq.db, "record_version", rid, 2)[-1] == "hq_import"
    for db in (pair.field.db, pair.hq.db):
        check = custody.verify_vault(db)
        assert check.ok, check.problems


def test_an_edit_names_the_previous_versions_hash(delivered: Any) -> None:
    pair, rid, _aid = delivered
    rows = pair.hq.db.all("SELECT version, doc FROM record_versions WHERE record_id=?", (rid,))
    docs = {int(v): bytes(d) for v, d in rows}
    body = pair.field.db.scalar(
        "SELECT body FROM custody WHERE item_id=? AND version=2 AND seq=1", (rid,)
    )
    entry = fmt.decode_body(bytes(body))
    import hashlib

    assert entry.details["parent_sha256"] == hashlib.sha256(docs[1]).digest()
    assert entry.item.sha256 == hashlib.sha256(docs[2]).digest()


def test_receipt_entry_names_the_bundle_and_hq(delivered: Any) -> None:
    pair, rid, _aid = delivered
    body = pair.field.db.scalar(
        "SELECT body FROM custody WHERE item_id=? AND version=1 AND event='receipt'", (rid,)
    )
    entry = fmt.decode_body(bytes(body))
    export = pair.field.db.one("SELECT seq, bundle_hash FROM exports")
    assert entry.details["bundle_seq"] == export[0]
    assert entry.details["bundle_hash"] == bytes(export[1])
    from fieldkit.services import identity

    assert entry.details["hq"] == identity.hq(pair.hq.db).card.fingerprint


# ---- tampering, at the vault -------------------------------------------------------


def _tamper(db: Any, how: str, aid: str) -> None:
    rows = db.all(
        "SELECT seq, body, signature, entry_hash FROM custody WHERE kind='attachment'"
        " AND item_id=? ORDER BY seq",
        (aid,),
    )
    assert len(rows) >= 2
    with db.transaction():
        if how == "tampered":
            body = bytes(rows[0][1]).replace(b'"size":', b'"size":1')
            db.execute("UPDATE custody SET body=? WHERE item_id=? AND seq=1", (body, aid))
        elif how == "reordered":
            db.execute("UPDATE custody SET seq=seq+1000 WHERE item_id=?", (aid,))
            db.execute("UPDATE custody SET seq=2 WHERE item_id=? AND seq=1001", (aid,))
            db.execute("UPDATE custody SET seq=1 WHERE item_id=? AND seq=1002", (aid,))
            db.execute("UPDATE custody SET seq=seq-1000 WHERE item_id=? AND seq>1000", (aid,))
        elif how == "deleted":
            db.execute("DELETE FROM custody WHERE item_id=? AND seq=1", (aid,))
        elif how == "inserted":
            # A validly signed entry, from this very vault's key, slipped into the middle.
            db.execute("UPDATE custody SET seq=seq+1000 WHERE item_id=? AND seq>=2", (aid,))
            db.execute(
                "INSERT INTO custody SELECT kind, item_id, version, 2, event, body, signature,"
                " entry_hash FROM custody WHERE item_id=? AND seq=1",
                (aid,),
            )
            db.execute("UPDATE custody SET seq=seq-999 WHERE item_id=? AND seq>1000", (aid,))
        elif how == "resigned":
            # Rewritten and re-signed by another key: the signature is valid, the key is not known.
            from fieldkit.crypto import signing
            from fieldkit.crypto.labels import CUSTODY_ENTRY

            secret = bytes(32)
            entry = fmt.decode_body(bytes(rows[0][1]))
            import dataclasses

            forged = dataclasses.replace(
                entry, actor=fmt.Actor(entry.actor.fingerprint, signing.public_key(secret))
            )
            body = fmt.encode_body(forged)
            sig = signing.sign(secret, CUSTODY_ENTRY, [body])
            db.execute(
                "UPDATE custody SET body=?, signature=?, entry_hash=? WHERE item_id=? AND seq=1",
                (body, sig, fmt.entry_hash(body, sig), aid),
            )


HOWS = ("tampered", "reordered", "deleted", "inserted", "resigned")


@pytest.mark.parametrize("how", HOWS)
def test_tampering_is_found_by_vault_verify(delivered: Any, how: str) -> None:
    pair, _rid, aid = delivered
    _tamper(pair.field.db, how, aid)
    check = custody.verify_vault(pair.field.db)
    assert not check.ok
    assert any(aid in p for p in check.problems), check.problems


def test_a_chain_deleted_whole_is_found(delivered: Any) -> None:
    pair, _rid, aid = delivered
    with pair.hq.db.transaction():
        pair.hq.db.execute("DELETE FROM custody WHERE item_id=?", (aid,))
    check = custody.verify_vault(pair.hq.db)
    assert check.problems == [f"attachment {aid} has no custody chain"]


def test_cli_verify_exit_codes(delivered: Any, tmp_path: Path) -> None:
    pair, _rid, aid = delivered
    pair.field.lock()
    pair.hq.lock()
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    hq = ["--vault", str(tmp_path / "hq"), "--passphrase-file", str(pf)]
    field = ["--vault", str(tmp_path / "field"), "--passphrase-file", str(pf)]
    ok = cli(["hq", "custody", "verify", "--json", *hq])
    assert ok.code == 0 and ok.json()["ok"] is True, ok.err
    assert cli(["custody", "verify", *field]).code == 0
    # The laptop's command on the HQ vault, and the other way round, are refused.
    assert cli(["custody", "verify", *hq]).code != 0
    assert cli(["hq", "custody", "verify", *field]).code != 0
    v = Vault.unlock(tmp_path / "field", PASSPHRASE)
    try:
        _tamper(v.db, "tampered", aid)
    finally:
        v.lock()
    bad = cli(["custody", "verify", *field])
    assert bad.code == 10
    assert "does not verify" in bad.err and aid in bad.err
    assert cli(["custody", aid[:8], *field]).code == 10


# ---- the report, in a fresh process, from the JSON alone ---------------------------


def _report(tmp_path: Path, item: str) -> Path:
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    hq = ["--vault", str(tmp_path / "hq"), "--passphrase-file", str(pf)]
    r = cli(["hq", "custody", item, "--json", *hq])
    assert r.code == 0, r.err
    out = tmp_path / "report.json"
    out.write_text(r.out, encoding="utf-8")
    return out


def _fresh_verify(report: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """A new interpreter that may import only the standard library and cryptography."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['custody_verify', {str(report)!r}, *{list(extra)!r}]\n"
        "try:\n"
        "    runpy.run_module('fieldkit.custody_verify', run_name='__main__')\n"
        "finally:\n"
        "    bad = sorted(m for m in sys.modules if m.startswith('fieldkit.') and m != "
        "'fieldkit.custody_verify' or m in ('msgpack', 'sqlcipher3', 'textual'))\n"
        "    print('IMPORTED:' + ','.join(bad))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )


def test_report_verifies_in_a_fresh_process_from_the_json_alone(
    delivered: Any, tmp_path: Path
) -> None:
    pair, _rid, aid = delivered
    pair.hq.lock()
    report = _report(tmp_path, aid)
    # A second machine: only the JSON, copied elsewhere; the vaults are not there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(report, elsewhere / "report.json")
    shutil.copy(tmp_path / "copy.jpg", elsewhere / "copy.jpg")
    shutil.rmtree(tmp_path / "hq")
    r = _fresh_verify(elsewhere / "report.json", "--file", str(elsewhere / "copy.jpg"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "VERIFIED" in r.stdout and "its SHA-256 is the item's hash" in r.stdout
    assert r.stdout.strip().endswith("IMPORTED:")  # nothing of fieldkit's core was needed


def _entries(report: dict[str, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = report["chains"][0]["entries"]
    return entries


def _tamper_json(report: dict[str, Any], how: str) -> None:
    e = _entries(report)
    if how == "tampered":
        e[0]["body"] = e[0]["body"].replace('"time":"2', '"time":"1')  # backdated
    elif how == "reordered":
        e[0], e[1] = e[1], e[0]
    elif how == "deleted":
        del e[0]
    elif how == "inserted":
        e.insert(1, dict(e[0]))
    elif how == "resigned":
        report["keys"][0]["signing_key"] = "00" * 32


@pytest.mark.parametrize("how", HOWS)
def test_tampered_report_is_refused_by_the_standalone_verifier(
    delivered: Any, tmp_path: Path, how: str
) -> None:
    pair, _rid, aid = delivered
    pair.hq.lock()
    path = _report(tmp_path, aid)
    report = json.loads(path.read_text(encoding="utf-8"))
    assert custody_verify.verify(report, [])[1] == []
    _tamper_json(report, how)
    _lines, problems = custody_verify.verify(report, [])
    assert problems
    path.write_text(json.dumps(report), encoding="utf-8")
    r = _fresh_verify(path)
    assert r.returncode == 1 and "NOT VERIFIED" in r.stdout


def test_a_file_that_is_not_the_item_is_refused(delivered: Any, tmp_path: Path) -> None:
    pair, _rid, aid = delivered
    pair.hq.lock()
    path = _report(tmp_path, aid)
    other = tmp_path / "other.jpg"
    other.write_bytes(b"another photo")
    r = _fresh_verify(path, "--file", str(other))
    assert r.returncode == 1 and "not the hash of any item" in r.stdout


def test_unreadable_report_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert _fresh_verify(bad).returncode == 2


# ---- literal text --------------------------------------------------------------------

HOSTILE = "appeal \x1b]52;c;SGVsbG8=\x07 \u202egpj.exe [bold red]x[/] \u0007"


def test_hostile_reason_is_refused_or_shown_literally(delivered: Any, tmp_path: Path) -> None:
    pair, _rid, aid = delivered
    # Control characters are refused outright (the reason is kept on one line) ...
    with pytest.raises(Exception, match="control character"):
        extraction.extract(pair.hq.db, aid, tmp_path / "x.jpg", HOSTILE, original=True)
    # ... and what may be stored (bidi controls, markup) is shown as written, escaped.
    reason = "appeal \u202egpj.exe [bold red]x[/] <script>"
    extraction.extract(pair.hq.db, aid, tmp_path / "y.jpg", reason, original=True)
    pair.hq.lock()
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    r = cli(["hq", "custody", aid, "--vault", str(tmp_path / "hq"), "--passphrase-file", str(pf)])
    assert r.code == 0, r.err
    assert "reason: appeal \\u202egpj.exe [bold red]x[/] <script>" in r.out
    assert "\u202e" not in r.out and "\x1b" not in r.out
    path = _report(tmp_path, aid)
    out = _fresh_verify(path)
    assert out.returncode == 0 and "\u202e" not in out.stdout


# ---- other lifecycle rules ---------------------------------------------------------------


def test_a_deleted_record_leaves_no_custody_entries(pair: Pair) -> None:
    rid = pair.add_testimony("to delete", attachment=b"x")
    assert pair.field.db.scalar("SELECT count(*) FROM custody") == 2
    erase.delete_record(pair.field.db, rid)
    assert pair.field.db.scalar("SELECT count(*) FROM custody") == 0
    assert custody.verify_vault(pair.field.db).ok


def test_prefix_and_version_lookup(delivered: Any) -> None:
    pair, rid, aid = delivered
    assert custody.resolve(pair.hq.db, rid[:6]) == [
        ("record_version", rid, 1),
        ("record_version", rid, 2),
    ]
    assert custody.resolve(pair.hq.db, f"{rid[:7]}@2") == [("record_version", rid, 2)]
    assert custody.resolve(pair.hq.db, aid) == [("attachment", aid, 0)]
    for bad in (rid[:5], f"{rid}@9", f"{aid}@1", f"{rid}@x", "zzzzzzzz"):
        with pytest.raises(Exception):  # noqa: B017 (each is a FieldkitError with a hint)
            custody.resolve(pair.hq.db, bad)


def test_v7_vault_is_backfilled_at_the_upgrade_time(tmp_path: Path) -> None:
    dest = tmp_path / "v7"
    shutil.copytree(FIXTURES / "v7", dest)
    for vault in dest.iterdir():
        if vault.is_dir():
            vault.chmod(0o700)
    for name, first_event in (("field", "capture"), ("hq", "hq_import")):
        with Vault.unlock(dest / name, PASSPHRASE) as v:
            upgraded = v.db.scalar("SELECT value FROM meta WHERE key='custody_backfill_at'")
            held = int(v.db.scalar("SELECT count(*) FROM record_versions"))
            held += int(v.db.scalar("SELECT count(*) FROM attachments"))
            assert held > 0
            bodies = [bytes(r[0]) for r in v.db.all("SELECT body FROM custody")]
            assert len(bodies) == held
            for body in bodies:
                e = fmt.decode_body(body)
                assert e.event == first_event and e.details["backfilled"] is True
                assert e.time == upgraded  # the upgrade's time, not a made-up capture time
            assert custody.verify_vault(v.db).ok
        with Vault.unlock(dest / name, PASSPHRASE) as v:  # a second unlock adds nothing
            assert v.db.scalar("SELECT count(*) FROM custody") == held


def test_analyst_export_logs_each_version_with_the_exports_hash(
    delivered: Any, tmp_path: Path
) -> None:
    import hashlib

    from fieldkit.formats.canonical import canonical_json
    from fieldkit.services import analysis_export

    pair, rid, _aid = delivered
    res = analysis_export.export(pair.hq.db, tmp_path / "out.jsonl")
    assert res.records == 1 and res.custody_sha256 is not None
    rows = pair.hq.db.all(
        "SELECT version, body FROM custody WHERE item_id=? AND event='analyst_export'", (rid,)
    )
    assert [int(r[0]) for r in rows] == [2]  # the version exported: the current one
    entry = fmt.decode_body(bytes(rows[0][1]))
    listed = [[rid, 2, entry.item.sha256.hex()]]
    assert entry.details == {
        "export_sha256": hashlib.sha256(canonical_json(listed)).digest(),
        "records": 1,
    }
    assert entry.details["export_sha256"] == res.custody_sha256
    assert custody.verify_vault(pair.hq.db).ok

"""The whole round trip through the CLI: field, then HQ, then receipt, then purge."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fieldkit.formats import bundle
from fieldkit.services import model
from tests.bundle_fixtures import make_pair
from tests.conftest import PASSPHRASE, cli


def _opts(vault: Path, pf: Path) -> list[str]:
    return ["--vault", str(vault), "--passphrase-file", str(pf)]


def test_field_hq_receipt_purge(tmp_path: Path) -> None:
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    field = _opts(tmp_path / "field", pf)
    hq = _opts(tmp_path / "hq", pf)
    assert cli(["init", "--name", "FW-03 laptop", *field]).code == 0
    r = cli(["hq", "init", "--name", "HQ Almaty", "--json", *hq])
    assert r.code == 0, r.err
    hq_code = r.json()["fingerprint"]

    assert cli(["hq", "card", "--out", str(tmp_path / "hq.card"), *hq]).code == 0
    assert cli(["card", "--out", str(tmp_path / "dev.card"), *field]).code == 0
    # Confirmation is required: no TTY and no --yes is refused, nothing trusted.
    no = cli(["trust", str(tmp_path / "hq.card"), *field])
    assert no.code == 2 and hq_code in no.err
    hq_card = str(tmp_path / "hq.card")
    assert cli(["trust", hq_card, "--fingerprint", hq_code, "--yes", *field]).code == 0
    dev_code = cli(["hq", "enroll", str(tmp_path / "dev.card"), *hq]).err.split("Fingerprint: ")[1]
    enrol = ["hq", "enroll", str(tmp_path / "dev.card"), "--fingerprint", dev_code[:24], *hq]
    assert cli(enrol).code == 0

    doc = model.template()
    doc["narrative"] = "Рассказ о задержании; Қодир"
    doc["persons"][0]["sensitive"]["real_name"] = "Real Name Here"
    rid = cli(["record", "add", "--json", "-", *field], stdin=json.dumps(doc)).out.strip()
    photo = tmp_path / "order.jpg"
    photo.write_bytes(b"\xff\xd8" + bytes(300_000))
    assert cli(["attach", rid, str(photo), *field]).code == 0

    dry = cli(["export", "--out", str(tmp_path / "x"), "--dry-run", "--json", *field])
    assert dry.json()["records"] == 1 and dry.json()["attachments"] == 1
    bundle = tmp_path / "usb" / "bundle-1.fkb"
    bundle.parent.mkdir()
    ex = cli(["export", "--out", str(bundle), "--json", *field])
    assert ex.code == 0, ex.err
    assert ex.json()["seq"] == 1 and bundle.exists()
    none = cli(["export", "--out", str(tmp_path / "b2"), *field])
    assert none.code == 0 and "Nothing to export" in none.out

    outside = cli(["inspect", str(bundle), "--json"])
    assert outside.json()["types"] == ["mlkem768x25519"] and "records" not in outside.json()

    rdir = tmp_path / "receipts"
    rdir.mkdir()
    imp = cli(["hq", "import", str(bundle), "--receipts", str(rdir), "--json", *hq])
    assert imp.code == 0, imp.err
    assert imp.json()[0]["records_new"] == 1 and imp.json()[0]["attachments_new"] == 1
    again = cli(["hq", "import", str(bundle), *hq])
    assert again.code == 0 and "already imported" in again.out

    ident = tmp_path / "hq-identity.txt"
    ei = cli(["hq", "export-identity", "--out", str(ident), *hq])
    assert ei.code == 0 and "WARNING" in ei.err
    assert (ident.stat().st_mode & 0o777) == 0o600
    deep = cli(["inspect", str(bundle), "--identity", str(ident), "--json"])
    assert deep.json()["records"] == 1 and deep.json()["problems"] == [
        "the signer is not an enrolled device of this HQ"
    ]
    with_vault = cli(["inspect", str(bundle), "--with-vault", "--json", *hq])
    assert with_vault.code == 0 and with_vault.json()["verified"] is True

    found = cli(["search", "кодир", "--json", *hq])
    assert [r["id"] for r in found.json()] == [rid]

    out = tmp_path / "analysis.jsonl"
    assert cli(["hq", "export", "--out", str(out), "--omit-sensitive", *hq]).code == 0
    line = json.loads(out.read_text().splitlines()[0])
    assert "sensitive" not in line["record"]["persons"][0]
    csv_out = tmp_path / "analysis.csv"
    assert cli(["hq", "export", "--format", "csv", "--out", str(csv_out), *hq]).code == 0
    rows = list(csv.DictReader(csv_out.open()))
    assert {r["incident_type"] for r in rows} == {"arbitrary_detention", "family_pressure"}
    named = cli(
        ["hq", "export", "--scope", "named", "--out", str(tmp_path / "n.jsonl"), "--json", *hq]
    )
    assert named.json() == {
        "path": str(tmp_path / "n.jsonl"),
        "records": 0,
        "withheld": 1,
        "custody_sha256": None,
    }

    devs = cli(["hq", "devices", "--json", *hq]).json()
    assert devs[0]["name"] == "FW-03 laptop" and devs[0]["last_seq"] == 1

    receipt = next(rdir.iterdir())
    rr = cli(["receipt", "import", str(receipt), "--json", *field])
    assert rr.code == 0 and rr.json()["delivered"] == 1
    shown = cli(["record", "show", rid, "--json", *field]).json()
    assert shown["delivery"]["state"] == "delivered"
    pu = cli(["purge", "--delivered", "--yes", "--json", *field])
    assert pu.json() == {"records": 1, "attachments": 1, "kept": {}}
    assert cli(["record", "list", "--json", *field]).json() == []
    assert cli(["history", "verify", *field]).code == 0

    # Revocation: a later bundle from the device is refused.
    cli(["record", "add", "--json", "-", *field], stdin=json.dumps(model.template()))
    b2 = tmp_path / "usb" / "bundle-2.fkb"
    assert cli(["export", "--out", str(b2), *field]).code == 0
    assert cli(["hq", "revoke", devs[0]["fingerprint"][:6], *hq]).code == 0
    refused = cli(["hq", "import", str(b2), *hq])
    assert refused.code == 25 and "revoked" in refused.err
    assert "Traceback" not in refused.err


def test_hq_commands_refuse_a_field_vault(tmp_path: Path) -> None:
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    field = _opts(tmp_path / "field", pf)
    cli(["init", *field])
    r = cli(["hq", "devices", *field])
    assert r.code == 31 and "field vault" in r.err
    r2 = cli(["export", "--out", str(tmp_path / "b"), *field])
    assert r2.code == 0  # nothing to export yet
    cli(["record", "add", "--json", "-", *field], stdin=json.dumps(model.template()))
    r3 = cli(["export", "--out", str(tmp_path / "b"), *field])
    assert r3.code == 30 and "trust" in r3.err


def test_export_says_what_did_not_fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundle, "MAX_RECORDS", 2)  # stands in for 100,000
    pair = make_pair(tmp_path)
    for i in range(3):
        pair.add_testimony(f"testimony {i}")
    pair.field.lock()
    pair.hq.lock()
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    field = _opts(tmp_path / "field", pf)
    dry = cli(["export", "--out", str(tmp_path / "b1.fkb"), "--dry-run", "--json", *field])
    assert (dry.json()["records"], dry.json()["left_records"]) == (2, 1)
    first = cli(["export", "--out", str(tmp_path / "b1.fkb"), *field])
    assert first.code == 0 and "1 more record and" in first.out and "export' again" in first.out
    second = cli(["export", "--out", str(tmp_path / "b2.fkb"), "--json", *field])
    assert (second.json()["records"], second.json()["left_records"]) == (1, 0)
    assert "did not fit" not in second.out

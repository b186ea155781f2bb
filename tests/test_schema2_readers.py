"""Schema-2 records (issue 10) through every reader: old schema-1 records in an upgraded
field vault and at HQ read as schema 2 without changing a stored byte or making a version;
several languages and roles, and consent, travel through the bundle to `hq show`, CSV and
JSON Lines; HQ refuses a schema-1 document that is not in normalised form."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from fieldkit.formats import bundle
from fieldkit.formats.bundle import MalformedBundle
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import analysis_export, history, hq_import, hq_query, hq_view, model
from fieldkit.services import export as export_svc
from fieldkit.services.drafts import DraftService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import records as rec_store
from tests.bundle_fixtures import Pair
from tests.conftest import PASSPHRASE, cli

FIXTURES = Path(__file__).parent / "fixtures" / "vaults"
HOSTILE = "[b]FW[/b] [@click=app.quit]x[/] \u202eevil"  # what validation lets in


def _old_vaults(tmp_path: Path) -> Path:
    """The schema-6 fixture (its records are schema 1): unlocking upgrades it to today's
    vault schema, and its documents stay schema 1."""
    dest = tmp_path / "v6"
    shutil.copytree(FIXTURES / "v6", dest)
    for vault in dest.iterdir():
        if vault.is_dir():
            vault.chmod(0o700)
    return dest


def _stored(db: Any) -> dict[tuple[str, int], tuple[bytes, bytes]]:
    """Every stored version's bytes and hash."""
    return {
        (str(r[0]), int(r[1])): (bytes(r[2]), bytes(r[3]))
        for r in db.all("SELECT record_id, version, doc, doc_hash FROM record_versions")
    }


def test_schema_1_records_in_an_upgraded_field_vault_read_as_schema_2(tmp_path: Path) -> None:
    root = _old_vaults(tmp_path)
    exp = json.loads((root / "expected.json").read_text())["field"]
    with Vault.unlock(root / "field", PASSPHRASE) as v:
        before = _stored(v.db)
        assert before and all(json.loads(doc)["schema"] == 1 for doc, _ in before.values())
        rs = RecordService(v.db)
        for rid, docs in exp["records"].items():
            rec = rs.get(rid)
            assert rec.stored_schema == 1 and rec.doc["schema"] == 2
            old = docs[-1]
            assert rec.doc["interview"]["languages"] == (
                [old["interview"]["language"]] if old["interview"]["language"] else []
            )
            assert [p["roles"] for p in rec.doc["persons"]] == [[p["role"]] for p in old["persons"]]
            assert rec.doc["consent"]["obtained"] is None and model.lacks_consent(rec.doc)
            assert model.validate(rec.doc) == rec.doc  # what the editor saves next is valid
        assert rs.lacking_consent(list(exp["records"])) == set(exp["records"])
        # The editor's drafts autosaved before schema 2 reopen in schema 2 as well.
        drafts = DraftService(v.db).all()
        assert drafts and all(d.doc["schema"] == 2 for d in drafts)
        assert all("languages" in d.doc["interview"] for d in drafts)
        # Reading made no version and changed no byte: hashes and history still hold.
        assert _stored(v.db) == before
        assert {rid: rs.summary(rid).version for rid in exp["records"]} == {
            rid: len(docs) for rid, docs in exp["records"].items()
        }
        assert history.verify(v.db).ok
        # The next edit is schema 2; the earlier versions stay schema 1, byte for byte.
        rid = next(iter(exp["records"]))
        doc = rs.get(rid).doc
        doc["interview"]["languages"] = ["tg", "ru"]
        doc["consent"].update(obtained=True, method="written", obtained_by="FW-03")
        n = rs.edit(rid, doc)
        after = _stored(v.db)
        assert json.loads(after[(rid, n)][0])["schema"] == 2
        assert {k: after[k] for k in before} == before
        assert rs.get(rid).stored_schema == 2 and rid not in rs.lacking_consent([rid])
        assert history.verify(v.db).ok


def test_schema_1_records_at_an_upgraded_hq_read_as_schema_2(tmp_path: Path) -> None:
    root = _old_vaults(tmp_path)
    exp = json.loads((root / "expected.json").read_text())["hq"]
    with Vault.unlock(root / "hq", PASSPHRASE) as h:
        before = _stored(h.db)
        rid = next(iter(exp["records"]))
        lines = hq_view.text_lines(hq_view.sections(hq_view.record_view(h.db, rid)))
        assert "Obtained: not recorded" in lines
        assert any(line.startswith("Languages: ") for line in lines)
        assert any(line.startswith("Person p1: ") for line in lines)
        got = list(hq_query.received(h.db, hq_query.Filters()))
        assert got and all(r.doc["schema"] == 2 for r in got)
        out = tmp_path / "a.csv"
        analysis_export.export(h.db, out, fmt="csv")
        rows = list(csv.DictReader(out.open(encoding="utf-8")))
        assert rows and {r["consent_obtained"] for r in rows} == {"not recorded"}
        assert _stored(h.db) == before
        assert history.verify(h.db).ok


def _multi(pseudonym: str = "Witness M-1") -> dict[str, Any]:
    d = model.template()
    d["pseudonym"] = pseudonym
    d["interview"]["languages"] = ["tg", "ru", "uz"]
    d["persons"][0]["roles"] = ["victim", "informant", "witness"]
    d["persons"][1]["roles"] = ["relative", "witness"]
    d["consent"].update(
        obtained=True, method="written", obtained_on="2026-05-15", obtained_by=HOSTILE
    )
    return d


def test_languages_roles_and_consent_travel_to_hq_show_csv_and_jsonl(
    pair: Pair, tmp_path: Path
) -> None:
    rid = RecordService(pair.field.db).add(_multi())
    out = tmp_path / "b.fkb"
    assert export_svc.export(pair.field.db, out) is not None
    hq_import.import_bundle(pair.hq.db, out)
    rec = RecordService(pair.hq.db).get(rid)
    assert rec.doc == model.validate(_multi())
    lines = hq_view.text_lines(hq_view.sections(hq_view.record_view(pair.hq.db, rid)))
    assert "Languages: tg, ru, uz" in lines
    assert "Person p1: victim, informant, witness" in lines
    assert "Person p2: relative, witness" in lines
    assert "Obtained: yes" in lines and "Method: in writing" in lines
    assert "Obtained on: 2026-05-15" in lines
    # Shown literally: markup stays text, controls are escapes.
    assert "Obtained by: [b]FW[/b] [@click=app.quit]x[/] \\u202eevil" in lines
    assert not any("\u202e" in line for line in lines)

    csv_out = tmp_path / "a.csv"
    analysis_export.export(pair.hq.db, csv_out, fmt="csv")
    row = next(csv.DictReader(csv_out.open(encoding="utf-8")))
    assert row["languages"] == "tg;ru;uz"
    assert row["person_roles"] == "p1:victim;informant;witness p2:relative;witness"
    assert (row["consent_obtained"], row["consent_method"], row["consent_obtained_on"]) == (
        "yes",
        "written",
        "2026-05-15",
    )
    assert row["consent_obtained_by"] == "[b]FW[/b] [@click=app.quit]x[/] \\u202eevil"

    jl = tmp_path / "a.jsonl"
    analysis_export.export(pair.hq.db, jl)
    rec_json = json.loads(jl.read_text(encoding="utf-8"))["record"]
    assert rec_json["interview"]["languages"] == ["tg", "ru", "uz"]
    assert rec_json["persons"][0]["roles"] == ["victim", "informant", "witness"]
    assert rec_json["consent"]["obtained_by"] == HOSTILE


def test_hq_accepts_a_schema_1_document_as_sent_and_keeps_its_hash(pair: Pair) -> None:
    """A version saved before the device's upgrade travels as schema 1; HQ stores it as
    sent (the device's hash) and reads it as schema 2."""
    old = model.template()
    old.update(schema=1)
    old["interview"]["language"] = old["interview"].pop("languages")[0]
    for p in old["persons"]:
        p["role"] = p.pop("roles")[0]
    for k in ("obtained", "method", "obtained_on", "obtained_by"):
        del old["consent"][k]
    rid = _store_raw_version(pair, old)
    out = pair.tmp / "old.fkb"
    res = export_svc.export(pair.field.db, out, include_without_consent=True)
    assert res is not None and [h.id for h in res.included_without_consent] == [rid]
    hq_import.import_bundle(pair.hq.db, out)
    stored = rec_store.get_doc(pair.hq.db, rid, 1)
    assert stored is not None and stored[0] == canonical_json(old)
    assert stored[1] == history.record_version_hash(rid, 1, canonical_json(old))
    assert RecordService(pair.hq.db).get(rid).doc == model.upgrade(old)


def test_hq_refuses_a_schema_1_document_that_is_not_normalised(pair: Pair) -> None:
    old = model.template()
    old.update(schema=1)
    old["interview"]["language"] = None  # validates (as no language) but is not as sent
    del old["interview"]["languages"]
    for p in old["persons"]:
        p["role"] = p.pop("roles")[0]
    for k in ("obtained", "method", "obtained_on", "obtained_by"):
        del old["consent"][k]
    _store_raw_version(pair, old)
    out = pair.tmp / "loose.fkb"
    export_svc.export(pair.field.db, out, include_without_consent=True)
    with pytest.raises(MalformedBundle, match="normalised form"):
        hq_import.import_bundle(pair.hq.db, out)


def _store_raw_version(pair: Pair, doc: dict[str, Any]) -> str:
    """A record version as a device older than schema 2 stored it (not validated today)."""
    from fieldkit.services.records import summary_for

    rid = "r" + "q" * 26
    raw = canonical_json(doc)
    h = history.record_version_hash(rid, 1, raw)
    summary = summary_for(
        rid, 1, model.upgrade(doc), "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z", h
    )
    with pair.field.db.transaction():
        rec_store.save_version(pair.field.db, summary, raw, "")
        history.append(
            pair.field.db,
            at="2026-01-01T00:00:00Z",
            action="record.create",
            subject=rid,
            version=1,
            content_hash=h,
        )
    assert bundle.MAX_RECORD_SIZE > len(raw)
    return rid


def test_cli_add_edit_show_round_trip_several_languages_and_roles(
    cli_vault: list[str], tmp_path: Path
) -> None:
    add = cli(["record", "add", "--json", "-", *cli_vault], stdin=json.dumps(_multi()))
    assert add.code == 0, add.err
    rid = add.out.strip()
    shown = cli(["record", "show", rid, "--json", *cli_vault]).json()
    assert shown["record"]["interview"]["languages"] == ["tg", "ru", "uz"]
    shown["record"]["persons"][0]["roles"] = ["informant"]
    shown["record"]["interview"]["languages"] = ["ru"]
    ed = cli(["record", "edit", rid, "--json", "-", *cli_vault], stdin=json.dumps(shown))
    assert ed.code == 0, ed.err
    again = cli(["record", "show", rid, "--json", *cli_vault]).json()["record"]
    assert again["persons"][0]["roles"] == ["informant"]
    assert again["interview"]["languages"] == ["ru"]
    plain = cli(["record", "show", rid, *cli_vault])
    assert "Consent: obtained (in writing)" in plain.out
    # The method's label, not the code: the msgid "written" means bytes written.
    ru = cli(["record", "show", rid, "--lang", "ru", *cli_vault])
    assert ru.code == 0, ru.err
    assert "(письменно" in ru.out, ru.out
    assert "\u202e" not in plain.out and "[@click=app.quit]x[/] \\u202eevil" in plain.out
    # A schema-1 style document names the new field in its refusal.
    old = model.template()
    old["interview"]["language"] = "ru"
    del old["interview"]["languages"]
    bad = cli(["record", "add", "--json", "-", *cli_vault], stdin=json.dumps(old))
    assert bad.code == 5 and "languages" in bad.err
    tmpl = cli(["record", "template"]).json()
    assert tmpl["schema"] == 2 and model.validate(tmpl) == tmpl

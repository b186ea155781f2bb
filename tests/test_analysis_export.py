"""Analysis exports: consent scopes, sensitive fields, spreadsheet formula injection."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from fieldkit.formats.canonical import canonical_json
from fieldkit.services import analysis_export, hq_import, model
from fieldkit.services import export as export_svc
from fieldkit.services.records import RecordService
from fieldkit.store import records as rec_store
from fieldkit.store.records import RecordSummary
from tests.bundle_fixtures import Pair


def _send(pair: Pair, docs: list[dict]) -> None:  # type: ignore[type-arg]
    RecordService(pair.field.db).add_many(docs)
    export_svc.export(pair.field.db, pair.tmp / "b.fkb")
    hq_import.import_bundle(pair.hq.db, pair.tmp / "b.fkb")


def test_scopes_and_withdrawn_consent(pair: Pair, tmp_path: Path) -> None:
    def doc(name: str, scope: str, withdrawn: bool = False) -> dict:  # type: ignore[type-arg]
        d = model.template()
        d["pseudonym"] = name
        d["persons"][0]["sensitive"]["real_name"] = "Secret Name"
        d["consent"].update(scope=scope, withdrawn=withdrawn, contact_allowed=False)
        return d

    _send(
        pair,
        [
            doc("A", "hq_only"),
            doc("B", "anonymised_publication"),
            doc("C", "named_publication"),
            doc("D", "named_publication", withdrawn=True),
        ],
    )
    seen = {}
    for scope in ("hq", "anonymised", "named"):
        out = tmp_path / f"{scope}.jsonl"
        res = analysis_export.export(pair.hq.db, out, scope=scope)
        rows = [json.loads(line) for line in out.read_text().splitlines()]
        seen[scope] = sorted(r["record"]["pseudonym"] for r in rows)
        assert res.records == len(rows)
        if scope == "anonymised":
            assert "Secret Name" not in out.read_text()
    assert seen == {"hq": ["A", "B", "C"], "anonymised": ["B", "C"], "named": ["C"]}
    omitted = tmp_path / "omit.jsonl"
    analysis_export.export(pair.hq.db, omitted, omit_sensitive=True)
    assert "Secret Name" not in omitted.read_text()
    assert (omitted.stat().st_mode & 0o777) == 0o600


def test_csv_cells_cannot_become_formulas(pair: Pair, tmp_path: Path) -> None:
    d = model.template()
    d["pseudonym"] = '=HYPERLINK("http://evil")'
    d["incidents"][0]["legal"]["charge"] = "+1+1"
    _send(pair, [d])
    out = tmp_path / "a.csv"
    analysis_export.export(pair.hq.db, out, fmt="csv")
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["pseudonym"].startswith("'=")
    assert rows[0]["charge"] == "'+1+1"


def _store_raw(pair: Pair, doc: dict) -> str:  # type: ignore[type-arg]
    """A record at HQ stored before today's validation (text it would now refuse)."""
    rid = "r" + "x" * 25
    with pair.hq.db.transaction():
        rec_store.save_version(
            pair.hq.db,
            RecordSummary(rid, 1, "complete", "high", doc["pseudonym"], None, (), "t", "t",
                          bytes(32)),
            canonical_json(doc),
            "",
        )
    return rid


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_no_csv_row_can_be_split_by_its_contents(pair: Pair, tmp_path: Path) -> None:
    d = model.template()
    d["incidents"][0]["legal"]["outcome"] = "fine paid\n=1+1\n\tthen expelled"
    d["incidents"][0]["perpetrator"]["unit"] = "@SUM(A1)"
    d["incidents"][0]["legal"]["charge"] = "-2+3"
    _send(pair, [d])
    raw = model.template()
    raw["pseudonym"] = "\r=1+1"
    raw["incidents"][0]["legal"]["outcome"] = "a\r\n=HYPERLINK(\"http://evil\")\rb"
    raw["incidents"][0]["legal"]["court"] = "\x1b]52;c;ZXZpbA==\x07\u202e"
    _store_raw(pair, raw)
    out = tmp_path / "a.csv"
    analysis_export.export(pair.hq.db, out, fmt="csv")
    data = out.read_bytes().decode("utf-8")
    width = len(analysis_export.CSV_COLUMNS)
    rows = list(csv.reader(io.StringIO(data, newline="")))
    assert len(rows) == 1 + 2 + 2  # header, two incidents of each record
    assert all(len(r) == width for r in rows)
    lines = data.split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(rows)  # a naive split agrees
    for line in lines[:-1]:
        assert len(next(csv.reader([line]))) == width
        assert "\r" not in line and "\x1b" not in line and "\u202e" not in line
    for cell in (c for r in rows[1:] for c in r):
        assert not cell.startswith(FORMULA_START), cell
    by_record = {r[0]: r for r in rows[1:]}
    assert by_record["r" + "x" * 25][2] == "' =1+1"  # the CR a space, then guarded


def _marked(doc: dict, prefix: str = "") -> dict:  # type: ignore[type-arg]
    """Every free-text field of `doc` set to a marker naming its path."""
    out: dict = {}  # type: ignore[type-arg]
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out[key] = _marked(value, f"{path}.")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [_marked(v, f"{path}.{i}.") for i, v in enumerate(value)]
        elif key in MARKED:
            out[key] = f"MARK<{path}>"
        else:
            out[key] = value
    return out


MARKED = {
    "pseudonym", "place", "interviewer", "interpreter", "narrative", "relationship", "gender",
    "real_name", "contacts", "exact_address", "type_other", "text", "locality", "detail",
    "unit", "description", "charge", "court", "case_number", "outcome", "notes", "obtained_by",
}  # fmt: skip
IDENTIFYING = (
    "interview.place",
    "interview.interviewer",
    "interview.interpreter",
    "sensitive.real_name",
    "sensitive.contacts",
    "sensitive.exact_address",
    "place.detail",
    "legal.case_number",
    "consent.notes",
    "consent.obtained_by",
)


def test_anonymised_scope_is_an_allow_list(pair: Pair, tmp_path: Path) -> None:
    d = _marked(model.template())
    d["consent"]["scope"] = "anonymised_publication"
    d["incidents"][0]["type"] = "other"
    d["persons"][0]["relationship"] = ""
    d["persons"][1]["related_to"] = "p1"
    _send(pair, [model.validate(d)])
    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"anon.{fmt}"
        assert analysis_export.export(pair.hq.db, out, fmt=fmt, scope="anonymised").records == 1
        text = out.read_text()
        assert "MARK<" in text  # the test sees the fields that are kept
        for path in IDENTIFYING:
            assert path not in text.replace(".0.", ".").replace(".1.", "."), (fmt, path)
    row = json.loads((tmp_path / "anon.jsonl").read_text())["record"]
    assert row["narrative"] == "MARK<narrative>"
    assert set(row["interview"]) == {"date", "languages"}
    assert row["interview"]["languages"] == ["ru", "tg"]
    assert row["persons"][0]["roles"] == ["informant", "victim"]
    assert {k: row["consent"][k] for k in ("obtained", "method", "obtained_on")} == {
        "obtained": True,
        "method": "oral",
        "obtained_on": "2026-05-14",
    }
    assert "sensitive" not in row["persons"][0] and "notes" not in row["consent"]


def test_jsonl_keeps_the_text_but_no_raw_terminal_controls(pair: Pair, tmp_path: Path) -> None:
    """An analyst may `cat` or `less` the JSON Lines file: C1 controls and bidi overrides
    are written as JSON escapes, so the values are exact and the bytes are inert."""
    raw = model.template()
    raw["pseudonym"] = "K-7 \x9b31m\u202egpj.exe\x7f\x1b[2J"
    _store_raw(pair, raw)
    out = tmp_path / "a.jsonl"
    analysis_export.export(pair.hq.db, out)
    text = out.read_text()
    for ch in ("\x9b", "\u202e", "\x7f", "\x1b"):
        assert ch not in text
    assert json.loads(text.splitlines()[0])["record"]["pseudonym"] == raw["pseudonym"]

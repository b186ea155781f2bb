"""HQ at its desk: the readable record view, logged extraction, filters, spreadsheet-safe
CSV with Cyrillic, UTF-8 JSON Lines, a snapshot export, and incident counts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from fieldkit.errors import InvalidInput, NotFound
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import analysis_export, extraction, hq_import, hq_view, model, stats
from fieldkit.services import export as export_svc
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.hq_query import Filters
from fieldkit.services.records import RecordService
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database
from fieldkit.store.records import RecordSummary
from tests.bundle_fixtures import Pair
from tests.conftest import PASSPHRASE, cli

HOSTILE = "\x1b]52;c;ZXZpbA==\x07[b]bold[/b] \u202egpj.exe =1+1 \x9b31m"
RU = "Задержан после протеста; Ғ Ӣ Қ Ӯ Ҳ Ҷ"


def _doc(name: str, itype: str, country: str, when: str, **kw: Any) -> dict[str, Any]:
    d = model.template()
    d["pseudonym"] = name
    d["narrative"] = kw.get("narrative", RU)
    inc = d["incidents"][0]
    inc.update(type=itype, date=when, description=kw.get("description", "Описание"))
    inc["place"]["country"] = country
    inc["perpetrator"]["actor_type"] = kw.get("actor", "police")
    d["incidents"] = [inc]
    d["consent"]["scope"] = kw.get("scope", "hq_only")
    return d


def _send(pair: Pair, docs: list[dict[str, Any]], attachment: bytes = b"") -> list[str]:
    ids = RecordService(pair.field.db).add_many(docs)
    if attachment:
        AttachmentService(pair.field.db).add_stream(
            ids[0], io.BytesIO(attachment), filename="order.jpg", media_type="image/jpeg"
        )
    out = pair.tmp / f"b{len(list(pair.tmp.glob('*.fkb')))}.fkb"
    export_svc.export(pair.field.db, out)
    hq_import.import_bundle(pair.hq.db, out)
    return ids


def _raw(db: Database, doc: dict[str, Any], rid: str = "r" + "x" * 25) -> str:
    """A record at HQ holding text today's validation refuses (stored before the rule)."""
    with db.transaction():
        rec_store.save_version(
            db,
            RecordSummary(rid, 1, "complete", "high", doc["pseudonym"], None, (), "t", "t",
                          bytes(32)),
            canonical_json(doc),
            "",
        )  # fmt: skip
    return rid


def _opts(pair: Pair) -> list[str]:
    pf = pair.tmp / "pass.txt"
    pf.write_text(PASSPHRASE + "\n")
    pair.hq.lock()
    return ["--vault", str(pair.tmp / "hq"), "--passphrase-file", str(pf)]


# ---- the record view ------------------------------------------------------------------


def test_record_view_reads_as_sections(pair: Pair) -> None:
    d = _doc("Witness K", "expulsion_order", "RU", "2026-04", description="Вручили приказ")
    d["persons"][0]["sensitive"]["real_name"] = "Real Name"
    (rid,) = _send(pair, [d], attachment=b"\xff\xd8scan")
    view = hq_view.record_view(pair.hq.db, rid)
    secs = hq_view.sections(view)
    titles = [s.title for s in secs]
    assert titles[:2] == ["Record", "Interview"]
    assert "Incident i1: Expulsion or deportation order" in titles
    assert titles[-3:] == ["Narrative", "Consent", "Attachments"]
    fields = {(s.title, f.label): f.value for s in secs for f in s.fields}
    assert fields[("Record", "Device")].startswith("FW-03 laptop (")
    assert fields[("Narrative", "")] == RU
    assert "order.jpg" in fields[("Attachments", view.attachments[0].id)]
    lines = hq_view.text_lines(secs, 80)
    assert all(len(line) <= 80 for line in lines)
    assert "Real name (sensitive): Real Name" in lines
    assert "Date: 2026-04-01..2026-04-30" in lines


def test_record_view_shows_hostile_text_literally_and_wraps(pair: Pair) -> None:
    raw = model.template()
    raw["pseudonym"] = HOSTILE
    raw["narrative"] = HOSTILE + "\n" + "слово " * 5000
    raw["incidents"][0]["description"] = "x" * 100_000
    rid = _raw(pair.hq.db, raw)
    lines = hq_view.text_lines(hq_view.sections(hq_view.record_view(pair.hq.db, rid)), 80)
    text = "\n".join(lines)
    for ch in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert ch not in text
    assert "\\x1b]52;c;ZXZpbA==\\x07[b]bold[/b] \\u202egpj.exe" in text
    assert all(len(line) <= 80 for line in lines)

    opts = _opts(pair)
    r = cli(["hq", "show", rid[:8], "--width", "80", *opts])
    assert r.code == 0, r.err
    assert all(len(line) <= 80 for line in r.out.splitlines())
    assert "\x1b" not in r.out and "\u202e" not in r.out and "Narrative" in r.out
    j = cli(["hq", "show", rid, "--json", *opts]).json()
    pseudo = next(f for s in j["sections"] for f in s["fields"] if f["label"] == "Pseudonym")
    assert pseudo["value"] == HOSTILE  # exact in JSON


def test_hq_show_refuses_a_field_vault(pair: Pair) -> None:
    rid = pair.add_testimony()
    pf = pair.tmp / "pass.txt"
    pf.write_text(PASSPHRASE + "\n")
    pair.field.lock()
    r = cli(["hq", "show", rid, "--vault", str(pair.tmp / "field"), "--passphrase-file", str(pf)])
    assert r.code == 31, r.err


# ---- extraction with a logged reason ----------------------------------------------------


def test_extraction_asks_a_reason_and_logs_it(pair: Pair, tmp_path: Path) -> None:
    (rid,) = _send(pair, [_doc("A", "surveillance", "RU", "2026")], attachment=b"secret scan")
    att = AttachmentService(pair.hq.db).for_record(rid)[0]
    with pytest.raises(InvalidInput):
        extraction.extract(pair.hq.db, att.id, tmp_path / "x.jpg", "  ")
    assert not (tmp_path / "x.jpg").exists()
    extraction.extract(pair.hq.db, att.id, tmp_path / "x.jpg", "appeal case file")
    assert (tmp_path / "x.jpg").read_bytes() == b"secret scan"
    (entry,) = extraction.log(pair.hq.db)
    assert (entry.attachment_id, entry.record_id, entry.reason, entry.outcome) == (
        att.id, rid, "appeal case file", "written",
    )  # fmt: skip
    assert entry.sha256 == att.sha256
    # A failed extraction (the file exists) is logged as failed; nothing is replaced.
    with pytest.raises(Exception, match="already exists"):
        extraction.extract(pair.hq.db, att.id, tmp_path / "x.jpg", "second copy")
    assert [e.outcome for e in extraction.log(pair.hq.db)] == ["failed", "written"]
    # The log holds no testimony and no path.
    row = pair.hq.db.all("SELECT * FROM extraction_log")
    assert "Задержан" not in repr(row) and str(tmp_path) not in repr(row)

    opts = _opts(pair)
    no_reason = cli(["hq", "extract", att.id, "--out", str(tmp_path / "y.jpg"), *opts])
    assert no_reason.code == 2
    r = cli(["hq", "extract", att.id[:8], "--out", str(tmp_path / "y.jpg"),
             "--reason", "legal \x1b[2J team", *opts])  # fmt: skip
    assert r.code == 5 and not (tmp_path / "y.jpg").exists()  # a control in the reason
    r = cli(["hq", "extract", att.id[:8], "--out", str(tmp_path / "y.jpg"),
             "--reason", "legal team", *opts])  # fmt: skip
    assert r.code == 0, r.err
    bypass = cli(["attachment", "extract", att.id, "--out", str(tmp_path / "z.jpg"), *opts])
    assert bypass.code == 2 and "hq extract" in bypass.err and not (tmp_path / "z.jpg").exists()
    log = cli(["hq", "extractions", "--json", *opts]).json()
    assert [e["reason"] for e in log] == ["legal team", "second copy", "appeal case file"]


# ---- filters ------------------------------------------------------------------------------


def test_filters_by_date_device_country_and_type(pair: Pair, tmp_path: Path) -> None:
    _send(
        pair,
        [
            _doc("A", "expulsion_order", "RU", "2026-03-15"),
            _doc("B", "surveillance", "TJ", "2026-04"),
            _doc("C", "expulsion_order", "TJ", "2025"),
        ],
    )

    def names(f: Filters) -> list[str]:
        out = tmp_path / "f.jsonl"
        analysis_export.export(pair.hq.db, out, filters=f)
        return sorted(json.loads(x)["record"]["pseudonym"] for x in out.read_text().splitlines())

    assert names(Filters()) == ["A", "B", "C"]
    assert names(Filters(incident_type="expulsion_order")) == ["A", "C"]
    assert names(Filters(country="tj")) == ["B", "C"]
    assert names(Filters(date_from="2026-04-30")) == ["B"]  # April overlaps
    assert names(Filters(date_from="2025-06-01", date_to="2026-03-31")) == ["A", "C"]
    assert names(Filters(country="TJ", incident_type="expulsion_order")) == ["C"]
    assert names(Filters(device="FW-03 laptop")) == ["A", "B", "C"]
    with pytest.raises(NotFound):
        names(Filters(device="nobody"))
    for bad in (Filters(date_from="2026-13-01"), Filters(country="RUS"),
                Filters(incident_type="x"), Filters(date_from="2026-02-01", date_to="2026-01-01")):
        with pytest.raises(InvalidInput):
            names(bad)  # fmt: skip
    assert not list(tmp_path.glob(".*.tmp"))  # a refused export leaves no temp file

    opts = _opts(pair)
    out = tmp_path / "cli.csv"
    r = cli(["hq", "export", "--format", "csv", "--out", str(out), "--country", "TJ",
             "--device", "FW-03 laptop", "--from", "2026-01-01", *opts])  # fmt: skip
    assert r.code == 0, r.err
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["pseudonym"] for r in rows] == ["B"]
    assert rows[0]["device_name"] == "FW-03 laptop" and len(rows[0]["device"]) == 64
    bad = cli(["hq", "export", "--out", str(tmp_path / "z"), "--device", "nobody", *opts])
    assert bad.code == 6 and not (tmp_path / "z").exists()


# ---- CSV and JSON Lines --------------------------------------------------------------------


def test_csv_opens_with_cyrillic_and_carries_description_and_narrative(
    pair: Pair, tmp_path: Path
) -> None:
    _send(pair, [_doc("Свидетель", "arbitrary_detention", "RU", "2026-04-02",
                      scope="anonymised_publication")])  # fmt: skip
    for scope in ("hq", "anonymised"):
        out = tmp_path / f"{scope}.csv"
        analysis_export.export(pair.hq.db, out, fmt="csv", scope=scope, bom=True)
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        (row,) = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        assert row["pseudonym"] == "Свидетель"
        assert row["narrative"] == RU and row["description"] == "Описание"
        assert row["device_name"] == "FW-03 laptop"
    plain = tmp_path / "plain.csv"
    analysis_export.export(pair.hq.db, plain, fmt="csv")
    assert plain.read_bytes().startswith(b"record_id,")


def test_jsonl_is_utf8_not_escapes(pair: Pair, tmp_path: Path) -> None:
    _send(pair, [_doc("Свидетель", "arbitrary_detention", "RU", "2026")])
    out = tmp_path / "a.jsonl"
    analysis_export.export(pair.hq.db, out)
    raw = out.read_bytes()
    assert "Задержан".encode() in raw and b"\\u04" not in raw
    row = json.loads(raw)
    assert row["device_name"] == "FW-03 laptop"


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_hostile_cells_are_neutralised_and_huge_ones_cut(pair: Pair, tmp_path: Path) -> None:
    raw = model.template()
    raw["pseudonym"] = "\t=cmd|' /C calc'!A0"
    raw["narrative"] = "@SUM(1)\n" + "я" * 200_000
    raw["incidents"][0]["description"] = "\r-2+3 " + HOSTILE
    raw["incidents"][0]["perpetrator"]["unit"] = "+7 (495)"
    raw["incidents"] = raw["incidents"][:1]
    _raw(pair.hq.db, raw)
    out = tmp_path / "a.csv"
    analysis_export.export(pair.hq.db, out, fmt="csv", bom=True)
    text = out.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 2 and len(text.split("\n")) == 3
    for c in rows[1]:
        assert not c.startswith(FORMULA_START), c
        assert len(c) <= analysis_export.MAX_CELL + 100
        assert not any(ch in c for ch in ("\x1b", "\x07", "\u202e", "\x9b"))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["narrative"].startswith("'@SUM(1) яяя") and "[cut: " in row["narrative"]
    assert row["description"].startswith("' -2+3")
    assert row["unit"] == "'+7 (495)"


# ---- one snapshot, streamed ------------------------------------------------------------


def test_export_is_a_snapshot(pair: Pair, tmp_path: Path) -> None:
    """An import committed on another connection while the export runs does not leak in."""
    _send(pair, [_doc(f"R{i}", "surveillance", "RU", "2026") for i in range(130)])
    other = pair.hq.connect()
    seen: list[int] = []

    def meanwhile(n: int) -> None:
        seen.append(n)
        if n == 1:  # after the first record: another process imports
            _raw(other, _doc("LATE", "surveillance", "RU", "2026"))
            rs = rec_store.count(other)
            assert rs == 131

    out = tmp_path / "a.jsonl"
    res = analysis_export.export(pair.hq.db, out, progress=meanwhile)
    other.close()
    names = [json.loads(x)["record"]["pseudonym"] for x in out.read_text().splitlines()]
    assert res.records == 130 and "LATE" not in names and seen[-1] == 130
    assert rec_store.count(pair.hq.db) == 131  # and it is there afterwards


def test_failed_export_leaves_nothing(pair: Pair, tmp_path: Path) -> None:
    _send(pair, [_doc("A", "surveillance", "RU", "2026")])
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "a.jsonl"
    out.write_text("old")

    def boom(n: int) -> None:
        raise RuntimeError("disk pulled")

    with pytest.raises(RuntimeError):
        analysis_export.export(pair.hq.db, out, progress=boom)
    assert out.read_text() == "old" and [p.name for p in out.parent.iterdir()] == ["a.jsonl"]


# ---- counts -----------------------------------------------------------------------------


def test_stats_count_incidents_and_draw_bars(pair: Pair, tmp_path: Path) -> None:
    docs = [
        _doc("A", "expulsion_order", "RU", "2026-03-15", actor="migration_authority"),
        _doc("B", "expulsion_order", "RU", "2026-04"),
        _doc("C", "surveillance", "TJ", "2026-04-02"),
    ]
    docs[2]["consent"].update(scope="hq_only", withdrawn=True)
    _send(pair, docs)
    raw = model.validate(_doc("D", "ill_treatment", "KZ", "2026-05-01"))
    raw["incidents"][0]["place"]["country"] = "=1+1"  # stored before validation
    _raw(pair.hq.db, raw)
    st = stats.count(pair.hq.db)
    assert (st.records, st.incidents) == (3, 3)  # C's consent is withdrawn
    assert st.rows("type") == [("expulsion_order", 2), ("ill_treatment", 1)]
    assert st.rows("month") == [("2026-03", 1), ("2026-04", 1), ("2026-05", 1)]
    assert dict(st.rows("perpetrator")) == {"migration_authority": 1, "police": 2}
    lines = stats.chart_lines(st, 80)
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("Expulsion or deportation order") and line.endswith(" 2")
               for line in lines)  # fmt: skip
    assert stats.count(pair.hq.db, Filters(country="RU")).incidents == 2

    out = tmp_path / "counts.csv"
    stats.write_csv(st, out, bom=True)
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert {"dimension": "type", "value": "expulsion_order",
            "label": "Expulsion or deportation order", "count": "2"} in rows  # fmt: skip
    assert all(not r["value"].startswith(FORMULA_START) for r in rows)

    opts = _opts(pair)
    r = cli(["hq", "stats", "--width", "80", "--csv", str(tmp_path / "c2.csv"), *opts])
    assert r.code == 0, r.err
    assert "Incidents by month" in r.out and "█" in r.out
    assert all(len(line) <= 80 for line in r.out.splitlines())
    j = cli(["hq", "stats", "--json", "--type", "expulsion_order", *opts]).json()
    assert j["incidents"] == 2 and j["country"] == {"RU": 2}


def test_bars_escape_labels() -> None:
    lines = stats.bars([("\x1b[2J\u202eevil" * 5, 3), ("b", 1)], width=60)
    assert all(len(x) <= 60 for x in lines)
    assert "\x1b" not in "".join(lines) and "\u202e" not in "".join(lines)


# ---- the import report ----------------------------------------------------------------------


def test_import_report_gives_each_verdict_within_80_columns(pair: Pair, tmp_path: Path) -> None:
    RecordService(pair.field.db).add(_doc("A", "surveillance", "RU", "2026"))
    bundle = tmp_path / ("long-folder-name-" * 4) / "3f9a2c1e.age"
    bundle.parent.mkdir()
    export_svc.export(pair.field.db, bundle)
    opts = _opts(pair)
    missing = tmp_path / "gone.age"
    r = cli(["hq", "import", str(bundle), str(missing), str(bundle), *opts])
    assert r.code == 9, r.err
    lines = r.out.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    verdicts = [line.split(" ")[0] for line in lines if not line.startswith(" ")]
    assert verdicts == ["IMPORTED", "ALREADY", "REFUSED"]  # a device's bundles first
    assert any(line.strip().startswith("verified and imported 1 new record") for line in lines)
    assert r.err.startswith("fieldkit: error: ") and len(r.err.splitlines()) == 2

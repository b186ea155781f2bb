"""Analysis exports: consent scopes, sensitive fields, spreadsheet formula injection."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fieldkit.services import analysis_export, hq_import, model
from fieldkit.services import export as export_svc
from fieldkit.services.records import RecordService
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
        d["consent"] = {"scope": scope, "withdrawn": withdrawn}
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

"""HQ export for analysis: JSON Lines or CSV, honouring consent.

Scopes:
  hq          every record whose consent is not withdrawn (internal analysis)
  anonymised  records consented for anonymised or named publication; identifying
              fields are always removed
  named       records consented for named publication only
`omit_sensitive` removes each person's identifying fields (real name, contacts, exact
address) in any scope, for analysts who should not see them. Withdrawn consent is
never exported. The output is plaintext by nature: it is written atomically, 0600.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit.errors import FileAccessError, InvalidInput
from fieldkit.services import fsio, identity
from fieldkit.services.records import RecordService
from fieldkit.store import bundles as bundle_store
from fieldkit.store import records as rec_store
from fieldkit.store.db import Database

SCOPES = {
    "hq": ("hq_only", "anonymised_publication", "named_publication"),
    "anonymised": ("anonymised_publication", "named_publication"),
    "named": ("named_publication",),
}
FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "record_id",
    "version",
    "pseudonym",
    "interview_date",
    "language",
    "risk",
    "consent_scope",
    "incident_id",
    "incident_type",
    "date_earliest",
    "date_latest",
    "date_text",
    "country",
    "locality",
    "actor_type",
    "perpetrator_country",
    "unit",
    "charge",
    "court",
    "outcome",
    "fine_amount",
    "fine_currency",
    "expulsion",
    "victims",
    "device",
)


@dataclass(frozen=True)
class AnalysisExport:
    path: Path
    records: int
    withheld: int


def export(
    db: Database, out: Path, *, fmt: str = "jsonl", scope: str = "hq", omit_sensitive: bool = False
) -> AnalysisExport:
    identity.hq(db)
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}", hint="use jsonl or csv")
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}", hint="use hq, anonymised or named")
    strip = omit_sensitive or scope == "anonymised"
    rs = RecordService(db)
    written = withheld = 0
    try:
        # One record at a time, straight into the temp file: memory does not grow with HQ's
        # archive. The rename happens only when every row is written.
        with fsio.atomic_writer(out, mode=0o600) as raw:
            fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
            if fmt == "csv":
                writer.writeheader()
            for summary in rec_store.list_summaries(db, sort="created", limit=10**9):
                rec = rs.get(summary.id)
                consent = rec.doc["consent"]
                if consent["withdrawn"] or consent["scope"] not in SCOPES[scope]:
                    withheld += 1
                    continue
                device = bundle_store.record_device(db, rec.id)
                row = {
                    "id": rec.id,
                    "version": rec.version,
                    "device": device.hex() if device else None,
                    "record": _without_sensitive(rec.doc) if strip else rec.doc,
                }
                if fmt == "jsonl":
                    fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                else:
                    writer.writerows(_csv_rows(row))
                written += 1
            fh.flush()
            fh.detach()  # the atomic writer fsyncs and renames the underlying file
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot write {out}", exc) from None
    return AnalysisExport(out, written, withheld)


def _without_sensitive(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(doc))
    for person in out["persons"]:
        person.pop("sensitive", None)
    return out


def _csv_rows(r: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per incident (a record without incidents gives one row)."""
    doc = r["record"]
    base = {
        "record_id": r["id"],
        "version": r["version"],
        "pseudonym": doc["pseudonym"],
        "interview_date": doc["interview"].get("date") or "",
        "language": doc["interview"].get("language", ""),
        "risk": doc["risk"],
        "consent_scope": doc["consent"]["scope"],
        "device": r["device"] or "",
    }
    out: list[dict[str, Any]] = []
    for inc in doc["incidents"] or [None]:
        row = dict(base)
        if inc is not None:
            date = inc.get("date") or {}
            fine = inc["legal"].get("fine") or {}
            row.update(
                {
                    "incident_id": inc["id"],
                    "incident_type": inc["type"],
                    "date_earliest": date.get("earliest", ""),
                    "date_latest": date.get("latest", ""),
                    "date_text": date.get("text", ""),
                    "country": inc["place"]["country"],
                    "locality": inc["place"]["locality"],
                    "actor_type": inc["perpetrator"]["actor_type"],
                    "perpetrator_country": inc["perpetrator"]["country"],
                    "unit": inc["perpetrator"]["unit"],
                    "charge": inc["legal"]["charge"],
                    "court": inc["legal"]["court"],
                    "outcome": inc["legal"]["outcome"],
                    "fine_amount": fine.get("amount", ""),
                    "fine_currency": fine.get("currency", ""),
                    "expulsion": inc["legal"]["expulsion"],
                    "victims": " ".join(inc["victims"]),
                }
            )
        out.append({k: _cell(v) for k, v in row.items()})
    return out


def _cell(value: Any) -> Any:
    # Spreadsheet formula injection: a cell starting with = + - @ is shown as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value

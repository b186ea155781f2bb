"""HQ export for analysis: JSON Lines or CSV, honouring consent.

Scopes:
  hq          every record whose consent is not withdrawn (internal analysis)
  anonymised  records consented for anonymised or named publication, with only the
              fields in ANONYMISED (an allow-list: a field added to the model later
              stays out until it is listed here)
  named       records consented for named publication only
`omit_sensitive` removes each person's identifying fields (real name, contacts, exact
address) in any scope, for analysts who should not see them. Withdrawn consent is
never exported. The output is plaintext by nature: it is written atomically, 0600.

CSV cells are for spreadsheets: a line break or tab inside a cell becomes a space (no
row can be split by its contents; JSON Lines keeps the text exactly), other control
characters are escaped, and a cell that would start a formula is prefixed with '.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit.errors import FileAccessError, InvalidInput
from fieldkit.formats import text as text_rules
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
# What the anonymised scope keeps. Left out: the interview's place, interviewer and
# interpreter; persons' sensitive fields; an incident's place detail and case number;
# the consent notes.
_PLACE = {"country": True, "locality": True}
_LEGAL = {"charge": True, "court": True, "outcome": True, "fine": True, "expulsion": True}
_INCIDENT = {
    "id": True,
    "type": True,
    "type_other": True,
    "victims": True,
    "date": True,
    "place": _PLACE,
    "perpetrator": True,
    "description": True,
    "legal": _LEGAL,
}
_PERSON = {
    "id": True,
    "role": True,
    "pseudonym": True,
    "relationship": True,
    "related_to": True,
    "gender": True,
    "birth_year": True,
    "nationality": True,
}
ANONYMISED: dict[str, Any] = {
    "schema": True,
    "pseudonym": True,
    "status": True,
    "risk": True,
    "tags": True,
    "interview": {"date": True, "language": True},
    "narrative": True,
    "persons": [_PERSON],
    "incidents": [_INCIDENT],
    "consent": {"scope": True, "contact_allowed": True, "withdrawn": True, "withdrawn_on": True},
}
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
                    "record": _scoped(rec.doc, scope, omit_sensitive),
                }
                if fmt == "jsonl":
                    line = json.dumps(row, ensure_ascii=False, sort_keys=True)
                    fh.write(text_rules.escape_json(line) + "\n")  # inert in a terminal
                else:
                    writer.writerows(_csv_rows(row))
                written += 1
            fh.flush()
            fh.detach()  # the atomic writer fsyncs and renames the underlying file
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot write {out}", exc) from None
    return AnalysisExport(out, written, withheld)


def _scoped(doc: dict[str, Any], scope: str, omit_sensitive: bool) -> dict[str, Any]:
    if scope == "anonymised":
        kept: dict[str, Any] = _allowed(doc, ANONYMISED)
        return kept
    return _without_sensitive(doc) if omit_sensitive else doc


def _allowed(value: Any, spec: Any) -> Any:
    """The parts of `value` that `spec` lists: True keeps a value whole, a dict keeps
    those keys of an object, a one-item list applies its item to every element."""
    if spec is True:
        return value
    if isinstance(spec, list):
        return [_allowed(v, spec[0]) for v in value] if isinstance(value, list) else []
    if not isinstance(value, dict):
        return None
    return {k: _allowed(value[k], sub) for k, sub in spec.items() if k in value}


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


_BREAKS = re.compile("\r\n|[\t\r\n\x0b\x0c\x85\u2028\u2029]")


def _cell(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    # One line per row, whatever reads it: a line break or tab becomes a space, and
    # any other control character is escaped (formats/text.py).
    value = text_rules.escape(_BREAKS.sub(" ", value), keep_newlines=False)
    # Spreadsheet formula injection: a cell whose text starts with = + - @ (after
    # spaces, which some spreadsheets skip) is shown as text.
    if value.lstrip(" ")[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value

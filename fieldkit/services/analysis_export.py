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
characters are escaped, a cell that would start a formula is prefixed with ', and a
cell longer than MAX_CELL is cut with a note. `bom` starts the file with a UTF-8 byte
order mark, which Excel needs to read Cyrillic; JSON Lines is UTF-8 as it is, with no
\\u escapes for letters. Filters: services/hq_query.py.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fieldkit.errors import FileAccessError, InvalidInput
from fieldkit.formats import text as text_rules
from fieldkit.services import fsio, hq_query, identity
from fieldkit.services.hq_query import SCOPES, Filters
from fieldkit.store.db import Database

__all__ = ["BOM", "CSV_COLUMNS", "FORMATS", "SCOPES", "AnalysisExport", "Filters", "export"]

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
    "roles": True,
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
    "interview": {"date": True, "languages": True},
    "narrative": True,
    "persons": [_PERSON],
    "incidents": [_INCIDENT],
    # Who took the consent (obtained_by) names a fieldworker, as the interviewer does: left out.
    "consent": {
        "scope": True,
        "contact_allowed": True,
        "withdrawn": True,
        "withdrawn_on": True,
        "obtained": True,
        "method": True,
        "obtained_on": True,
    },
}
CSV_COLUMNS = (
    "record_id",
    "version",
    "pseudonym",
    "interview_date",
    "languages",
    "risk",
    "consent_scope",
    "consent_obtained",
    "consent_method",
    "consent_obtained_on",
    "consent_obtained_by",
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
    "person_roles",
    "description",
    "device_name",
    "device",
    "narrative",
)
# Several codes in one cell (languages "ru;tg", a person's roles): ';' is in no code.
LIST_SEPARATOR = ";"
# consent.obtained in a cell: null is "not recorded" (every schema-1 record).
_OBTAINED = {True: "yes", False: "no", None: "not recorded"}
# A spreadsheet cell holds at most 32,767 characters (Excel; LibreOffice cuts too):
# longer text is cut with a note, and JSON Lines keeps it whole.
MAX_CELL = 32_000
BOM = "\ufeff"  # lets Excel read the file as UTF-8 (Cyrillic intact)


@dataclass(frozen=True)
class AnalysisExport:
    path: Path
    records: int
    withheld: int


def export(
    db: Database,
    out: Path,
    *,
    fmt: str = "jsonl",
    scope: str = "hq",
    omit_sensitive: bool = False,
    filters: Filters | None = None,
    bom: bool = False,
    progress: Callable[[int], None] | None = None,
) -> AnalysisExport:
    """Write the matching records to `out` (atomically, 0600) and say how many.

    The records stream from one read snapshot (hq_query.received), one at a time into
    the temp file beside `out`: memory does not grow with HQ's archive, and an import or
    edit committed during the export does not show in it. The rename happens only when
    every row is written; on any failure the temp file is removed and `out` untouched.
    `progress(n)` is called after each record written."""
    identity.hq(db)
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}", hint="use jsonl or csv")
    if scope not in SCOPES:
        raise InvalidInput(f"unknown scope {scope!r}", hint="use hq, anonymised or named")
    filters = (filters or Filters()).checked()
    tally = hq_query.Tally()
    written = 0
    try:
        # closing(): the read transaction ends as soon as the writing stops, even on error.
        with (
            fsio.atomic_writer(out, mode=0o600) as raw,
            contextlib.closing(hq_query.received(db, filters, scope, tally)) as records,
        ):
            fh = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            if bom:
                fh.write(BOM)
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
            if fmt == "csv":
                writer.writeheader()
            for rec in records:
                row = {
                    "id": rec.id,
                    "version": rec.version,
                    "device": rec.device.hex() if rec.device else None,
                    "device_name": rec.device_name or None,
                    "record": _scoped(rec.doc, scope, omit_sensitive),
                }
                if fmt == "jsonl":
                    # UTF-8 as it is (ensure_ascii=False): Cyrillic stays readable;
                    # only terminal controls are written as \uNNNN (inert in a terminal).
                    line = json.dumps(row, ensure_ascii=False, sort_keys=True)
                    fh.write(text_rules.escape_json(line) + "\n")
                else:
                    kept = {i.get("id") for i in rec.incidents}
                    writer.writerows(_csv_rows(row, kept))
                written += 1
                if progress is not None:
                    progress(written)
            fh.flush()
            fh.detach()  # the atomic writer fsyncs and renames the underlying file
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot write {out}", exc) from None
    return AnalysisExport(out, written, tally.withheld)


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


def _csv_rows(r: dict[str, Any], kept: set[Any]) -> list[dict[str, Any]]:
    """One row per incident that matched the filters (a record without incidents gives
    one row). The narrative goes in the record's first row only."""
    doc = r["record"]
    interview = doc.get("interview") or {}
    consent = doc.get("consent") or {}
    base = {
        "record_id": r["id"],
        "version": r["version"],
        "pseudonym": doc.get("pseudonym", ""),
        "interview_date": interview.get("date") or "",
        "languages": LIST_SEPARATOR.join(interview.get("languages") or []),
        "risk": doc.get("risk", ""),
        "consent_scope": consent.get("scope", ""),
        "consent_obtained": _OBTAINED.get(consent.get("obtained"), "") if consent else "",
        "consent_method": consent.get("method", ""),
        "consent_obtained_on": consent.get("obtained_on") or "",
        "consent_obtained_by": consent.get("obtained_by", ""),
        "person_roles": " ".join(
            f"{p.get('id', '')}:{LIST_SEPARATOR.join(p.get('roles') or [])}"
            for p in doc.get("persons") or []
        ),
        "device_name": r["device_name"] or "",
        "device": r["device"] or "",
    }
    incidents = [i for i in doc.get("incidents") or [] if i.get("id") in kept]
    out: list[dict[str, Any]] = []
    for n, inc in enumerate(incidents or [None]):
        row = dict(base)
        if n == 0:
            row["narrative"] = doc.get("narrative", "")  # absent when the scope drops it
        if inc is not None:
            date = inc.get("date") or {}
            place = inc.get("place") or {}
            perp = inc.get("perpetrator") or {}
            legal = inc.get("legal") or {}
            fine = legal.get("fine") or {}
            row.update(
                {
                    "incident_id": inc.get("id", ""),
                    "incident_type": inc.get("type", ""),
                    "date_earliest": date.get("earliest", ""),
                    "date_latest": date.get("latest", ""),
                    "date_text": date.get("text", ""),
                    "country": place.get("country", ""),
                    "locality": place.get("locality", ""),
                    "actor_type": perp.get("actor_type", ""),
                    "perpetrator_country": perp.get("country", ""),
                    "unit": perp.get("unit", ""),
                    "charge": legal.get("charge", ""),
                    "court": legal.get("court", ""),
                    "outcome": legal.get("outcome", ""),
                    "fine_amount": fine.get("amount", ""),
                    "fine_currency": fine.get("currency", ""),
                    "expulsion": legal.get("expulsion", ""),
                    "victims": " ".join(inc.get("victims") or []),
                    "description": inc.get("description", ""),
                }
            )
        out.append({k: cell(v) for k, v in row.items()})
    return out


_BREAKS = re.compile("\r\n|[\t\r\n\x0b\x0c\x85\u2028\u2029]")


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell that shows it and does nothing else."""
    if not isinstance(value, str):
        return value
    # One line per row, whatever reads it: a line break or tab becomes a space, and
    # any other control character is escaped (formats/text.py).
    value = text_rules.escape(_BREAKS.sub(" ", value), keep_newlines=False)
    if len(value) > MAX_CELL:
        value = value[:MAX_CELL] + f" [cut: {len(value)} characters; JSON Lines has all]"
    # Spreadsheet formula injection: a cell whose text starts with = + - @ (after
    # spaces, which some spreadsheets skip; a tab or CR became a space above) is shown
    # as text. A validly signed bundle can carry anything (a stolen device key).
    if value.lstrip(" ")[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value

"""A received record as HQ reads it: sections of labelled fields instead of JSON.

`record_view` gathers a record, its attachments and the device that sent it;
`sections` lays them out (interview, persons, incidents, narrative, consent,
attachments), leaving empty fields out; `text_lines` renders the sections for a
terminal of a given width (the CLI's `hq show`). Every value is the device's text as it
is: the CLI escapes it (cli/context.py write_line) and the app shows it literally
(ui/text.py). `text_lines` escapes before wrapping, so an escape sequence counts for
the width it takes on screen.

Labels are English here (the core has no translations); the app passes each label
through its catalogue.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from fieldkit.formats import text as text_rules
from fieldkit.formats.cards import short_code
from fieldkit.msgids import N_
from fieldkit.services import model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import Record, RecordService
from fieldkit.store import bundles as bundle_store
from fieldkit.store import trust as trust_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.db import Database

SCOPE_LABELS = {
    "hq_only": "HQ only",
    "anonymised_publication": "anonymised publication",
    "named_publication": "named publication",
}


# consent.obtained: null means the fieldworker never recorded it (every schema-1 record).
OBTAINED_LABELS: dict[bool | None, str] = {
    True: "yes",
    False: "no",
    None: "not recorded",
}


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    multiline: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class RecordView:
    record: Record
    latest_version: int
    attachments: list[AttachmentRow]
    device_name: str | None
    device_code: str | None


def record_view(db: Database, record_id: str, version: int | None = None) -> RecordView:
    rs = RecordService(db)
    rec = rs.get(record_id, version)
    device = bundle_store.record_device(db, rec.id)
    row = trust_store.get_device(db, device) if device is not None else None
    return RecordView(
        rec,
        rs.summary(rec.id).version,
        AttachmentService(db).for_record(rec.id),
        row.name if row is not None else None,
        short_code(device) if device is not None else None,
    )


def sections(view: RecordView) -> list[Section]:
    """`view.record.doc` is schema 2 (RecordService.get upgrades a schema-1 version)."""
    rec, doc = view.record, view.record.doc
    out = [
        _section(
            N_("Record"),
            (N_("Id"), rec.id),
            (N_("Version"), f"{rec.version} of {view.latest_version}"),
            (N_("Pseudonym"), doc.get("pseudonym")),
            (N_("Status"), doc.get("status")),
            (N_("Risk"), doc.get("risk")),
            (N_("Tags"), ", ".join(doc.get("tags") or [])),
            (N_("Device"), _device(view)),
            (N_("Updated"), rec.updated_at),
        ),
        _section(
            N_("Interview"),
            (N_("Date"), (doc.get("interview") or {}).get("date")),
            (N_("Place"), (doc.get("interview") or {}).get("place")),
            (N_("Languages"), ", ".join((doc.get("interview") or {}).get("languages") or [])),
            (N_("Interviewer"), (doc.get("interview") or {}).get("interviewer")),
            (N_("Interpreter"), (doc.get("interview") or {}).get("interpreter")),
        ),
    ]
    for p in doc.get("persons") or []:
        out.append(_person(p))
    for inc in doc.get("incidents") or []:
        out.append(_incident(inc))
    out.append(Section(N_("Narrative"), (Field("", str(doc.get("narrative") or ""), True),)))
    c = doc.get("consent") or {}
    withdrawn = "no"
    if c.get("withdrawn"):
        withdrawn = f"yes, on {c['withdrawn_on']}" if c.get("withdrawn_on") else "yes"
    out.append(
        _section(
            N_("Consent"),
            (N_("Obtained"), OBTAINED_LABELS.get(c.get("obtained"), "not recorded")),
            (N_("Method"), c.get("method")),
            (N_("Obtained on"), c.get("obtained_on")),
            (N_("Obtained by"), c.get("obtained_by")),
            (N_("Scope"), SCOPE_LABELS.get(str(c.get("scope")), c.get("scope"))),
            (N_("Contact allowed"), "yes" if c.get("contact_allowed") else "no"),
            (N_("Withdrawn"), withdrawn),
            (N_("Notes"), c.get("notes"), True),
        )
    )
    atts = [
        Field(
            a.id,
            f"{a.filename}  {a.media_type}  {a.size} bytes  sha256 {a.sha256.hex()[:16]}"
            + (f"\n{a.description}" if a.description else ""),
            True,
        )
        for a in view.attachments
    ]
    out.append(Section(N_("Attachments"), tuple(atts) or (Field("", "none"),)))
    return [s for s in out if s.fields]


def _device(view: RecordView) -> str:
    if view.device_code is None:
        return "entered at HQ"
    return f"{view.device_name or 'unknown device'} ({view.device_code})"


def _section(title: str, *items: tuple[Any, ...]) -> Section:
    fields = []
    for item in items:
        label, value = item[0], item[1]
        multiline = len(item) > 2 and bool(item[2])
        if value is None or value == "":
            continue
        fields.append(Field(label, str(value), multiline))
    return Section(title, tuple(fields))


def _person(p: dict[str, Any]) -> Section:
    sens = p.get("sensitive") or {}
    return _section(
        f"Person {p.get('id', '')}: {', '.join(p.get('roles') or [])}",
        (N_("Pseudonym"), p.get("pseudonym")),
        (N_("Relationship"), p.get("relationship")),
        (N_("Related to"), p.get("related_to")),
        (N_("Gender"), p.get("gender")),
        (N_("Birth year"), p.get("birth_year")),
        (N_("Nationality"), p.get("nationality")),
        (N_("Real name (sensitive)"), sens.get("real_name")),
        (N_("Contacts (sensitive)"), sens.get("contacts"), True),
        (N_("Address (sensitive)"), sens.get("exact_address"), True),
    )


def date_text(d: dict[str, Any] | None) -> str:
    """An approximate date as a person reads it: '2026-04-01..2026-04-10 (early April)'."""
    if not d:
        return ""
    first, last = d.get("earliest") or "?", d.get("latest") or "?"
    span = first if first == last else f"{first}..{last}"
    return f"{span} ({d['text']})" if d.get("text") else span


def _incident(inc: dict[str, Any]) -> Section:
    itype = str(inc.get("type", ""))
    kind = model.INCIDENT_TYPES.get(itype, itype)
    if itype == "other" and inc.get("type_other"):
        kind = f"{kind}: {inc['type_other']}"
    place = inc.get("place") or {}
    perp = inc.get("perpetrator") or {}
    legal = inc.get("legal") or {}
    fine = legal.get("fine") or {}
    actor = model.ACTOR_TYPES.get(str(perp.get("actor_type", "")), perp.get("actor_type"))
    return _section(
        f"Incident {inc.get('id', '')}: {kind}",
        (N_("Date"), date_text(inc.get("date"))),
        (N_("Place"), ", ".join(x for x in (place.get("locality"), place.get("country")) if x)),
        (N_("Place detail"), place.get("detail"), True),
        (
            N_("Perpetrator"),
            ", ".join(x for x in (actor, perp.get("unit"), perp.get("country")) if x),
        ),
        (N_("Victims"), ", ".join(inc.get("victims") or [])),
        (N_("Description"), inc.get("description"), True),
        (N_("Charge"), legal.get("charge")),
        (N_("Court"), legal.get("court")),
        (N_("Case number"), legal.get("case_number")),
        (N_("Outcome"), legal.get("outcome"), True),
        (N_("Fine"), f"{fine.get('amount')} {fine.get('currency')}" if fine else ""),
        (N_("Expulsion"), "yes" if legal.get("expulsion") else ""),
    )


def text_lines(secs: list[Section], width: int = 80) -> list[str]:
    """The sections as lines of at most `width` columns (for a terminal), every value
    escaped first (formats/text.py), multi-line values keeping their paragraphs."""
    width = max(width, 40)
    out: list[str] = []
    for sec in secs:
        if out:
            out.append("")
        out.extend(textwrap.wrap(_one_line(sec.title), width) or [""])
        out.append("-" * min(width, max(len(_one_line(sec.title)), 8)))
        for f in sec.fields:
            label = _one_line(f.label)
            if f.multiline:
                if label:
                    out.append(f"{label}:")
                out.extend(_paragraphs(f.value, width, "  "))
            else:
                head = f"{label}: " if label else ""
                out.extend(
                    textwrap.wrap(
                        _one_line(f.value),
                        width,
                        initial_indent=head,
                        subsequent_indent="    ",
                        break_on_hyphens=False,
                    )
                    or [head.rstrip()]
                )
    return out


def _one_line(value: str) -> str:
    return text_rules.escape(value, keep_newlines=False)


def _paragraphs(value: str, width: int, indent: str) -> list[str]:
    lines: list[str] = []
    for para in value.split("\n"):
        shown = text_rules.escape(para.replace("\t", "    "), keep_newlines=False)
        lines.extend(
            textwrap.wrap(
                shown,
                width,
                initial_indent=indent,
                subsequent_indent=indent,
                break_on_hyphens=False,
                drop_whitespace=True,
            )
            or [""]
        )
    return lines

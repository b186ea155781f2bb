"""A received record as HQ reads it: sections of labelled fields instead of JSON.

`record_view` gathers a record, its attachments and the device that sent it;
`sections` lays them out (interview, persons, incidents, narrative, consent,
attachments), leaving empty fields out; `text_lines` renders the sections for a
terminal of a given width (the CLI's `hq show`). Every value is the device's text as it
is: the CLI escapes it (cli/context.py write_line) and the app shows it literally
(ui/text.py). `text_lines` escapes before wrapping, so an escape sequence counts for
the width it takes on screen.

Labels, titles and the words of ours among the values (yes/no, a role, an incident
type, "Version 2 of 3") are English msgids here, the core has no translations: a title or
such a value is `Words`, an msgid and the values it names, which the CLI and the app
render through their catalogue (`Words.text(_)`); `str()` gives the English.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fieldkit.errors import FieldkitError
from fieldkit.formats import text as text_rules
from fieldkit.formats.cards import short_code
from fieldkit.msgids import N_
from fieldkit.services import media, model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import Record, RecordService
from fieldkit.store import bundles as bundle_store
from fieldkit.store import trust as trust_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.db import Database

SCOPE_LABELS = {
    "hq_only": N_("HQ only"),
    "anonymised_publication": N_("anonymised publication"),
    "named_publication": N_("named publication"),
}

Translate = Callable[[str], str]


def _same(msgid: str) -> str:
    return msgid


@dataclass(frozen=True)
class Words:
    """Text of ours, not the device's: an English msgid and the values it names (by
    `{name}`); a value that is `Words` is translated too (a role inside a title). Values
    from the record are plain strings and are never parsed as templates."""

    msgid: str
    args: tuple[tuple[str, str | Words], ...] = ()

    def text(self, translate: Translate = _same) -> str:
        if not self.msgid:
            return ""  # gettext's "" is the catalogue's header
        shown = translate(self.msgid)
        if not self.args:
            return shown
        return shown.format(**{k: render(v, translate) for k, v in self.args})

    def __str__(self) -> str:
        return self.text()


def render(value: str | Words, translate: Translate = _same) -> str:
    """A title or value as the reader's language shows it (record text as it is)."""
    return value.text(translate) if isinstance(value, Words) else value


def _joined(parts: list[str | Words], sep: str = ", ") -> Words:
    """Parts joined by `sep`, each translated if it is ours (the template is no msgid:
    a catalogue gives it back unchanged)."""
    names = [f"p{i}" for i in range(len(parts))]
    template = sep.join("{" + n + "}" for n in names)
    return Words(template, tuple(zip(names, parts, strict=True)))


def _code(value: Any, known: Any) -> str | Words:
    """A vocabulary code as words to translate; anything else (a hostile or unknown
    value) stays literal text."""
    text = "" if value is None else str(value)
    return Words(text) if text in known else text


# consent.obtained: null means the fieldworker never recorded it (every schema-1 record).
OBTAINED_LABELS: dict[bool | None, str] = {
    True: N_("yes"),
    False: N_("no"),
    None: N_("not recorded"),
}
# "in writing", as the editor says: the msgid "written" means bytes written.
METHOD_LABELS = {"oral": N_("oral"), "written": N_("in writing")}


@dataclass(frozen=True)
class Field:
    label: str
    value: str | Words
    multiline: bool = False


@dataclass(frozen=True)
class Section:
    title: Words  # always ours: an msgid ("Record") or a template ("Person {id}: {role}")
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class RecordView:
    record: Record
    latest_version: int
    attachments: list[AttachmentRow]
    device_name: str | None
    device_code: str | None
    # Per attachment id: the identifying metadata its file carries (services/media.py).
    findings: dict[str, media.Findings] = field(default_factory=dict)


def record_view(db: Database, record_id: str, version: int | None = None) -> RecordView:
    rs = RecordService(db)
    rec = rs.get(record_id, version)
    device = bundle_store.record_device(db, rec.id)
    row = trust_store.get_device(db, device) if device is not None else None
    attachments = AttachmentService(db).for_record(rec.id)
    return RecordView(
        rec,
        rs.summary(rec.id).version,
        attachments,
        row.name if row is not None else None,
        short_code(device) if device is not None else None,
        {a.id: _findings(db, a) for a in attachments},
    )


def _findings(db: Database, row: AttachmentRow) -> media.Findings:
    """Read from the stored file each time (nothing about it is stored); a damaged
    stored file does not stop the record from being read (`history verify` reports it)."""
    try:
        return media.inspect_attachment(db, row)
    except FieldkitError as exc:
        return media.Findings(media.UNREADABLE, problem=exc.message)


def sections(view: RecordView) -> list[Section]:
    """`view.record.doc` is schema 2 (RecordService.get upgrades a schema-1 version)."""
    rec, doc = view.record, view.record.doc
    out = [
        _section(
            N_("Record"),
            (N_("Id"), rec.id),
            (
                N_("Version"),
                Words(
                    N_("{version} of {latest}"),
                    (("version", str(rec.version)), ("latest", str(view.latest_version))),
                ),
            ),
            (N_("Pseudonym"), doc.get("pseudonym")),
            (N_("Status"), _code(doc.get("status"), model.STATUSES)),
            (N_("Risk"), _code(doc.get("risk"), model.RISK_LEVELS)),
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
    narrative = (Field("", str(doc.get("narrative") or ""), True),)
    out.append(Section(Words(N_("Narrative")), narrative))
    c = doc.get("consent") or {}
    withdrawn = Words(N_("no"))
    if c.get("withdrawn"):
        withdrawn = (
            Words(N_("yes, on {date}"), (("date", str(c["withdrawn_on"])),))
            if c.get("withdrawn_on")
            else Words(N_("yes"))
        )
    scope = c.get("scope")
    method = c.get("method")
    out.append(
        _section(
            N_("Consent"),
            (N_("Obtained"), Words(OBTAINED_LABELS.get(c.get("obtained"), N_("not recorded")))),
            (N_("Method"), Words(METHOD_LABELS[method]) if method in METHOD_LABELS else method),
            (N_("Obtained on"), c.get("obtained_on")),
            (N_("Obtained by"), c.get("obtained_by")),
            (N_("Scope"), Words(SCOPE_LABELS[scope]) if scope in SCOPE_LABELS else scope),
            (N_("Contact allowed"), Words(N_("yes") if c.get("contact_allowed") else N_("no"))),
            (N_("Withdrawn"), withdrawn),
            (N_("Notes"), c.get("notes"), True),
        )
    )
    atts: list[Field] = []
    for a in view.attachments:
        atts.append(_attachment(a))
        atts += metadata_fields(view.findings.get(a.id))
    none = (Field("", Words(N_("none"))),)
    out.append(Section(Words(N_("Attachments")), tuple(atts) or none))
    return [s for s in out if s.fields]


METADATA = N_("Metadata")


def metadata_fields(found: media.Findings | None) -> list[Field]:
    """An attachment's identifying metadata, a field per finding (its label is the
    finding's N_() msgid); nothing for a file that is not media or carries none."""
    if found is None or found.status == media.NOT_MEDIA:
        return []
    if found.status == media.UNREADABLE:
        problem = Words(N_("could not be read ({problem})"), (("problem", found.problem),))
        return [Field(METADATA, problem)]
    out = [Field(f.label, f.value) for f in found.items]
    if found.more:
        out.append(Field(METADATA, Words(N_("{n} more"), (("n", str(found.more)),))))
    return out


def _attachment(a: AttachmentRow) -> Field:
    return Field(
        a.id,
        Words(
            N_("{name}  {type}  {size} B  sha256 {hash}"),
            (
                ("name", a.filename),
                ("type", a.media_type),
                ("size", str(a.size)),
                ("hash", a.sha256.hex()[:16]),
            ),
        )
        if not a.description
        else Words(
            N_("{name}  {type}  {size} B  sha256 {hash}\n{description}"),
            (
                ("name", a.filename),
                ("type", a.media_type),
                ("size", str(a.size)),
                ("hash", a.sha256.hex()[:16]),
                ("description", a.description),
            ),
        ),
        True,
    )


def _device(view: RecordView) -> Words:
    if view.device_code is None:
        return Words(N_("entered at HQ"))
    name: str | Words = view.device_name or Words(N_("unknown device"))
    return Words(N_("{name} ({code})"), (("name", name), ("code", view.device_code)))


def _section(title: str | Words, *items: tuple[Any, ...]) -> Section:
    fields = []
    for item in items:
        label, value = item[0], item[1]
        multiline = len(item) > 2 and bool(item[2])
        if value is None or value == "":
            continue
        fields.append(Field(label, value if isinstance(value, Words) else str(value), multiline))
    return Section(title if isinstance(title, Words) else Words(title), tuple(fields))


def _person(p: dict[str, Any]) -> Section:
    sens = p.get("sensitive") or {}
    return _section(
        Words(
            N_("Person {id}: {role}"),
            (
                ("id", str(p.get("id", ""))),
                ("role", _joined([_code(r, model.PERSON_ROLES) for r in p.get("roles") or []])),
            ),
        ),
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
    known = itype in model.INCIDENT_TYPES
    kind: str | Words = Words(model.INCIDENT_TYPES[itype]) if known else itype
    iid = str(inc.get("id", ""))
    if itype == "other" and inc.get("type_other"):
        title = Words(
            N_("Incident {id}: {kind}: {detail}"),
            (("id", iid), ("kind", kind), ("detail", str(inc["type_other"]))),
        )
    else:
        title = Words(N_("Incident {id}: {kind}"), (("id", iid), ("kind", kind)))
    place = inc.get("place") or {}
    perp = inc.get("perpetrator") or {}
    legal = inc.get("legal") or {}
    fine = legal.get("fine") or {}
    atype = str(perp.get("actor_type") or "")
    actor: str | Words = Words(model.ACTOR_TYPES[atype]) if atype in model.ACTOR_TYPES else atype
    perpetrator = [
        x if isinstance(x, Words) else str(x)
        for x in (actor, perp.get("unit"), perp.get("country"))
        if x
    ]
    return _section(
        title,
        (N_("Date"), date_text(inc.get("date"))),
        (N_("Place"), ", ".join(x for x in (place.get("locality"), place.get("country")) if x)),
        (N_("Place detail"), place.get("detail"), True),
        (N_("Perpetrator"), _joined(perpetrator) if perpetrator else ""),
        (N_("Victims"), ", ".join(inc.get("victims") or [])),
        (N_("Description"), inc.get("description"), True),
        (N_("Charge"), legal.get("charge")),
        (N_("Court"), legal.get("court")),
        (N_("Case number"), legal.get("case_number")),
        (N_("Outcome"), legal.get("outcome"), True),
        (N_("Fine"), f"{fine.get('amount')} {fine.get('currency')}" if fine else ""),
        (N_("Expulsion"), Words(N_("yes")) if legal.get("expulsion") else ""),
    )


def text_lines(
    secs: list[Section], width: int = 80, translate: Translate = _same
) -> list[str]:
    """The sections as lines of at most `width` columns (for a terminal), every value
    escaped first (formats/text.py), multi-line values keeping their paragraphs. Titles,
    labels and our words among the values go through `translate` (the CLI's `_`)."""
    width = max(width, 40)
    out: list[str] = []
    for sec in secs:
        if out:
            out.append("")
        title = _one_line(sec.title.text(translate))
        out.extend(textwrap.wrap(title, width) or [""])
        out.append("-" * min(width, max(len(title), 8)))
        for f in sec.fields:
            label = _one_line(translate(f.label)) if f.label else ""
            value = render(f.value, translate)
            if f.multiline:
                if label:
                    out.append(f"{label}:")
                out.extend(_paragraphs(value, width, "  "))
            else:
                head = f"{label}: " if label else ""
                out.extend(
                    textwrap.wrap(
                        _one_line(value),
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

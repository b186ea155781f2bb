"""The record editor's forms as data: one line per field of the record document.

Each `Field` says where its value lives in the document (`path`, relative to the record
or to one person or incident), how it is entered (`kind`), the label and help a person
reads (msgids marked with `N_`, translated where they are shown), whether it identifies
someone (`sensitive`), and the hint shown while it is empty. The app builds its widgets,
fills them from a document and reads them back from these tables alone
(fieldkit/ui/screens/editor_fields.py); the tests walk the same tables, so a new field is
one line here and is translated, validated and tested like every other.

Validation stays in model.py: a problem it reports names a document path
(``incidents[0].date.earliest``), and `field_for` finds the field that owns it.

No widgets here: the core (and the CLI) can read the tables without Textual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fieldkit.msgids import N_
from fieldkit.services import model

# ---- how a value is entered ---------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One line of text; the document holds the string as typed ("" when empty)."""


@dataclass(frozen=True)
class Year:
    """A whole year typed in digits; the document holds an int, or null when empty."""


@dataclass(frozen=True)
class Date:
    """An ISO date (YYYY-MM-DD) typed in; the document holds the string, or null."""


@dataclass(frozen=True)
class TextList:
    """Short words separated by commas; the document holds a list of strings."""


@dataclass(frozen=True)
class Choice:
    """One of a fixed list of codes: (code, label msgid) in the order shown."""

    options: tuple[tuple[str, str], ...]
    default: str


@dataclass(frozen=True)
class Ticks:
    """Several codes of a fixed list, each a tick box: (code, label msgid) in the order
    shown. The document keeps its own order (the first is the main one); a code ticked
    later goes to the end."""

    options: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class YesNo:
    """true, false, or null (not recorded yet), chosen from a list of three."""

    # (code, label msgid) as shown; YES_NO turns a code into the document's value.
    options: tuple[tuple[str, str], ...] = (
        ("", N_("not recorded")),
        ("yes", N_("yes")),
        ("no", N_("no")),
    )


YES_NO: dict[str, bool | None] = {"": None, "yes": True, "no": False}


@dataclass(frozen=True)
class Flag:
    """A tick box (true or false); the field's label is the box's own text."""


@dataclass(frozen=True)
class PersonRef:
    """Another person of the same record (their id), or null."""


@dataclass(frozen=True)
class PersonTicks:
    """A tick list of the record's persons; the document holds their ids in the
    order of the persons. `empty_hint` is shown while the record has no person."""

    empty_hint: str


@dataclass(frozen=True)
class ApproxDate:
    """An exact or approximate date (model.approx_date): a first line for the date or
    range, a second for the words the witness used."""

    words_label: str
    words_help: str
    words_placeholder: str


@dataclass(frozen=True)
class Money:
    """An amount and its currency, two lines; null in the document while both are empty."""

    currency_label: str
    currency_help: str
    currency_example: str


@dataclass(frozen=True)
class LongText:
    """Free text of many lines, the whole tab (the narrative)."""


Kind = (
    Text
    | Ticks
    | YesNo
    | Year
    | Date
    | TextList
    | Choice
    | Flag
    | PersonRef
    | PersonTicks
    | ApproxDate
    | Money
    | LongText
)


@dataclass(frozen=True)
class Field:
    id: str  # the widget's id; a kind with two lines adds the suffixes of `parts`
    path: tuple[str, ...]  # in the record, or in one person or incident
    label: str  # msgid
    kind: Kind
    help: str  # msgid: one sentence that says what goes here
    sensitive: bool = False  # identifies someone: marked with ⚠, kept from analysts
    placeholder: str = ""  # msgid: a hint shown while the field is empty
    example: str = ""  # a hint that is the same in every language (codes, formats)


@dataclass(frozen=True)
class Part:
    """One line of a field on the screen: its widget id, the part of the field's
    value it edits (`sub`, relative to the field's path) and what a person reads."""

    id: str
    sub: tuple[str, ...]
    label: str
    help: str
    placeholder: str
    example: str


def parts(field: Field) -> tuple[Part, ...]:
    """The lines a field takes on the screen, in order."""
    kind = field.kind
    first = Part(field.id, (), field.label, field.help, field.placeholder, field.example)
    if isinstance(kind, ApproxDate):
        words = Part(
            f"{field.id}-text", ("text",), kind.words_label, kind.words_help,
            kind.words_placeholder, "",
        )  # fmt: skip
        return first, words
    if isinstance(kind, Money):
        amount = Part(
            f"{field.id}-amount", ("amount",), field.label, field.help, field.placeholder,
            field.example,
        )  # fmt: skip
        currency = Part(
            f"{field.id}-currency", ("currency",), kind.currency_label, kind.currency_help,
            "", kind.currency_example,
        )  # fmt: skip
        return amount, currency
    return (first,)


@dataclass(frozen=True)
class Section:
    """The fields of one form. `items` names the list of the record the form edits one
    entry of ("persons", "incidents"), or is None for the record itself."""

    name: str
    tab: str  # the editor tab that shows it
    items: str | None
    fields: tuple[Field, ...]


def _codes(codes: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Vocabulary whose codes are their own msgids (roles, risk levels, statuses)."""
    return tuple((c, c) for c in codes)


# The same msgids as fieldkit.i18n.SCOPE_LABELS (the core does not import i18n).
_SCOPES = {
    "hq_only": N_("HQ only"),
    "anonymised_publication": N_("anonymised publication"),
    "named_publication": N_("named publication"),
}


def _labelled(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(labels.items())


# ---- the forms --------------------------------------------------------------------------

# fmt: off
INTERVIEW = Section("interview", "tab-interview", None, (
    Field("f-pseudonym", ("pseudonym",), N_("Pseudonym"), Text(),
          N_("A name for this testimony that does not identify anyone; required.")),
    Field("f-status", ("status",), N_("Status"), Choice(_codes(model.USER_STATUSES), "draft"),
          N_("Draft while you are writing it, complete when it is ready to send.")),
    Field("f-risk", ("risk",), N_("Risk"), Choice(_codes(model.RISK_LEVELS), "medium"),
          N_("How much harm the people in this record could come to if it were seen.")),
    Field("f-tags", ("tags",), N_("Tags"), TextList(),
          N_("Short words to find the record by, separated by commas."),
          placeholder=N_("comma separated")),
    Field("f-date", ("interview", "date"), N_("Interview date"), Date(),
          N_("The day of the interview, as year-month-day."), example="YYYY-MM-DD"),
    Field("f-place", ("interview", "place"), N_("Place"), Text(),
          N_("Where the interview took place: a town, not an address.")),
    Field("f-languages", ("interview", "languages"), N_("Languages"), TextList(),
          N_("The languages of the interview as codes, the main one first, e.g. ru, tg."),
          example="ru, tg, uz, en…"),
    Field("f-interviewer", ("interview", "interviewer"), N_("Interviewer"), Text(),
          N_("Who conducted the interview.")),
    Field("f-interpreter", ("interview", "interpreter"), N_("Interpreter"), Text(),
          N_("Who interpreted, if anyone did.")),
))

PERSONS = Section("persons", "tab-persons", "persons", (
    Field("p-roles", ("roles",), N_("Roles"), Ticks(_codes(model.PERSON_ROLES)),
          N_("What this person is in the testimony: one or more, the main one first.")),
    Field("p-pseudonym", ("pseudonym",), N_("Pseudonym"), Text(),
          N_("A name for this person that does not identify them.")),
    Field("p-relationship", ("relationship",), N_("Relationship"), Text(),
          N_("How a relative is related, e.g. mother; required for a relative."),
          placeholder=N_("e.g. mother")),
    Field("p-related", ("related_to",), N_("Relative of"), PersonRef(),
          N_("The person of this record this one is a relative of.")),
    Field("p-gender", ("gender",), N_("Gender"), Text(),
          N_("As the person describes themselves; may stay empty.")),
    Field("p-birth", ("birth_year",), N_("Birth year"), Year(),
          N_("A year between 1900 and 2100; may stay empty.")),
    Field("p-nationality", ("nationality",), N_("Nationality"), Text(),
          N_("A two-letter country code, e.g. TJ, UZ or RU."), example="TJ"),
    Field("p-real-name", ("sensitive", "real_name"), N_("Real name"), Text(),
          N_("The person's real name: identifying, kept from analysts on request."),
          sensitive=True),
    Field("p-contacts", ("sensitive", "contacts"), N_("Contacts"), Text(),
          N_("Phone, messenger or e-mail: identifying, kept from analysts on request."),
          sensitive=True),
    Field("p-address", ("sensitive", "exact_address"), N_("Exact address"), Text(),
          N_("Where the person can be found: identifying, kept from analysts on request."),
          sensitive=True),
))

INCIDENTS = Section("incidents", "tab-incidents", "incidents", (
    Field("i-type", ("type",), N_("Type"),
          Choice(_labelled(model.INCIDENT_TYPES), "arbitrary_detention"),
          N_("The kind of incident.")),
    Field("i-type-other", ("type_other",), N_("If other"), Text(),
          N_("What kind of incident it was, when its type is Other.")),
    Field("i-victims", ("victims",), N_("Victims"),
          PersonTicks(N_("Add the persons on the Persons tab, then tick the victims here.")),
          N_("Tick the persons of this record it happened to.")),
    Field("i-date", ("date",), N_("Date"),
          ApproxDate(N_("Date as said"), N_("The date in the witness's own words."),
                     N_("e.g. early April")),
          N_("A day, a month, a year, or a range of two days with .. between them."),
          placeholder=N_("2026-04-02, 2026-04, or 2026-04-01..2026-04-10")),
    Field("i-country", ("place", "country"), N_("Country"), Text(),
          N_("A two-letter code of the country where it happened."), example="RU"),
    Field("i-locality", ("place", "locality"), N_("Locality"), Text(),
          N_("The town or village where it happened.")),
    Field("i-detail", ("place", "detail"), N_("Place detail"), Text(),
          N_("More about the place, e.g. a police station or a market.")),
    Field("i-actor", ("perpetrator", "actor_type"), N_("Perpetrator"),
          Choice(_labelled(model.ACTOR_TYPES), "unknown"),
          N_("Who did it.")),
    Field("i-perp-country", ("perpetrator", "country"), N_("Their country"), Text(),
          N_("A two-letter code of the country the perpetrator acts for.")),
    Field("i-unit", ("perpetrator", "unit"), N_("Unit"), Text(),
          N_("Their unit, department or office, if known.")),
    Field("i-description", ("description",), N_("Description"), Text(),
          N_("What happened, in a few words.")),
    Field("i-charge", ("legal", "charge"), N_("Charge"), Text(),
          N_("The charge or the article of the law, if any.")),
    Field("i-court", ("legal", "court"), N_("Court"), Text(),
          N_("The court that heard the case, if any.")),
    Field("i-case", ("legal", "case_number"), N_("Case number"), Text(),
          N_("The number of the case, as written on its papers.")),
    Field("i-outcome", ("legal", "outcome"), N_("Outcome"), Text(),
          N_("How the case ended so far, e.g. a fine or an expulsion order.")),
    Field("i-fine", ("legal", "fine"), N_("Fine amount"),
          Money(N_("Fine currency"), N_("A three-letter currency code, e.g. RUB or TJS."),
                "RUB"),
          N_("The amount of a fine in digits, e.g. 5000 or 5000.50.")),
    Field("i-expulsion", ("legal", "expulsion"), N_("Expulsion ordered"), Flag(),
          N_("Tick it if an expulsion or deportation was ordered.")),
))

CONSENT = Section("consent", "tab-consent", None, (
    Field("f-obtained", ("consent", "obtained"), N_("Obtained"), YesNo(),
          N_("Whether the person gave their consent; a record without it is held back.")),
    Field("f-method", ("consent", "method"), N_("Method"),
          Choice((("", N_("not said")), ("oral", N_("oral")), ("written", N_("in writing"))), ""),
          N_("Oral or in writing; required when consent was obtained.")),
    Field("f-obtained-on", ("consent", "obtained_on"), N_("Obtained on"), Date(),
          N_("The day consent was obtained, as year-month-day."), example="YYYY-MM-DD"),
    Field("f-obtained-by", ("consent", "obtained_by"), N_("Obtained by"), Text(),
          N_("Who took the consent, e.g. your fieldworker name.")),
    Field("f-scope", ("consent", "scope"), N_("Scope"),
          Choice(_labelled(_SCOPES), "hq_only"),
          N_("What the person agreed this testimony may be used for.")),
    Field("f-contact", ("consent", "contact_allowed"), N_("Contact allowed"), Flag(),
          N_("Tick it if HQ may contact the person again.")),
    Field("f-withdrawn", ("consent", "withdrawn"), N_("Consent withdrawn"), Flag(),
          N_("Tick it if the person has withdrawn their consent.")),
    Field("f-withdrawn-on", ("consent", "withdrawn_on"), N_("Withdrawn on"), Date(),
          N_("The day consent was withdrawn, as year-month-day."), example="YYYY-MM-DD"),
    Field("f-consent-notes", ("consent", "notes"), N_("Notes"), Text(),
          N_("Anything else about consent, e.g. conditions the person set.")),
))

NARRATIVE = Section("narrative", "tab-narrative", None, (
    Field("f-narrative", ("narrative",), N_("Narrative"), LongText(),
          N_("The testimony, as far as possible in the person's own words.")),
))
# fmt: on

SECTIONS: tuple[Section, ...] = (INTERVIEW, PERSONS, INCIDENTS, CONSENT, NARRATIVE)


# ---- problems from validation -> fields ----------------------------------------------

_INDEX = re.compile(r"\[\d+\]")


def _steps(path: str) -> tuple[str, ...]:
    """'victims[2]' -> ('victims',); 'date.earliest' -> ('date', 'earliest')."""
    return tuple(_INDEX.sub("", step) for step in path.split(".") if step)


def field_for(section: Section, path: str) -> tuple[Field, Part] | None:
    """The field line that shows a problem at `path` (relative to the section's record
    or item): the one whose path is the longest prefix of it, or None."""
    steps = _steps(path)
    best: tuple[Field, Part] | None = None
    best_len = 0
    for field in section.fields:
        for part in parts(field):
            full = field.path + part.sub
            if steps[: len(full)] == full and len(full) > best_len:
                best, best_len = (field, part), len(full)
    return best


def section_of(path: str) -> Section | None:
    """The section a problem of the whole record belongs to: 'persons[0].role' ->
    PERSONS, 'consent.scope' -> CONSENT, 'record' -> None."""
    first = _steps(path)[:1]
    for section in SECTIONS:
        if section.items is not None and first == (section.items,):
            return section
        if section.items is None and any(f.path[:1] == first for f in section.fields):
            return section
    return None


def error_id(section: Section, field: Field, part: Part) -> str:
    """The id of the line under a field where its validation problem is shown."""
    prefix = {"persons": "e-p-", "incidents": "e-i-"}.get(section.items or "", "e-")
    return prefix + re.sub(r"[^a-z0-9]+", "-", ".".join(field.path + part.sub).lower()).strip("-")

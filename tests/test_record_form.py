"""The editor's forms as data (fieldkit/services/record_form.py), checked field by field:
every field of the record document has exactly one line, every line has a label and a
help sentence the catalogues carry, and every problem validation can report about a
field is shown on that field's line. No Textual here (the UI half is
tests/test_ui_editor_fields.py)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from fieldkit.errors import InvalidInput
from fieldkit.services import model
from fieldkit.services import record_form as rf
from fieldkit.ui.screens import editor_form as form

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "fieldkit" / "locale"
FIELDS = [(s, f) for s in rf.SECTIONS for f in s.fields]
PARTS = [(s, f, p) for s, f in FIELDS for p in rf.parts(f)]


def _name(x: Any) -> str:
    return getattr(x, "id", "") or getattr(x, "name", "")


def _leaves(d: dict[str, Any], owned: set[tuple[str, ...]], at: tuple[str, ...] = ()) -> set:
    """Paths of `d` down to the first one a field owns, or to a value that is no object."""
    out: set[tuple[str, ...]] = set()
    for key, value in d.items():
        path = (*at, key)
        if path not in owned and isinstance(value, dict):
            out |= _leaves(value, owned, path)
        else:
            out.add(path)
    return out


@pytest.mark.parametrize(
    "items,blank",
    [
        (None, form.blank_record()),
        ("persons", form.blank_person(1)),
        ("incidents", form.blank_incident(1)),
    ],
)
def test_every_field_of_the_document_has_exactly_one_line(items: str | None, blank: dict) -> None:
    owned = [f.path for s in rf.SECTIONS if s.items == items for f in s.fields]
    assert len(owned) == len(set(owned)), "two lines edit the same field"
    # Ids are given when an item is added; the schema and the lists are the editor's own.
    not_fields = {("id",), ("schema",), ("persons",), ("incidents",)}
    assert _leaves(blank, set(owned)) - not_fields == set(owned)


def test_widget_and_error_ids_are_unique() -> None:
    ids = [p.id for _s, _f, p in PARTS]
    errors = [rf.error_id(s, f, p) for s, f, p in PARTS]
    assert len(ids) == len(set(ids))
    assert len(errors) == len(set(errors))
    assert not set(ids) & set(errors)


@pytest.mark.parametrize("section,field,part", PARTS, ids=lambda x: _name(x))
def test_every_line_has_a_label_and_a_help_sentence(
    section: rf.Section, field: rf.Field, part: rf.Part
) -> None:
    assert part.label.strip() and part.label == part.label.strip()
    assert part.help[:1].isupper() and part.help.endswith("."), part.help
    assert not (part.placeholder and part.example), "a hint is translated or not, not both"


def test_every_label_help_and_hint_is_marked_for_translation() -> None:
    """The strings are literals under N_, so `make pot` collects every one of them."""
    with open(ROOT / "fieldkit" / "services" / "record_form.py", "rb") as fh:
        marked = {m[1] for m in extract_from_file("python", fh.name) if isinstance(m[1], str)}
    wanted = {
        s
        for _s, f, p in PARTS
        for s in (p.label, p.help, p.placeholder, getattr(f.kind, "empty_hint", ""))
        if s
    }
    # (Choices are model.py's vocabulary, marked there: test_i18n.py checks them.)
    assert not wanted - marked


def _translations(lang: str) -> dict[str, str]:
    with open(LOCALE / lang / "LC_MESSAGES" / "fieldkit.po", "rb") as fh:
        return {m.id: m.string for m in read_po(fh) if isinstance(m.id, str) and m.id}


@pytest.mark.parametrize("lang", ["ru", "tg"])
def test_every_label_and_choice_is_translated(lang: str) -> None:
    """(Fails for new labels until the lead translates them after a merge.)"""
    catalogue = _translations(lang)
    labels = {p.label for _s, _f, p in PARTS} | {
        label for _s, f in FIELDS for _c, label in getattr(f.kind, "options", ())
    }
    labels |= {p.placeholder for _s, _f, p in PARTS if p.placeholder}
    missing = [x for x in sorted(labels) if not catalogue.get(x)]
    assert not missing, f"{len(missing)} untranslated: {missing}"


@pytest.mark.parametrize("lang", ["ru", "tg"])
def test_every_help_sentence_is_translated(lang: str) -> None:
    """New help sentences are translated by the lead after a merge (docs/i18n.md): until
    then this names the ones missing."""
    catalogue = _translations(lang)
    missing = sorted({p.help for _s, _f, p in PARTS if not catalogue.get(p.help)})
    assert not missing, missing


def test_sensitive_fields_are_exactly_the_identifying_ones() -> None:
    sensitive = {f.path for _s, f in FIELDS if f.sensitive}
    assert sensitive == {("sensitive", name) for name in model.SENSITIVE_PERSON_FIELDS}


# ---- every problem lands on its field ------------------------------------------------------

# A wrong value for each kind of field, one that validation must refuse.
WRONG: dict[type, Any] = {
    rf.Text: 7,
    rf.Year: "1894",
    rf.Date: "14.05.2026",
    rf.TextList: "one, two",
    rf.Choice: "no-such-code",
    rf.Ticks: ["no-such-code"],
    rf.YesNo: "maybe",
    rf.Flag: "yes",
    rf.PersonRef: "p99",
    rf.PersonTicks: ["p99"],
    rf.ApproxDate: "spring",
    rf.Money: {"amount": "lots", "currency": "roubles"},
    rf.LongText: 7,
}


def _wrong_document() -> dict[str, Any]:
    doc = model.template()
    for section, field in FIELDS:
        targets = [doc] if section.items is None else doc[section.items]
        for item in targets:
            place = item
            for key in field.path[:-1]:
                place = place.setdefault(key, {})
            place[field.path[-1]] = copy.deepcopy(WRONG[type(field.kind)])
    return doc


def _problems() -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        model.validate(_wrong_document())
    return caught.value.problems or []


def test_every_problem_validation_finds_lands_on_a_field() -> None:
    for path, problem in _problems():
        kind, _index, sub = form.locate(path)
        section = rf.section_of(path)
        assert section is not None, (path, problem)
        assert rf.field_for(section, sub if kind else path) is not None, (path, problem)


def test_every_field_can_be_refused_and_shows_why_on_its_own_line() -> None:
    hit: set[str] = set()
    for path, _problem in _problems():
        kind, _index, sub = form.locate(path)
        section = rf.section_of(path)
        assert section is not None
        found = rf.field_for(section, sub if kind else path)
        if found is not None:
            hit.add(found[0].id)
    assert hit == {f.id for _s, f in FIELDS}


def test_a_problem_goes_to_the_longest_matching_line() -> None:
    found = rf.field_for(rf.INCIDENTS, "date.text")
    assert found is not None and found[1].id == "i-date-text"
    found = rf.field_for(rf.INCIDENTS, "date.earliest")
    assert found is not None and found[1].id == "i-date"
    found = rf.field_for(rf.INCIDENTS, "victims[3]")
    assert found is not None and found[0].id == "i-victims"
    assert rf.field_for(rf.INTERVIEW, "interview") is None
    assert rf.section_of("record") is None
    assert rf.section_of("consent.withdrawn_on") is rf.CONSENT

"""Widgets for the record editor's forms, built from the tables in
fieldkit/services/record_form.py.

Three functions do all the work for every field, whatever its kind:
- `compose_section` builds a form's widgets (a labelled row and an error line per part);
- `write` puts a field's value from the document into its widgets;
- `read` takes it back from what the widgets show now.

`read` looks only at the widgets' current state, never at the value a Changed message
carried: a message can arrive after the form was filled (a Select posts its default when
it mounts), and a stale value must not overwrite what the record says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rich.text import Text as RichText
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, SelectionList, Static, TextArea
from textual.widgets.selection_list import Selection

from fieldkit.services import record_form as rf
from fieldkit.ui.i18n import _
from fieldkit.ui.screens import editor_form as form
from fieldkit.ui.text import SAFE_INPUT, SafeTextArea, literal
from fieldkit.ui.widgets import MarkedCheckbox, MarkedSelectionList

# `read` returns this when the widgets hold no value the document can take (a Select
# with nothing chosen): the document keeps what it has.
KEEP: Any = object()
# Every message a field's widget posts when a person changes it.
CHANGED = (
    Input.Changed,
    Select.Changed,
    Checkbox.Changed,
    SelectionList.SelectedChanged,
    TextArea.Changed,
)


def person_label(p: dict[str, Any]) -> RichText:
    """'p1: K-7 (informant, victim)': the id, the pseudonym and every role."""
    roles = ", ".join(_(r) for r in p.get("roles") or [] if isinstance(r, str) and r)
    return literal(f"{p.get('id')}: {p.get('pseudonym') or '—'} ({roles})")


def owners() -> dict[str, tuple[rf.Section, rf.Field]]:
    """Widget id -> the section and field it belongs to, for every part of every field."""
    return {
        part.id: (section, field)
        for section in rf.SECTIONS
        for field in section.fields
        for part in rf.parts(field)
    }


# ---- building ---------------------------------------------------------------------------


def compose_section(section: rf.Section) -> ComposeResult:
    """A form's widgets in the table's order. Identifying fields come under a heading
    that says so, and their labels carry ⚠."""
    heading = False
    for field in section.fields:
        if field.sensitive and not heading:
            heading = True
            yield Static(
                _("Sensitive: identifying details, kept from analysts on request"),
                classes="sensitive section",
            )
        yield from _compose_field(section, field)


def _compose_field(section: rf.Section, field: rf.Field) -> Iterator[Widget]:
    kind = field.kind
    for part in rf.parts(field):
        widget = _widget(kind, part)
        widget.tooltip = Content(_(part.help))
        error = Static("", id=rf.error_id(section, field, part), classes="field-error")
        if isinstance(kind, rf.Flag | rf.LongText):  # the box carries its own label
            yield widget
            yield error
            continue
        label = ("⚠ " if field.sensitive else "") + _(part.label)
        with Horizontal(classes="form-row"):
            yield Label(label, classes="sensitive" if field.sensitive else "")
            yield widget
        yield error
        if isinstance(kind, rf.PersonTicks):
            yield Static(_(kind.empty_hint), id=f"{part.id}-none", classes="muted hint")


def _widget(kind: rf.Kind, part: rf.Part) -> Widget:
    if isinstance(kind, rf.Choice):
        options = [(_(label), code) for code, label in kind.options]
        return Select(options, compact=True, id=part.id, allow_blank=False, value=kind.default)
    if isinstance(kind, rf.PersonRef):
        return Select[str]([], compact=True, id=part.id, prompt="—")
    if isinstance(kind, rf.PersonTicks):
        return MarkedSelectionList(id=part.id)
    if isinstance(kind, rf.Ticks):
        ticks = (Selection(_(label), code, False) for code, label in kind.options)
        return MarkedSelectionList(*ticks, id=part.id)
    if isinstance(kind, rf.YesNo):
        options = [(_(label), code) for code, label in kind.options]
        return Select(options, compact=True, id=part.id, allow_blank=False, value="")
    if isinstance(kind, rf.Flag):
        return MarkedCheckbox(_(part.label), compact=True, id=part.id)
    if isinstance(kind, rf.LongText):
        return SafeTextArea(id=part.id, soft_wrap=True, show_line_numbers=False)
    return Input(
        compact=True,
        placeholder=_(part.placeholder) if part.placeholder else part.example,
        id=part.id,
        type="integer" if isinstance(kind, rf.Year) else "text",
        highlighter=SAFE_INPUT,
    )


# ---- document -> widgets -----------------------------------------------------------------


def get(d: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        d = d.get(key) if isinstance(d, dict) else None
    return d


def put(d: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        d = d.setdefault(key, {})
    d[path[-1]] = value


def write_section(
    screen: Screen[Any], section: rf.Section, item: dict[str, Any], doc: dict[str, Any]
) -> None:
    """Show `item` (the record, or one of its persons or incidents) in a form."""
    with screen.prevent(*CHANGED):
        for field in section.fields:
            write(screen, field, item, doc)


def write(screen: Screen[Any], field: rf.Field, item: dict[str, Any], doc: dict[str, Any]) -> None:
    kind, value = field.kind, get(item, field.path)
    ids = [part.id for part in rf.parts(field)]
    if isinstance(kind, rf.Choice):
        if value is not None:
            screen.query_one(f"#{ids[0]}", Select).value = value
    elif isinstance(kind, rf.YesNo):
        code = next((c for c, v in rf.YES_NO.items() if v is value), "")
        screen.query_one(f"#{ids[0]}", Select).value = code
    elif isinstance(kind, rf.Ticks):
        # Ticked in the document's order, so `selected` keeps it.
        ticks = screen.query_one(f"#{ids[0]}", MarkedSelectionList)
        known = {code for code, _label in kind.options}
        with screen.prevent(SelectionList.SelectedChanged):
            ticks.deselect_all()
            for code in value or []:
                if code in known:
                    ticks.select(code)
    elif isinstance(kind, rf.Flag):
        screen.query_one(f"#{ids[0]}", Checkbox).value = bool(value)
    elif isinstance(kind, rf.LongText):
        screen.query_one(f"#{ids[0]}", TextArea).text = value or ""
    elif isinstance(kind, rf.TextList):
        _set_input(screen, ids[0], ", ".join(value or []))
    elif isinstance(kind, rf.ApproxDate):
        for wid, text in zip(ids, form.date_to_input(value), strict=True):
            _set_input(screen, wid, text)
    elif isinstance(kind, rf.Money):
        fine = value or {}
        _set_input(screen, ids[0], fine.get("amount", ""))
        _set_input(screen, ids[1], fine.get("currency", ""))
    elif isinstance(kind, rf.PersonRef):
        chooser = screen.query_one(f"#{ids[0]}", Select)
        others = [o for o in doc["persons"] if o is not item and o.get("id")]
        chooser.set_options((person_label(o), str(o["id"])) for o in others)
        if any(o["id"] == value for o in others):
            chooser.value = value
        else:
            chooser.clear()
    elif isinstance(kind, rf.PersonTicks):
        _write_ticks(screen, ids[0], set(value or []), doc)
    else:
        _set_input(screen, ids[0], value)


def _set_input(screen: Screen[Any], wid: str, value: Any) -> None:
    screen.query_one(f"#{wid}", Input).value = "" if value is None else str(value)


def _write_ticks(screen: Screen[Any], wid: str, ticked: set[str], doc: dict[str, Any]) -> None:
    """One tick box per person of the record, the cursor kept where it was."""
    persons = [p for p in doc["persons"] if p.get("id")]
    chooser = screen.query_one(f"#{wid}", MarkedSelectionList)
    highlighted = chooser.highlighted
    with screen.prevent(SelectionList.SelectedChanged):
        chooser.clear_options()
        chooser.add_options(
            Selection(person_label(p), str(p["id"]), p["id"] in ticked) for p in persons
        )
    if persons:  # the cursor on a person, so Space ticks one at once
        keep = highlighted is not None and highlighted < len(persons)
        chooser.highlighted = highlighted if keep else 0
    chooser.display = bool(persons)
    screen.query_one(f"#{wid}-none").display = not persons


# ---- widgets -> document -----------------------------------------------------------------


def read(screen: Screen[Any], field: rf.Field, doc: dict[str, Any], item: dict[str, Any]) -> Any:
    """The value the field's widgets show now, as the document holds it (or KEEP).
    `item` (the record, or the person or incident shown) gives the order of a tick list."""
    kind = field.kind
    ids = [part.id for part in rf.parts(field)]
    if isinstance(kind, rf.YesNo):
        code = screen.query_one(f"#{ids[0]}", Select).value
        return rf.YES_NO[code] if isinstance(code, str) and code in rf.YES_NO else KEEP
    if isinstance(kind, rf.Ticks):
        ticked = list(screen.query_one(f"#{ids[0]}", MarkedSelectionList).selected)
        kept = [c for c in get(item, field.path) or [] if c in ticked]
        return kept + [c for c in ticked if c not in kept]
    if isinstance(kind, rf.Choice):
        value = screen.query_one(f"#{ids[0]}", Select).value
        return value if isinstance(value, str) else KEEP
    if isinstance(kind, rf.PersonRef):
        value = screen.query_one(f"#{ids[0]}", Select).value
        return value if isinstance(value, str) else None
    if isinstance(kind, rf.Flag):
        return screen.query_one(f"#{ids[0]}", Checkbox).value
    if isinstance(kind, rf.LongText):
        return screen.query_one(f"#{ids[0]}", TextArea).text
    if isinstance(kind, rf.PersonTicks):
        chosen = set(screen.query_one(f"#{ids[0]}", MarkedSelectionList).selected)
        return [p["id"] for p in doc["persons"] if p.get("id") in chosen]
    texts = [screen.query_one(f"#{wid}", Input).value for wid in ids]
    if isinstance(kind, rf.ApproxDate):
        return form.date_from_input(texts[0], texts[1])
    if isinstance(kind, rf.Money):
        amount, currency = (t.strip() for t in texts)
        return {"amount": amount, "currency": currency} if amount or currency else None
    if isinstance(kind, rf.TextList):
        return form.split_list(texts[0])
    if isinstance(kind, rf.Year):
        text = texts[0].strip()
        return int(text) if re.fullmatch(r"-?\d{1,9}", text) else None
    if isinstance(kind, rf.Date):
        return texts[0] or None
    return texts[0]

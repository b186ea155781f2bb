"""The editor's forms, every field the same way (issue 10, part 2: forms as data). Each
test walks the tables of fieldkit/services/record_form.py, so a new line there is
covered without a new test: the document shown in the widgets reads back unchanged,
a change in any widget reaches the document, identifying fields are marked, every field
carries its help, every validation problem is shown on its own line, and text from the
record is shown literally."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Label, OptionList, SelectionList

from fieldkit.services import model
from fieldkit.services import record_form as rf
from fieldkit.services.drafts import DraftService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.i18n import _
from fieldkit.ui.screens import editor_fields as fields
from fieldkit.ui.screens import editor_form as form
from fieldkit.ui.screens.editor import EditorScreen
from fieldkit.ui.screens.records import RecordsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.test_record_form import _problems
from tests.ui_helpers import make_app, screen_text, type_into, wait_for

MARKUP = "[bold red]K-7[/]"


def full_record() -> dict[str, Any]:
    """model.template() with every empty text filled, some of it looking like markup."""
    doc = model.template()
    doc["interview"]["interpreter"] = "[i]Interp[/i] 1"
    doc["persons"][0]["pseudonym"] = MARKUP
    for n, person in enumerate(doc["persons"]):
        person["sensitive"] = {
            "real_name": f"Имя [b]{n}[/b]",
            "contacts": f"+7 900 000-00-0{n}",
            "exact_address": f"ул. Ленина, {n}",
        }
        person["relationship"] = person["relationship"] or "self"
    for inc in doc["incidents"]:
        inc["type_other"] = inc["type_other"] or "[link=x]other[/link]"
        inc["perpetrator"]["unit"] = "Unit [7]"
        inc["legal"]["case_number"] = "5-123/2026"
    doc["consent"]["notes"] = "Agreed [orally]"
    return doc


async def open_record(tmp_path: Path, doc: dict[str, Any]) -> tuple[FieldkitApp, str]:
    v = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0]
    rid = RecordService(v.db).add(doc)
    v.lock()
    return make_app(tmp_path / "vault", tmp_path), rid


async def to_editor(pilot: Pilot[None], app: FieldkitApp) -> EditorScreen:
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
    app.screen.query_one("#table").focus()
    await pilot.pause()
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
    await pilot.pause()
    assert isinstance(app.screen, EditorScreen)
    return app.screen


def shown_items(editor: EditorScreen, section: rf.Section) -> list[int | None]:
    return [None] if section.items is None else list(range(len(editor.doc[section.items])))


async def show(pilot: Pilot[None], editor: EditorScreen, section: rf.Section, i: int | None):  # type: ignore[no-untyped-def]
    """Show one person or incident (as the side list does) and return what the form edits."""
    if section.items == "persons":
        editor.query_one("#persons", OptionList).highlighted = i
    elif section.items == "incidents":
        editor.query_one("#incidents", OptionList).highlighted = i
    await pilot.pause()
    return editor.doc if i is None else editor.doc[section.items][i]  # type: ignore[index]


async def test_every_field_reads_back_what_it_was_given(tmp_path: Path) -> None:
    app, rid = await open_record(tmp_path, full_record())
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await to_editor(pilot, app)
        assert app.vault is not None
        stored = RecordService(app.vault.db).get(rid).doc
        for section in rf.SECTIONS:
            for i in shown_items(editor, section):
                item = await show(pilot, editor, section, i)
                for field in section.fields:
                    got = fields.read(editor, field, editor.doc, item)
                    assert got == fields.get(item, field.path), (field.id, i)
        assert editor.doc == stored
        assert not editor.dirty


def _another(field: rf.Field, value: Any, doc: dict[str, Any], item: dict[str, Any]) -> Any:
    """A value of the field's kind that differs from `value`."""
    kind = field.kind
    if isinstance(kind, rf.Choice | rf.YesNo):
        codes = [code for code, _label in reversed(kind.options)]
        if isinstance(kind, rf.YesNo):
            return next(rf.YES_NO[c] for c in codes if rf.YES_NO[c] is not value)
        return next(code for code in codes if code != value)
    if isinstance(kind, rf.Ticks):  # every box ticked: the new ones after the old
        return [*value, *(code for code, _label in kind.options if code not in value)]
    if isinstance(kind, rf.Flag):
        return not value
    if isinstance(kind, rf.Year):
        return 1981
    if isinstance(kind, rf.Date):
        return "2026-01-02"
    if isinstance(kind, rf.TextList):
        return ["new", "tags"]
    if isinstance(kind, rf.PersonRef):
        others = [p["id"] for p in doc["persons"] if p is not item and p["id"] != value]
        return others[0] if others else None
    if isinstance(kind, rf.PersonTicks):
        return [p["id"] for p in doc["persons"]]
    if isinstance(kind, rf.ApproxDate):
        return {"earliest": "2026-03-01", "latest": "2026-03-31", "text": "in March"}
    if isinstance(kind, rf.Money):
        return {"amount": "100", "currency": "TJS"}
    return f"new {field.id} [b]x[/b]"


async def test_a_change_in_any_field_reaches_the_document(tmp_path: Path) -> None:
    app, _rid = await open_record(tmp_path, full_record())
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await to_editor(pilot, app)
        for section in rf.SECTIONS:
            for i in shown_items(editor, section):
                item = await show(pilot, editor, section, i)
                for field in section.fields:
                    new = _another(field, fields.get(item, field.path), editor.doc, item)
                    assert new != fields.get(item, field.path)
                    changed = copy.deepcopy(item)
                    fields.put(changed, field.path, new)
                    # The widgets are set as a person would: each posts its Changed message
                    # (a tick list is refilled without one, so its boxes are ticked here).
                    if isinstance(field.kind, rf.PersonTicks | rf.Ticks):
                        editor.query_one(f"#{field.id}", SelectionList).select_all()
                    else:
                        fields.write(editor, field, changed, editor.doc)
                    await pilot.pause()
                    assert fields.get(item, field.path) == new, (field.id, i)
        # Every change is kept: the draft in the vault is what the form holds.
        assert editor.autosave()
        draft = DraftService(editor.db).get(editor.draft_id)
        assert draft is not None and draft.doc == editor.doc


async def test_identifying_fields_are_marked_and_every_field_has_its_help(tmp_path: Path) -> None:
    app, _rid = await open_record(tmp_path, full_record())
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await to_editor(pilot, app)
        for section in rf.SECTIONS:
            for field in section.fields:
                for part in rf.parts(field):
                    widget = editor.query_one(f"#{part.id}")
                    tooltip = widget.tooltip
                    assert tooltip is not None and str(tooltip) == _(part.help)
                    labels = list(widget.parent.query(Label)) if widget.parent else []
                    if isinstance(field.kind, rf.Flag | rf.LongText):
                        assert not field.sensitive  # no row label to mark
                        continue
                    label = labels[0]
                    text = str(label.render())
                    assert text.startswith("⚠ ") == field.sensitive, part.id
                    assert label.has_class("sensitive") == field.sensitive, part.id
                    assert text.endswith(_(part.label))


async def test_every_problem_is_shown_on_its_fields_line(tmp_path: Path) -> None:
    app, _rid = await open_record(tmp_path, full_record())
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await to_editor(pilot, app)
        # The first person and incident are shown; their problems and the record's.
        problems = [
            (path, problem) for path, problem in _problems() if form.locate(path)[1] in (None, 0)
        ]
        editor.show_problems(problems)
        await pilot.pause()
        shown = {w.id for w in editor.query(".field-error") if w.has_class("shown") and w.id}
        for section in rf.SECTIONS:
            for field in section.fields:
                ids = {rf.error_id(section, field, part) for part in rf.parts(field)}
                assert ids & shown, field.id


async def test_text_from_the_record_is_shown_literally(tmp_path: Path) -> None:
    app, _rid = await open_record(tmp_path, full_record())
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await to_editor(pilot, app)
        await pilot.press("alt+2")
        await pilot.pause()
        shown = screen_text(app)
        assert MARKUP in shown  # the Pseudonym field
        assert "p1: [bold" in shown and "red]K-7[/]" in shown  # the side list, wrapped
        await pilot.press("alt+3")
        await pilot.pause()
        assert f"p1: {MARKUP}" in screen_text(app)  # the victims list (it wraps the roles)
        assert "[link=x]other[/link]" in screen_text(app)
        await pilot.press("alt+1")
        await pilot.pause()
        editor.query_one("#f-interpreter").focus()
        await pilot.pause()
        assert "[i]Interp[/i] 1" in screen_text(app)


def test_a_draft_saved_before_schema_2_opens_upgraded() -> None:
    """A draft holds whatever the form held when it was saved: one from before schema 2
    has 'language' and 'role'; the form shows it as schema 2, as a stored version is."""
    old = model.template()
    old["schema"] = 1
    old["interview"].pop("languages")
    old["interview"]["language"] = "tg"
    for person in old["persons"]:
        person["role"] = person.pop("roles")[0]
    for key in ("obtained", "method", "obtained_on", "obtained_by"):
        old["consent"].pop(key, None)
    doc = EditorScreen._merge(old)
    assert doc["schema"] == model.SCHEMA_VERSION
    assert doc["interview"]["languages"] == ["tg"]
    assert [p["roles"] for p in doc["persons"]] == [["informant"], ["relative"]]
    assert doc["consent"]["obtained"] is None
    assert model.validate(doc)["interview"]["languages"] == ["tg"]

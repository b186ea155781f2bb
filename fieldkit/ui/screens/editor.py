"""The record editor: every part of the data model, validation next to each field, and
drafts autosaved into the encrypted vault every few seconds and on every screen change."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    OptionList,
    ProgressBar,
    Select,
    SelectionList,
    Static,
    TabbedContent,
    TabPane,
    Tabs,
    TextArea,
)

from fieldkit.errors import FieldkitError, InvalidInput
from fieldkit.services import media, model
from fieldkit.services import record_form as rf
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.drafts import Draft, DraftService
from fieldkit.services.records import RecordService
from fieldkit.ui.base import FieldkitScreen, error_text
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.screens import editor_fields as fields
from fieldkit.ui.screens import editor_form as form
from fieldkit.ui.screens import media_found
from fieldkit.ui.screens.dialogs import ConfirmScreen, FilePickerScreen
from fieldkit.ui.text import SAFE_INPUT, LiteralTable, fill, literal, printable


class _Form(VerticalScroll, can_focus=False):
    """A form scrolls to the field that has the cursor; it is no stop for Tab itself."""


class EditorScreen(FieldkitScreen):
    CSS_PATH = "editor.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), priority=True),
        Binding("escape", "close", N_("Close")),
        Binding("f8", "discard", N_("Discard")),
        # Ctrl+Q still quits (the app's key) but leaves this footer, so that at 80 columns
        # Save, Lock and the command palette keep their places in Russian and Tajik too.
        Binding("ctrl+q", "app.quit", N_("Quit"), show=False, priority=True),
        # One key per tab, so Tab itself only walks the fields of the tab shown. One entry
        # in the footer stands for all seven (they follow the tabs from left to right).
        # Priority: a terminal's Alt+2 arrives with the character "2", which a focused
        # field would otherwise type (ui/app.py _alt_digits_as_alt).
        Binding(
            "alt+1", "show_tab('tab-interview')", N_("Tabs"), key_display="alt+1…7", priority=True
        ),
        Binding("alt+2", "show_tab('tab-persons')", N_("Persons"), show=False, priority=True),
        Binding("alt+3", "show_tab('tab-incidents')", N_("Incidents"), show=False, priority=True),
        Binding("alt+4", "show_tab('tab-consent')", N_("Consent"), show=False, priority=True),
        Binding("alt+5", "show_tab('tab-narrative')", N_("Narrative"), show=False, priority=True),
        Binding(
            "alt+6", "show_tab('tab-attachments')", N_("Attachments"), show=False, priority=True
        ),
        Binding("alt+7", "show_tab('tab-history')", N_("History"), show=False, priority=True),
    ]
    PALETTE = (
        (_("Save record"), _("Validate and save a new version"), "save"),
        (_("Close editor"), _("Back to the list (the draft is kept)"), "close"),
        (_("Discard draft"), _("Throw away unsaved changes"), "discard"),
        (_("Add person"), _("Add an informant, victim or relative"), "add_person"),
        (_("Add incident"), _("Add an incident"), "add_incident"),
        (_("Add attachment"), _("Store a file in the vault"), "add_attachment"),
    )

    def __init__(self, record_id: str | None, *, draft: Draft | None = None) -> None:
        super().__init__()
        self.record_id = record_id
        self.draft_id = draft.id if draft else ""
        self._draft_doc = draft.doc if draft else None
        self.doc: dict[str, Any] = form.blank_record()
        self.dirty = draft is not None
        self.person_index: int | None = None
        self.incident_index: int | None = None
        self._leave_unsaved = False
        self._owners = fields.owners()

    # ---- layout ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial="tab-interview", id="tabs"):
            with TabPane(_("Interview"), id="tab-interview"), _Form():
                yield from fields.compose_section(rf.INTERVIEW)
            with TabPane(_("Persons"), id="tab-persons"), Horizontal():
                with Vertical(classes="list-side"):
                    yield OptionList(id="persons")
                    yield Button(_("Add person"), compact=True, id="add-person")
                    yield Button(_("Remove"), compact=True, id="remove-person", variant="error")
                    yield Static("", id="e-persons", classes="field-error list-errors")
                with _Form(id="person-form", classes="item-form"):
                    yield from fields.compose_section(rf.PERSONS)
            with TabPane(_("Incidents"), id="tab-incidents"), Horizontal():
                with Vertical(classes="list-side"):
                    yield OptionList(id="incidents")
                    yield Button(_("Add incident"), compact=True, id="add-incident")
                    yield Button(_("Remove"), compact=True, id="remove-incident", variant="error")
                    yield Static("", id="e-incidents", classes="field-error list-errors")
                with _Form(id="incident-form", classes="item-form"):
                    yield from fields.compose_section(rf.INCIDENTS)
            with TabPane(_("Consent"), id="tab-consent"), _Form():
                yield from fields.compose_section(rf.CONSENT)
            with TabPane(_("Narrative"), id="tab-narrative"):
                yield from fields.compose_section(rf.NARRATIVE)
            with TabPane(_("Attachments"), id="tab-attachments"), Vertical():
                with Horizontal(id="att-unsaved", classes="buttons"):
                    yield Static(
                        _("Files are kept with a saved record. Save this one now?"),
                        classes="muted",
                    )
                    yield Button(_("Save now"), id="att-save", variant="primary", compact=True)
                yield LiteralTable(id="attachments")
                with Horizontal(classes="buttons"):
                    yield Button(_("Add file…"), id="add-attachment")
                    yield Input(
                        placeholder=_("Description of the selected file"),
                        id="att-description",
                        highlighter=SAFE_INPUT,
                    )
                    yield Button(_("Describe"), id="describe-attachment")
                    yield Button(_("Remove"), id="remove-attachment", variant="error")
                yield ProgressBar(id="att-progress", classes="hidden")
                yield Static("", id="att-result")
            with TabPane(_("History"), id="tab-history"):
                yield LiteralTable(id="history")
        yield Static("", id="e-summary", classes="field-error")
        yield Footer()

    # ---- load ----------------------------------------------------------------------
    def on_mount(self) -> None:
        ds = DraftService(self.db, now=self.fk.ctx.now)
        if not self.draft_id:
            self.draft_id = ds.new_id()
        if self._draft_doc is not None:
            self.doc = self._merge(self._draft_doc)
        elif self.record_id is not None:
            self.doc = copy.deepcopy(RecordService(self.db).get(self.record_id).doc)
        self.load_form()
        att = self.query_one("#attachments", DataTable)
        att.cursor_type = "row"
        # Fixed widths: a long file name must not push the description out of view.
        for label, width in ((_("File"), 20), (_("Type"), 12), (_("Size"), 8), (_("SHA-256"), 16)):
            att.add_column(label, width=width)
        att.add_column(_("Description"))
        hist = self.query_one("#history", DataTable)
        hist.add_columns("#", _("When"), _("Change"), _("Version"), _("Entry hash"))
        self.load_attachments()
        self.load_history()
        self.set_interval(self.fk.ctx.autosave_seconds, self.autosave)
        # The tab bar is for the mouse; the keyboard has Alt+1…7 (Tab would otherwise
        # stop on the bar and move on to the wrong field).
        self.query_one("#tabs", TabbedContent).query_one(Tabs).can_focus = False
        self.query_one("#f-pseudonym", Input).focus()
        self._subtitle()

    def _subtitle(self) -> None:
        name = self.doc.get("pseudonym") or ""
        title = name if self.record_id else _("New record") + (f": {name}" if name else "")
        self.sub_title = printable(title)

    @staticmethod
    def _merge(doc: Any) -> dict[str, Any]:
        """A draft as the form shows it: a schema-1 draft (saved before schema 2) is
        upgraded like a stored version; anything missing comes from a blank record."""
        base = form.blank_record()
        if isinstance(doc, dict):
            try:
                doc = model.upgrade(doc)
            except InvalidInput:
                pass  # kept as it is: saving names what is wrong
            base.update(doc)
        return base

    def load_form(self) -> None:
        for section in (rf.INTERVIEW, rf.CONSENT, rf.NARRATIVE):
            fields.write_section(self, section, self.doc, self.doc)
        self.refresh_lists()

    def refresh_lists(self) -> None:
        """Rebuild the side lists and every choice of a person, after a person or an
        incident was added or removed."""
        persons = self.query_one("#persons", OptionList)
        persons.set_options(fields.person_label(p) for p in self.doc["persons"])
        incidents = self.query_one("#incidents", OptionList)
        incidents.set_options(_incident_label(i) for i in self.doc["incidents"])
        self._select_person(self.person_index if self.doc["persons"] else None)
        self._select_incident(self.incident_index if self.doc["incidents"] else None)

    def _item(self, section: rf.Section) -> dict[str, Any] | None:
        """What a form edits: the record, or the person or incident shown."""
        if section.items is None:
            return self.doc
        index = self.person_index if section.items == "persons" else self.incident_index
        return None if index is None else self.doc[section.items][index]

    def _relabel(self, kind: str) -> None:
        """A side list follows what is typed: a person's name or role, an incident's type."""
        if kind == "persons" and self.person_index is not None:
            label = fields.person_label(self.doc["persons"][self.person_index])
            self.query_one("#persons", OptionList).replace_option_prompt_at_index(
                self.person_index, label
            )
            self._fill_victims()
        elif kind == "incidents" and self.incident_index is not None:
            label = _incident_label(self.doc["incidents"][self.incident_index])
            self.query_one("#incidents", OptionList).replace_option_prompt_at_index(
                self.incident_index, label
            )

    def action_show_tab(self, pane: str) -> None:
        """Show a tab and put the cursor on its first field."""
        self.query_one("#tabs", TabbedContent).active = pane
        self.call_after_refresh(self._focus_first, pane)

    def _focus_first(self, pane: str) -> None:
        # Another Alt+digit may have shown another tab since: focusing into this one would
        # switch back to it.
        if self.query_one("#tabs", TabbedContent).active != pane:
            return
        for widget in self.query_one(f"#{pane}").query("*"):
            if widget.focusable:
                widget.focus()
                return

    # ---- editing ---------------------------------------------------------------------
    def _changed(self) -> None:
        self.dirty = True

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(SelectionList.SelectedChanged)
    @on(TextArea.Changed)
    def field_changed(self, event: Message) -> None:
        """Any field: what its widgets show now goes into the document, if it differs.
        The widgets are read, not the message: one can arrive after the form was filled
        (a Select posts its default when it mounts; an Input its last keystroke after
        another person was chosen), and its value would overwrite testimony."""
        control = getattr(event, "control", None)
        owner = self._owners.get(getattr(control, "id", None) or "")
        if owner is None:
            return
        section, field = owner
        item = self._item(section)
        if item is None:
            return
        value = fields.read(self, field, self.doc, item)
        if value is fields.KEEP or value == fields.get(item, field.path):
            return
        before = self._side_label(section, item)
        fields.put(item, field.path, value)
        if section.items is not None and self._side_label(section, item) != before:
            self._relabel(section.items)
        self._changed()

    @staticmethod
    def _side_label(section: rf.Section, item: dict[str, Any]) -> str:
        if section.items == "persons":
            return fields.person_label(item).plain
        if section.items == "incidents":
            return _incident_label(item).plain
        return ""

    # ---- persons and incidents -----------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#persons")
    def person_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._select_person(event.option_index)

    @on(OptionList.OptionHighlighted, "#incidents")
    def incident_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._select_incident(event.option_index)

    def _select_person(self, index: int | None) -> None:
        persons = self.doc["persons"]
        self.person_index = (
            index if index is not None and index < len(persons) else (0 if persons else None)
        )
        self.query_one("#person-form").display = self.person_index is not None
        if self.person_index is None:
            return
        fields.write_section(self, rf.PERSONS, persons[self.person_index], self.doc)

    def _select_incident(self, index: int | None) -> None:
        incs = self.doc["incidents"]
        self.incident_index = (
            index if index is not None and index < len(incs) else (0 if incs else None)
        )
        self.query_one("#incident-form").display = self.incident_index is not None
        if self.incident_index is None:
            return
        fields.write_section(self, rf.INCIDENTS, incs[self.incident_index], self.doc)

    def _fill_victims(self) -> None:
        """The victims of the incident shown: one tick box per person of the record."""
        if self.incident_index is None:
            return
        inc = self.doc["incidents"][self.incident_index]
        victims = next(f for f in rf.INCIDENTS.fields if isinstance(f.kind, rf.PersonTicks))
        fields.write(self, victims, inc, self.doc)

    @on(Button.Pressed, "#add-person")
    def action_add_person(self) -> None:
        persons = self.doc["persons"]
        persons.append(form.blank_person(form.next_id(persons, "p")))
        self.person_index = len(persons) - 1
        self.refresh_lists()
        self.query_one("#persons", OptionList).highlighted = self.person_index
        self.query_one("#tabs", TabbedContent).active = "tab-persons"
        self._changed()

    @on(Button.Pressed, "#remove-person")
    def remove_person(self) -> None:
        if self.person_index is not None:
            gone = self.doc["persons"].pop(self.person_index).get("id")
            # Nothing may point at a person who is no longer in the record.
            for inc in self.doc["incidents"]:
                inc["victims"] = [v for v in inc.get("victims") or [] if v != gone]
            for p in self.doc["persons"]:
                if p.get("related_to") == gone:
                    p["related_to"] = None
            self.person_index = None
            self.refresh_lists()
            self._changed()

    @on(Button.Pressed, "#add-incident")
    def action_add_incident(self) -> None:
        incs = self.doc["incidents"]
        incs.append(form.blank_incident(form.next_id(incs, "i")))
        self.incident_index = len(incs) - 1
        self.refresh_lists()
        self.query_one("#incidents", OptionList).highlighted = self.incident_index
        self.query_one("#tabs", TabbedContent).active = "tab-incidents"
        self._changed()

    @on(Button.Pressed, "#remove-incident")
    def remove_incident(self) -> None:
        if self.incident_index is not None:
            del self.doc["incidents"][self.incident_index]
            self.incident_index = None
            self.refresh_lists()
            self._changed()

    # ---- drafts and saving -------------------------------------------------------------
    def autosave(self) -> bool:
        """Save the draft if it changed; False (and a message) if the vault could not
        take it, e.g. a full disk: the form keeps everything and tries again later."""
        if self.dirty and self.fk.vault is not None:
            try:
                DraftService(self.db, now=self.fk.ctx.now).save(
                    self.draft_id, self.record_id, self.doc
                )
            except FieldkitError as exc:
                self.notify(error_text(exc).plain, severity="error", timeout=10)
                return False
            self.dirty = False
        return True

    def save_draft_now(self) -> None:
        self.autosave()

    def on_screen_suspend(self) -> None:
        self.autosave()

    def on_unmount(self) -> None:
        if self.fk.vault is not None:
            self.autosave()

    def action_save(self) -> None:
        ds = DraftService(self.db, now=self.fk.ctx.now)
        if not self.autosave():
            return
        try:
            rid = ds.commit(self.draft_id, self.record_id, self.doc)
        except InvalidInput as exc:
            self.show_problems(exc.problems or [("record", exc.message)])
            return
        except FieldkitError as exc:
            self.notify(error_text(exc).plain, severity="error", timeout=10)
            return
        self.record_id = rid
        self.dirty = False
        self.draft_id = ds.new_id()
        self.show_problems([])
        self.show_advice(model.consent_warnings(RecordService(self.db).get(rid).doc))
        version = RecordService(self.db).summary(rid).version
        self._subtitle()
        self.notify(_("Saved (version {n}).").format(n=version))
        self.load_attachments()
        self.load_history()

    def show_advice(self, advice: list[tuple[str, str]]) -> None:
        """Recommendations that do not stop a save (consent obtained, but not when or by
        whom), each on its field's line, in the warning colour."""
        for path, text in advice:
            top = rf.section_of(path)
            hit = rf.field_for(top, path) if top is not None else None
            if top is not None and hit is not None:
                line = self.query_one(f"#{rf.error_id(top, *hit)}", Static)
                _show(line, text)
                line.add_class("advice")

    def show_problems(self, problems: list[tuple[str, str]]) -> None:
        for s in self.query(".field-error"):
            if isinstance(s, Static):
                _show(s, "")
                s.remove_class("advice")
        lists: dict[str, list[str]] = {"persons": [], "incidents": []}
        rest: list[str] = []
        for path, english in problems:
            problem = _(english)  # the model's constant problems are msgids (N_)
            kind, index, sub = form.locate(path)
            if kind is not None and index is not None:
                lists[kind].append(f"{kind[:-1]} {index + 1}: {sub or ''} {problem}".strip())
                current = self.person_index if kind == "persons" else self.incident_index
                section = rf.PERSONS if kind == "persons" else rf.INCIDENTS
                hit = rf.field_for(section, sub) if sub else None
                if index == current and hit:
                    _show(self.query_one(f"#{rf.error_id(section, *hit)}", Static), problem)
                continue
            top = rf.section_of(path)
            hit = rf.field_for(top, path) if top is not None else None
            if top is not None and hit is not None:
                _show(self.query_one(f"#{rf.error_id(top, *hit)}", Static), problem)
            else:
                rest.append(f"{path}: {problem}")
        for kind, items in lists.items():
            self.query_one(f"#e-{kind}", Static).update(literal("\n".join(items), multiline=True))
        summary = self.query_one("#e-summary", Static)
        if problems:
            summary.update(
                literal(
                    _("{n} problem(s) to fix before saving. ").format(n=len(problems))
                    + "; ".join(rest)
                )
            )
            first = rf.section_of(problems[0][0])
            tab = first.tab if first is not None else "tab-interview"
            self.query_one("#tabs", TabbedContent).active = tab
        else:
            _show(summary, "")

    def action_close(self) -> None:
        # If the draft cannot be saved (a full disk), the first Escape keeps the form
        # open with the error shown; a second one leaves, losing the unsaved typing.
        if not self.autosave() and not self._leave_unsaved:
            self._leave_unsaved = True
            self.notify(_("Not saved. Press Escape again to close anyway."), timeout=10)
            return
        self.app.pop_screen()

    def action_discard(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                DraftService(self.db).discard(self.draft_id)
                self.dirty = False
                self.app.pop_screen()

        self.app.push_screen(
            ConfirmScreen(_("Throw away the unsaved changes to this record?"), yes=_("Discard")),
            answered,
        )

    # ---- attachments -----------------------------------------------------------------
    def load_attachments(self) -> None:
        table = self.query_one("#attachments", DataTable)
        table.clear()
        self.query_one("#att-unsaved").display = self.record_id is None
        if self.record_id is None:
            return
        for a in AttachmentService(self.db).for_record(self.record_id):
            table.add_row(
                a.filename,
                a.media_type,
                _size(a.size),
                a.sha256.hex()[:16],
                a.description,
                key=a.id,
            )

    def action_add_attachment(self) -> None:
        if self.record_id is None:

            def answered(yes: bool | None) -> None:
                if yes:
                    self.action_save()
                    if self.record_id is not None:
                        self.action_add_attachment()

            self.app.push_screen(
                ConfirmScreen(
                    _("A file is kept with a saved record. Save this record now?"),
                    yes=_("Save now"),
                ),
                answered,
            )
            return
        self.app.push_screen(
            FilePickerScreen(self.fk.ctx.start_dir, _("Add a file")), self.attach_picked
        )

    @on(Button.Pressed, "#add-attachment")
    def add_pressed(self) -> None:
        self.action_add_attachment()

    @on(Button.Pressed, "#att-save")
    def save_pressed(self) -> None:
        self.action_save()

    @on(DataTable.RowHighlighted, "#attachments")
    def attachment_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The description box edits the highlighted file's description."""
        key = event.row_key.value
        if key is None:
            return
        for a in AttachmentService(self.db).for_record(self.record_id or ""):
            if a.id == key:
                self.query_one("#att-description", Input).value = a.description
                return

    def attach_picked(self, path: Path | None) -> None:
        if path is None or self.record_id is None:
            return
        # A new file starts with no description: the last one's text must not be given
        # to it by a press of Describe.
        self.query_one("#att-description", Input).value = ""
        bar = self.query_one("#att-progress", ProgressBar)
        bar.remove_class("hidden")
        bar.update(total=max(1, path.stat().st_size), progress=0)
        self.attach(self.record_id, path)

    @work(thread=True, exclusive=True, group="attach", exit_on_error=False)
    def attach(self, record_id: str, path: Path) -> None:
        conn = self.vault.connect()
        try:
            row = AttachmentService(conn, now=self.fk.ctx.now).add(
                record_id,
                path,
                progress=lambda done, total: self.from_worker(self._progress, done),
            )
            # Read back from the vault's copy (services/media.py): what HQ will receive.
            found = media.inspect_attachment(conn, row)
        except FieldkitError as exc:
            self.from_worker(self._attach_done, error_text(exc))
            return
        finally:
            conn.close()
        message = fill(
            _("Stored {name}, {size}, SHA-256 {h}"),
            name=row.filename,
            size=_size(row.size),
            h=row.sha256.hex(),
        )
        more = media_found.short_line(found)
        if more:
            message.append("\n" + more)
        self.from_worker(self._attach_done, message, row.id, found)

    def _progress(self, done: int) -> None:
        self.query_one("#att-progress", ProgressBar).update(progress=done)

    def _attach_done(
        self, message: Text, new_id: str | None = None, found: media.Findings | None = None
    ) -> None:
        self.query_one("#att-progress").add_class("hidden")
        self.query_one("#att-result", Static).update(message)
        self.load_attachments()
        self.load_history()
        if new_id is not None:  # the cursor on the new file, ready for its description
            table = self.query_one("#attachments", DataTable)
            table.move_cursor(row=table.get_row_index(new_id))
        if found is not None and found.identifying:
            self.app.push_screen(media_found.MetadataFoundScreen(found))

    def _selected_attachment(self) -> str | None:
        table = self.query_one("#attachments", DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @on(Button.Pressed, "#describe-attachment")
    def describe(self) -> None:
        aid = self._selected_attachment()
        if aid:
            text = self.query_one("#att-description", Input).value
            try:
                AttachmentService(self.db, now=self.fk.ctx.now).describe(aid, text)
            except FieldkitError as exc:
                self.notify(error_text(exc).plain, severity="error")
            self.load_attachments()
            self.load_history()

    @on(Button.Pressed, "#remove-attachment")
    def remove_attachment(self) -> None:
        aid = self._selected_attachment()
        if not aid:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                AttachmentService(self.db, now=self.fk.ctx.now).remove(aid)
                self.load_attachments()
                self.load_history()

        self.app.push_screen(
            ConfirmScreen(_("Remove this attachment from the vault?"), yes=_("Remove")), answered
        )

    # ---- history -----------------------------------------------------------------------
    def load_history(self) -> None:
        table = self.query_one("#history", DataTable)
        table.clear()
        if self.record_id is None:
            return
        for e in RecordService(self.db).history(self.record_id):
            table.add_row(str(e.seq), e.at, _(e.action), str(e.version), e.entry_hash.hex()[:16])


def _incident_label(i: dict[str, Any]) -> Text:
    label = model.INCIDENT_TYPES.get(i.get("type", ""), i.get("type", ""))
    return literal(f"{i.get('id')}: {_(label)}")


def _show(widget: Static, text: str) -> None:
    """An error line takes space only while it has something to say."""
    widget.update(literal(text))
    widget.set_class(bool(text), "shown")


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return str(n)

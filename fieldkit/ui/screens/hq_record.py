"""A received record as HQ reads it (services/hq_view.py), and extracting an attachment
with a reason that is logged (services/extraction.py)."""

from __future__ import annotations

import re
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Select, Static

from fieldkit.errors import FieldkitError
from fieldkit.formats import text as text_rules
from fieldkit.services import extraction, hq_view
from fieldkit.services.types import AttachmentRow
from fieldkit.ui.base import FieldkitModal, FieldkitScreen, error_text
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.text import SAFE_INPUT, fill, literal, printable
from fieldkit.ui.widgets import MarkedCheckbox


def section_text(sec: hq_view.Section) -> Text:
    """One section: its title, then 'Label: value' lines; values literal, multi-line
    values on their own indented lines."""
    out = Text(end="")
    out.append(printable(sec.title.text(_)), style="bold")
    for f in sec.fields:
        out.append("\n")
        if f.label:
            out.append(printable(_(f.label)) + ":", style="bold")
            out.append("\n  " if f.multiline else " ")
        value = literal(hq_view.render(f.value, _), multiline=f.multiline)
        if f.multiline and f.label:
            value = Text("\n  ".join(value.plain.split("\n")), end="")
        out.append_text(value)
    return out


_UNSAFE_NAME = re.compile(f"[{text_rules.CONTROL}{text_rules.BIDI}{text_rules.SURROGATE}/\\\\]")


def safe_file_name(name: str, fallback: str) -> str:
    """A name from a bundle as a default file name: no folder part, no control or bidi
    character (the person can still type any name)."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip(". ")
    return cleaned[:120] or fallback


class RecordViewScreen(FieldkitScreen):
    """A received record, read-only (HQ does not edit testimony it received)."""

    CSS_PATH = "hq.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("ctrl+e", "extract", N_("Extract…")),
        Binding("ctrl+k", "custody", N_("Custody")),
    ]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id
        self.attachments: dict[str, AttachmentRow] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="view")
        with Horizontal(id="att-bar", classes="line"):
            yield Select([], prompt=_("Attachment"), id="att")
            yield Button(_("Extract…"), id="extract")
        yield Footer()

    def on_mount(self) -> None:
        view = hq_view.record_view(self.db, self.record_id)
        rec = view.record
        self.sub_title = printable(f"{rec.doc.get('pseudonym', '')} v{rec.version}")
        body = self.query_one("#view", VerticalScroll)
        body.mount_all(Static(section_text(s), classes="section") for s in hq_view.sections(view))
        self.attachments = {a.id: a for a in view.attachments}
        sel = self.query_one("#att", Select)
        sel.set_options((literal(f"{a.filename} ({a.size} B)"), a.id) for a in view.attachments)
        if view.attachments:
            sel.value = view.attachments[0].id
        self.query_one("#att-bar").display = bool(view.attachments)
        body.focus()

    def action_custody(self) -> None:
        from fieldkit.ui.screens.hq_custody import CustodyScreen

        self.app.push_screen(CustodyScreen(self.record_id))

    def shown_text(self) -> str:
        """Everything the view shows, as plain text (for tests and screen readers)."""
        return "\n\n".join(str(s.render()) for s in self.query(".section").results(Static))

    @on(Button.Pressed, "#extract")
    def action_extract(self) -> None:
        choice = self.query_one("#att", Select).value
        row = self.attachments.get(str(choice)) if isinstance(choice, str) else None
        if row is None:
            return
        default = self.fk.ctx.start_dir / safe_file_name(row.filename, row.id)

        def answered(result: tuple[Path, str, bool] | None) -> None:
            if result is not None:
                self.run_extract(row, *result)

        self.app.push_screen(ExtractScreen(row, default), answered)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_extract(self, row: AttachmentRow, out: Path, reason: str, original: bool) -> None:
        conn = self.vault.connect()
        try:
            done = extraction.extract(
                conn, row.id, out, reason, original=original, now=self.fk.ctx.now
            )
        except FieldkitError as exc:
            self.from_worker(self.failed, error_text(exc).plain)
            return
        finally:
            conn.close()
        if not done.stripped:
            text = _(
                "{name} written to {path} (not encrypted, the unaltered original); "
                "the reason is logged."
            )
        elif done.found.identifying:
            text = _(
                "{name} written to {path} (not encrypted) without its metadata ({what}); "
                "the reason is logged."
            )
        else:
            text = _("{name} written to {path} (not encrypted); the reason is logged.")
        what = ", ".join(dict.fromkeys(_(f.label) for f in done.found.items))
        self.from_worker(
            self.notify, printable(text.format(name=row.filename, path=out, what=what))
        )

    def failed(self, message: str) -> None:
        self.notify(message, severity="error")


class ExtractScreen(FieldkitModal):
    """Where to write the copy and why. Dismisses with (path, reason) or None."""

    CSS_PATH = "dialogs.tcss"
    DEFAULT_CSS = "ExtractScreen { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, row: AttachmentRow, default: Path) -> None:
        super().__init__()
        self.row = row
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(fill(_("Extract {name}"), name=self.row.filename), classes="title")
            yield Static(
                _(
                    "The copy is not encrypted. Say why it leaves the vault: the reason is "
                    "kept in the vault's extraction log (write no names)."
                )
            )
            yield Input(str(self.default), id="extract-path", highlighter=SAFE_INPUT)
            yield Input(placeholder=_("Reason (required)"), id="extract-reason")
            yield MarkedCheckbox(
                _("Unaltered original, with its metadata (GPS, serial…)"),
                id="extract-original",
                compact=True,
            )
            yield Static("", id="extract-problem")
            with Horizontal(classes="buttons"):
                yield Button(_("Extract"), variant="primary", id="extract-ok")
                yield Button(_("Cancel"), id="extract-cancel")

    def on_mount(self) -> None:
        self.query_one("#extract-reason", Input).focus()

    @on(Button.Pressed, "#extract-ok")
    @on(Input.Submitted)
    def ok(self) -> None:
        path = self.query_one("#extract-path", Input).value.strip()
        try:
            reason = extraction.check_reason(self.query_one("#extract-reason", Input).value)
        except FieldkitError as exc:
            self.query_one("#extract-problem", Static).update(error_text(exc))
            return
        if not path:
            return
        original = self.query_one("#extract-original", Checkbox).value
        self.dismiss((Path(path).expanduser(), reason, original))

    @on(Button.Pressed, "#extract-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

"""Export: what will go, where to, a progress bar, and the bundle's path and fingerprint."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)

from fieldkit import locations
from fieldkit.errors import FieldkitError
from fieldkit.services import export as export_svc
from fieldkit.services import fsio
from fieldkit.ui.base import FieldkitScreen, error_text
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.screens.dialogs import ConfirmScreen, FolderPickerScreen
from fieldkit.ui.text import SAFE_INPUT, fill, literal
from fieldkit.ui.widgets import MarkedCheckbox


class ExportScreen(FieldkitScreen):
    CSS_PATH = "export.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", N_("Back"))]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="box"):
            yield Label(_("Export a bundle for HQ"), classes="title")
            yield Static("", id="plan")
            yield MarkedCheckbox(
                _("Include every record, not only changes"), id="all", compact=True
            )
            with Horizontal(classes="dest-row"):
                yield Label(_("Save to"))
                yield Select[str](self.places, id="drive", compact=True, allow_blank=False)
            with Horizontal(classes="dest-row"):
                yield Label(_("File"))
                yield Input(id="dest", compact=True, highlighter=SAFE_INPUT)
            with Horizontal(classes="buttons"):
                yield Button(_("Export"), variant="primary", id="go", compact=True)
                yield Button(_("Other folder…"), id="browse", compact=True)
                yield Button(
                    _("Write the unwritten bundle again"),
                    id="resend",
                    classes="hidden",
                    compact=True,
                )
            yield ProgressBar(id="progress", classes="hidden")
            yield Static("", id="result")
        yield Footer()

    def __init__(self) -> None:
        super().__init__()
        # Removable drives first (a bundle belongs on the stick, not on the laptop), then
        # the home folder.
        ctx = self.fk.ctx
        drives = locations.removable_drives(ctx.removable_root)
        self.places: list[tuple[Text, str]] = [
            (fill(_("USB drive {name} ({path})"), name=d.name, path=d), str(d)) for d in drives
        ]
        self.places.append((fill(_("This laptop: {path}"), path=ctx.start_dir), ""))

    def on_mount(self) -> None:
        first = self.places[0][1]
        self.folder_chosen(Path(first) if first else self.fk.ctx.start_dir)
        self.show_plan()
        self.check_unwritten()

    def folder_chosen(self, folder: Path | None) -> None:
        if folder is None:
            return
        # The file's name says nothing: no tool, device or count.
        dest = fsio.neutral_name(folder, random_bytes=self.fk.ctx.random_bytes)
        self.query_one("#dest", Input).value = str(dest)

    @on(Select.Changed, "#drive")
    def drive_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.folder_chosen(Path(event.value) if event.value else self.fk.ctx.start_dir)

    @on(Button.Pressed, "#browse")
    def browse(self) -> None:
        current = Path(self.query_one("#dest", Input).value.strip()).expanduser().parent
        self.app.push_screen(
            FolderPickerScreen(current, _("Save the bundle in this folder")), self.folder_chosen
        )

    def check_unwritten(self, before: str = "") -> None:
        seq = export_svc.unwritten_seq(self.db)
        self.query_one("#resend").set_class(seq is None, "hidden")
        self.query_one("#go", Button).disabled = seq is not None  # that one first
        if seq is not None:
            note = _(
                "Bundle {seq} was prepared but its file was never written (the stick was full "
                "or the laptop stopped). Write it again before exporting anything new."
            ).format(seq=seq)
            self.query_one("#result", Static).update(
                literal(f"{before}\n{note}" if before else note, multiline=True)
            )

    @on(Button.Pressed, "#resend")
    def resend(self) -> None:
        seq = export_svc.unwritten_seq(self.db)
        if seq is None:
            return
        dest = Path(self.query_one("#dest", Input).value.strip()).expanduser()
        self.query_one("#progress").remove_class("hidden")
        self.run_export(dest, everything=False, resend=seq)

    @on(Checkbox.Changed, "#all")
    def show_plan(self) -> None:
        try:
            plan = export_svc.plan(self.db, everything=self.query_one("#all", Checkbox).value)
        except FieldkitError as exc:
            self.query_one("#plan", Static).update(error_text(exc))
            return
        hqs = ", ".join(f"{c.name} ({c.short_code})" for c in plan.recipients) or _(
            "none: import HQ's card in Settings first"
        )
        text = fill(
            _("Records: {r}\nAttachments: {a}\nContent: {kib} KiB\nEncrypted to: {hq}"),
            r=plan.record_count,
            a=len(plan.attachments),
            kib=plan.content_bytes // 1024,
            hq=hqs,
        )
        text.append(_left_over(plan.left_records, plan.left_attachments))
        if plan.without_consent:
            text.append(
                "\n"
                + _(
                    "! Without recorded consent: {n} (marked ! in the list). You are asked "
                    "at Export; they stay on this laptop unless you confirm."
                ).format(n=len(plan.without_consent))
            )
        self.query_one("#plan", Static).update(text)

    @on(Button.Pressed, "#go")
    def go(self) -> None:
        dest = Path(self.query_one("#dest", Input).value.strip()).expanduser()
        everything = self.query_one("#all", Checkbox).value
        try:
            lacking = export_svc.plan(self.db, everything=everything).without_consent
        except FieldkitError as exc:
            self.query_one("#result", Static).update(error_text(exc))
            return
        if not lacking:
            self.start(dest, everything, include_without_consent=False)
            return

        def answered(choice: str | None) -> None:
            if choice is None:
                self.query_one("#result", Static).update(_("Export cancelled: nothing written."))
                return
            self.start(dest, everything, include_without_consent=choice == "include")

        self.app.push_screen(WithoutConsentScreen(lacking), answered)

    def start(self, dest: Path, everything: bool, *, include_without_consent: bool) -> None:
        self.query_one("#go", Button).disabled = True
        self.query_one("#progress").remove_class("hidden")
        self.run_export(dest, everything, include_without_consent=include_without_consent)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_export(
        self,
        dest: Path,
        everything: bool,
        resend: int | None = None,
        *,
        include_without_consent: bool = False,
    ) -> None:
        """A new bundle, or (with `resend`) bundle `resend` written again."""
        conn = self.vault.connect()
        progress = lambda d, t: self.from_worker(self._progress, d, t)  # noqa: E731
        res: export_svc.ExportResult | None
        try:
            if resend is not None:
                res = export_svc.resend(conn, resend, dest, now=self.fk.ctx.now, progress=progress)
            else:
                res = export_svc.export(
                    conn,
                    dest,
                    everything=everything,
                    include_without_consent=include_without_consent,
                    now=self.fk.ctx.now,
                    progress=progress,
                )
        except FieldkitError as exc:
            self.from_worker(self.done, error_text(exc).plain)
            return
        finally:
            conn.close()
        if res is None:
            held = () if resend is not None or include_without_consent else self._held(everything)
            nothing = (
                _("Nothing else to export.")
                if held
                else _("Nothing to export: every record is already in a bundle.")
            )
            self.from_worker(self.done, nothing + _held_note(held))
            return
        if resend is not None:
            text = _("Bundle {seq} written again.\n{path}\nFingerprint: {fp}").format(
                seq=res.seq, path=res.path, fp=res.short_hash
            )
        else:
            text = _(
                "Bundle {seq} written: {r} record(s), {a} attachment(s), {size} bytes.\n{path}\n"
                "Fingerprint: {fp}"
            ).format(
                seq=res.seq,
                r=res.records,
                a=res.attachments,
                size=res.size,
                path=res.path,
                fp=res.short_hash,
            ) + _left_over(res.left_records, res.left_attachments)
            text += _held_note(res.held) + _included_note(res.included_without_consent)
        self.from_worker(self.done, text)

    def _held(self, everything: bool) -> tuple[export_svc.Held, ...]:
        conn = self.vault.connect()
        try:
            return export_svc.plan(conn, everything=everything).held
        finally:
            conn.close()

    def _progress(self, done: int, total: int) -> None:
        self.query_one("#progress", ProgressBar).update(total=total, progress=done)

    def done(self, message: str) -> None:
        result = self.query_one("#result", Static)
        result.update(literal(message, multiline=True))
        self.query_one("#go", Button).disabled = False
        self.query_one("#progress").add_class("hidden")
        self.show_plan()
        self.check_unwritten(message)
        # The outcome, path and fingerprint are what the fieldworker came for: bring them
        # into view, whatever the terminal's height.
        self.call_after_refresh(result.scroll_visible, animate=False, top=True)


def _left_over(records: int, attachments: int) -> str:
    if not (records or attachments):
        return ""
    return "\n" + _(
        "{r} more record(s) and {a} attachment(s) do not fit in one bundle: "
        "export again for the next one."
    ).format(r=records, a=attachments)


MAX_NAMED = 6  # records lacking consent named in the dialog (it must fit 80x24)


def _names(records: tuple[export_svc.Held, ...]) -> str:
    names = [f"  {h.id[:12]}  {h.pseudonym}" for h in records[:MAX_NAMED]]
    if len(records) > MAX_NAMED:
        names.append("  " + _("and {n} more").format(n=len(records) - MAX_NAMED))
    return "\n".join(names)


def _held_note(held: tuple[export_svc.Held, ...]) -> str:
    if not held:
        return ""
    return (
        "\n"
        + _(
            "HELD BACK, without recorded consent: {n} record(s). They stay on this laptop "
            "and go in a later export once consent is recorded, or when you confirm:"
        ).format(n=len(held))
        + "\n"
        + _names(held)
    )


def _included_note(included: tuple[export_svc.Held, ...]) -> str:
    if not included:
        return ""
    return "\n" + _("Included as you confirmed: {n} record(s) without recorded consent.").format(
        n=len(included)
    )


class WithoutConsentScreen(ConfirmScreen):
    """Some records to export lack recorded consent: hold them back (the default and
    the focused button), export them too, or cancel. Dismisses with "hold", "include" or
    None. Pseudonyms are shown literally."""

    def __init__(self, records: tuple[export_svc.Held, ...]) -> None:
        question = (
            _(
                "{n} record(s) to export lack recorded consent (not recorded, or not obtained):"
            ).format(n=len(records))
            + "\n"
            + _names(records)
            + "\n\n"
            + _(
                "Export them anyway? If you hold them back, the rest is exported and they "
                "stay on this laptop."
            )
        )
        super().__init__(question, yes=_("Export them too"))

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield from self.body()
            with Horizontal(classes="buttons"):
                yield Button(_("Hold them back"), variant="primary", id="hold")
                yield Button(self.yes, variant="error", id="yes")
                yield Button(_("Cancel"), id="no")

    def on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # ConfirmScreen's own on_mount would focus Cancel
        self.query_one("#hold", Button).focus()

    @on(Button.Pressed)
    def answer(self, event: Button.Pressed) -> None:
        # ConfirmScreen's own handler (a True/False answer) must not run after this one.
        event.prevent_default()
        event.stop()
        choice = {"hold": "hold", "yes": "include"}.get(event.button.id or "")
        self.dismiss(choice)

    def action_cancel(self) -> None:
        self.dismiss(None)

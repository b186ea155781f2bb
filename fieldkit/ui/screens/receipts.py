"""Receipts from HQ, and purging what HQ has acknowledged."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Header, Input, Label, Static

from fieldkit.errors import FieldkitError
from fieldkit.services import purge, receipts
from fieldkit.ui.base import FieldkitScreen, error_text
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.screens.dialogs import ConfirmScreen, FilePickerScreen
from fieldkit.ui.text import fill


class ReceiptsScreen(FieldkitScreen):
    CSS_PATH = "export.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", N_("Back"))]

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="box"):
            yield Label(_("Import a receipt from HQ"), classes="title")
            yield Input(placeholder=_("Path to the receipt file"), id="path")
            with Horizontal(classes="buttons"):
                yield Button(_("Browse…"), id="browse")
                yield Button(_("Import receipt"), variant="primary", id="import")
            yield Static("", id="result")
            yield Label(_("Purge delivered records"), classes="title")
            yield Static("", id="delivered")
            yield Button(_("Purge delivered records…"), variant="error", id="purge")
        yield Footer()

    def on_mount(self) -> None:
        self.count()

    def count(self) -> None:
        n = len(purge.delivered_records(self.db))
        self.query_one("#delivered", Static).update(
            _("{n} record(s) are delivered to HQ and can be removed from this laptop.").format(n=n)
        )

    @on(Button.Pressed, "#browse")
    def browse(self) -> None:
        self.app.push_screen(FilePickerScreen(self.fk.ctx.start_dir, _("Receipt")), self.picked)

    def picked(self, path: Path | None) -> None:
        if path is not None:
            self.query_one("#path", Input).value = str(path)

    @on(Button.Pressed, "#import")
    @on(Input.Submitted, "#path")
    def import_receipt(self) -> None:
        path = Path(self.query_one("#path", Input).value.strip()).expanduser()
        try:
            r = receipts.import_receipt(self.db, path, now=self.fk.ctx.now)
        except FieldkitError as exc:
            self.query_one("#result", Static).update(error_text(exc))
            return
        self.query_one("#result", Static).update(
            fill(
                _("Receipt from {hq} for bundle {seq}: {d} record(s) delivered, {s} edited since."),
                hq=r.hq_name,
                seq=r.seq,
                d=r.delivered,
                s=r.superseded,
            )
        )
        self.count()

    @on(Button.Pressed, "#purge")
    def ask_purge(self) -> None:
        n = len(purge.delivered_records(self.db))
        if not n:
            self.notify(_("Nothing to purge."))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                res = purge.purge_delivered(self.db, now=self.fk.ctx.now)
                kept = purge.kept_text(res.kept, _)
                self.notify(
                    _("Purged {r} record(s) and {a} attachment(s).").format(
                        r=res.records, a=res.attachments
                    )
                    + (f"\n{kept}" if kept else ""),
                    markup=False,
                )
                self.count()

        self.app.push_screen(
            ConfirmScreen(
                _(
                    "Remove {n} delivered record(s) and their attachments from this laptop? HQ "
                    "keeps them."
                ).format(n=n),
                yes=_("Purge"),
            ),
            answered,
        )

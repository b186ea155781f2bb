"""Settings: this vault's card and fingerprint, auto-lock time, passphrase change, a new
recovery code, wipe after failed unlocks, the duress passphrase, trusted HQ cards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from fieldkit import i18n, locations
from fieldkit.errors import FieldkitError, FileAccessError
from fieldkit.services import identity, settings, trust
from fieldkit.ui.base import FieldkitScreen, error_text
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.screens.dialogs import (
    CardCheckScreen,
    ConfirmScreen,
    PassphraseCheckScreen,
    SecretOnceScreen,
)
from fieldkit.ui.screens.duress import DuressSection
from fieldkit.ui.screens.unlock import new_passphrase_refusal, strength_text
from fieldkit.ui.screens.wipe_after import WipeAfterSection
from fieldkit.ui.text import LiteralTable, fill, printable

# The trusted HQ cards' name column: wide enough for a long name at 80 columns.
NAME_WIDTH = 44


class SettingsScreen(FieldkitScreen):
    CSS_PATH = "settings.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", N_("Back"))]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="box"):
            yield Label(
                _("This device") if self.vault.kind == "field" else _("This HQ"), classes="title"
            )
            yield Static("", id="my-card")
            with Horizontal(classes="line"):
                yield Input(placeholder=_("Where to write the card"), id="card-out")
                yield Button(_("Write card"), id="write-card")
            yield Static("", id="card-written")
            yield Label(_("Auto-lock"), classes="title")
            with Horizontal(classes="line"):
                yield Input(id="autolock", type="integer")
                yield Label(_("seconds without activity"))
                yield Button(_("Save"), id="save-autolock")
            yield Label(_("Change the passphrase"), classes="title")
            yield Input(password=True, placeholder=_("New passphrase"), id="new")
            yield Static("", id="strength", classes="muted")
            yield Input(password=True, placeholder=_("Repeat the new passphrase"), id="again")
            yield Button(_("Change passphrase"), id="change")
            yield Static("", id="pass-result")
            yield Label(_("Recovery code"), classes="title")
            yield Button(_("Make a new recovery code…"), id="new-code")
            yield WipeAfterSection()
            if self.vault.kind == "field":
                yield Label(_("Trusted HQ cards"), classes="title")
                yield LiteralTable(id="hq-cards")
                with Horizontal(classes="line"):
                    yield Input(placeholder=_("Path to an HQ card"), id="card")
                    yield Button(_("Trust…"), id="trust")
                    yield Button(_("Remove selected"), id="untrust", variant="error")
                yield Static("", id="card-result")
            yield DuressSection()
            # Kept outside the vault (the language is needed before it is unlocked).
            yield Label(_("Language"), classes="title")
            with Horizontal(classes="line"):
                yield Select(
                    [(name, code) for code, name in i18n.LANGUAGES.items()],
                    value=i18n.saved_language() or i18n.current_language(),
                    allow_blank=False,
                    id="language",
                )
                yield Label(_("applies at the next start"), classes="muted")
        yield Footer()

    def on_mount(self) -> None:
        self.show_my_card()
        self.query_one("#autolock", Input).value = str(settings.autolock_seconds(self.db))
        if self.vault.kind == "field":
            table = self.query_one("#hq-cards", LiteralTable)
            table.cursor_type = "row"
            self.load_cards()

    # ---- this vault's own card (enrolment: HQ compares its fingerprint) -------------
    def show_my_card(self) -> None:
        me = identity.load(self.db, identity.ROLE_FOR_KIND[self.vault.kind]).card
        self.query_one("#my-card", Static).update(
            fill(_("{name}\nFingerprint: {fp}"), name=me.name, fp=me.short_code)
        )
        drives = locations.removable_drives(self.fk.ctx.removable_root)
        folder = drives[0] if drives else self.fk.ctx.start_dir
        name = "device.card" if self.vault.kind == "field" else "hq.card"
        self.query_one("#card-out", Input).value = str(folder / name)

    @on(Button.Pressed, "#write-card")
    @on(Input.Submitted, "#card-out")
    def write_card(self) -> None:
        out = Path(self.query_one("#card-out", Input).value.strip()).expanduser()
        shown = self.query_one("#card-written", Static)
        try:
            me = identity.load(self.db, identity.ROLE_FOR_KIND[self.vault.kind])
            identity.write_card(out, me.card_text())
        except FieldkitError as exc:
            shown.update(error_text(exc))
            return
        shown.update(
            fill(
                _("Card written to {path}. HQ reads fingerprint {fp} back to you."),
                path=out,
                fp=me.card.short_code,
            )
        )

    def load_cards(self) -> None:
        table = self.query_one("#hq-cards", LiteralTable)
        cards = trust.trusted_hq_cards(self.db)
        # Widths set here, from the names: a card trusted from a dialog is added while the
        # screen waits under it, and auto widths then stayed at the headings' ("Шта",
        # "D7R2-413Q"). A long name is shown whole up to NAME_WIDTH columns.
        name = _("Name")
        width = max([cell_len(name)] + [cell_len(printable(c.name)) for c in cards])
        table.clear(columns=True)
        table.add_column(name, width=min(width, NAME_WIDTH))
        table.add_column(_("Fingerprint"), width=24)
        for c in cards:
            table.add_row(c.name, c.short_code, key=c.short_code)

    def confirmed(self, what: str, then: Callable[[], object]) -> None:
        """Ask for the passphrase again; run `then` only if it is right."""

        def answered(ok: bool | None) -> None:
            if ok and self.fk.vault is not None:
                then()

        self.app.push_screen(PassphraseCheckScreen(what), answered)

    @on(Button.Pressed, "#save-autolock")
    @on(Input.Submitted, "#autolock")
    def save_autolock(self) -> None:
        try:
            seconds = int(self.query_one("#autolock", Input).value or "0")
        except ValueError:
            self.notify(_("Not a number."), severity="error")
            return
        if not settings.MIN_AUTOLOCK <= seconds <= settings.MAX_AUTOLOCK:
            self.notify(
                _("Auto-lock must be between {a} seconds and 8 hours.").format(
                    a=settings.MIN_AUTOLOCK
                ),
                severity="error",
            )
            return

        def save() -> None:
            try:
                settings.set_autolock_seconds(self.db, seconds)
            except FieldkitError as exc:
                self.notify(error_text(exc).plain, severity="error")
                return
            self.fk.autolock_seconds = seconds
            self.notify(_("Auto-lock after {n} seconds.").format(n=seconds))

        self.confirmed(_("Auto-lock after {n} seconds.").format(n=seconds), save)

    @on(Select.Changed, "#language")
    def choose_language(self, event: Select.Changed) -> None:
        code = str(event.value)
        if code == (i18n.saved_language() or i18n.current_language()):
            return
        try:
            i18n.save_language(code)
        except OSError as exc:
            self.notify(error_text(FileAccessError.from_os(_("language setting"), exc)).plain)
            return
        self.notify(
            _("Language saved: {name}. It applies at the next start.").format(
                name=i18n.LANGUAGES[code]
            )
        )

    @on(Input.Changed, "#new")
    def strength(self, event: Input.Changed) -> None:
        self.query_one("#strength", Static).update(strength_text(event.value))

    @on(Button.Pressed, "#change")
    @on(Input.Submitted, "#again")
    def change(self) -> None:
        new = self.query_one("#new", Input).value
        result = self.query_one("#pass-result", Static)
        refusal = new_passphrase_refusal(new, self.query_one("#again", Input).value)
        if refusal is not None:
            result.update(refusal)
            return

        def change() -> None:
            result.update(_("Changing…"))
            self.run_change(new)

        self.confirmed(_("Change the passphrase."), change)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_change(self, new: str) -> None:
        try:
            self.vault.change_passphrase(new)
        except FieldkitError as exc:
            self.from_worker(self.query_one("#pass-result", Static).update, error_text(exc))
            return
        self.from_worker(
            self.query_one("#pass-result", Static).update,
            _("Passphrase changed. The recovery code is unchanged."),
        )

    @on(Button.Pressed, "#new-code")
    def new_code(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.confirmed(_("Make a new recovery code."), self.make_code)

        self.app.push_screen(
            ConfirmScreen(
                _("Make a new recovery code? The old one will stop working."),
                yes=_("Make new code"),
            ),
            answered,
        )

    @work(thread=True, exclusive=True, exit_on_error=False)
    def make_code(self) -> None:
        code = self.vault.new_recovery_code()
        self.from_worker(self.app.push_screen, SecretOnceScreen(_("Your new recovery code"), code))

    @on(Button.Pressed, "#trust")
    @on(Input.Submitted, "#card")
    def trust_card(self) -> None:
        path = Path(self.query_one("#card", Input).value.strip()).expanduser()
        try:
            text, card = trust.load_card_file(path)
        except FieldkitError as exc:
            self.query_one("#card-result", Static).update(error_text(exc))
            return

        def add() -> None:
            try:
                trust.trust_hq(self.db, text)
            except FieldkitError as exc:
                self.query_one("#card-result", Static).update(error_text(exc))
                return
            self.load_cards()

        def answered(yes: bool | None) -> None:
            if yes:
                self.confirmed(_("Trust this HQ card."), add)

        self.app.push_screen(
            CardCheckScreen(_("HQ card: {name}"), card, _("Does it match what HQ reads to you?")),
            answered,
        )

    @on(Button.Pressed, "#untrust")
    def untrust(self) -> None:
        table = self.query_one("#hq-cards", LiteralTable)
        if not table.row_count:
            return
        code = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not code:
            return

        def remove() -> None:
            trust.untrust_hq(self.db, code)
            self.load_cards()

        self.confirmed(_("Stop trusting HQ card {fp}.").format(fp=code), remove)

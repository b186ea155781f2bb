"""Unlock: Argon2id runs in a worker thread with visible progress; the screen never freezes."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import Button, Footer, Header, Input, Label, ProgressBar, Static

from fieldkit.errors import AuthenticationFailed, FieldkitError
from fieldkit.services import passphrase_policy
from fieldkit.services.vault import Vault, vault_exists
from fieldkit.ui.base import FieldkitScreen, error_text
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.text import literal


class UnlockScreen(FieldkitScreen):
    CSS_PATH = "unlock.tcss"
    AUTO_FOCUS = "#passphrase"

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="box"):
            yield Label(_("fieldkit is locked"), id="title")
            yield Static(literal(self.fk.ctx.vault_dir), classes="muted")
            yield Input(password=True, placeholder=_("Passphrase"), id="passphrase")
            yield Button(_("Unlock"), variant="primary", id="unlock")
            yield ProgressBar(total=None, show_eta=False, id="progress", classes="hidden")
            yield Static("", id="message", classes="error")
            yield Button(
                _("Forgot the passphrase? Use the recovery code"), id="recover", variant="default"
            )
        yield Footer()

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def start(self) -> None:
        pw = self.query_one("#passphrase", Input)
        if not pw.value:
            return
        self.query_one("#message", Static).update(_("Unlocking…"))
        self.query_one("#message", Static).remove_class("error")
        self.query_one("#progress").remove_class("hidden")
        pw.disabled = True
        self.query_one("#unlock", Button).disabled = True
        self.unlock(pw.value)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def unlock(self, passphrase: str) -> None:
        try:
            vault = Vault.unlock(self.fk.ctx.vault_dir, passphrase, on_upgrade=self.upgrading)
        except AuthenticationFailed:
            if not vault_exists(self.fk.ctx.vault_dir):  # wiped after too many failures
                self.from_worker(self.fk.first_run)
                return
            self.from_worker(
                self.failed,
                _("Wrong passphrase. Check the keyboard layout and Caps Lock, then try again."),
            )
            return
        except FieldkitError as exc:
            self.from_worker(self.failed, error_text(exc).plain)
            return
        self.app.call_from_thread(hand_over, self, vault)

    def upgrading(self, done: int, total: int) -> None:
        """From the worker, while the first unlock after an update indexes every record
        again (store/schema.py, version 8): the bar and the line say how far it is."""
        self.from_worker(self._show_upgrade, done, total)

    def _show_upgrade(self, done: int, total: int) -> None:
        self.query_one("#message", Static).update(
            _("Upgrading the search index: {done} of {total} records…").format(
                done=done, total=total
            )
        )
        self.query_one("#progress", ProgressBar).update(total=total, progress=done)

    def failed(self, message: str) -> None:
        msg = self.query_one("#message", Static)
        msg.update(literal(message))
        msg.add_class("error")
        self.query_one("#progress").add_class("hidden")
        pw = self.query_one("#passphrase", Input)
        pw.disabled = False
        pw.value = ""
        pw.focus()
        self.query_one("#unlock", Button).disabled = False

    @on(Button.Pressed, "#recover")
    def recover(self) -> None:
        self.app.push_screen(RecoverScreen())


class RecoverScreen(FieldkitScreen):
    """Recovery code -> new passphrase."""

    CSS_PATH = "unlock.tcss"
    BINDINGS = [("escape", "app.pop_screen", N_("Back"))]

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="box"):
            yield Label(_("Recover with the recovery code"), id="title")
            yield Input(
                placeholder="XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX", id="code", password=True
            )
            yield Input(password=True, placeholder=_("New passphrase"), id="new")
            yield Static("", id="strength", classes="muted")
            yield Input(password=True, placeholder=_("Repeat the new passphrase"), id="again")
            yield Button(_("Recover"), variant="primary", id="go")
            yield ProgressBar(total=None, show_eta=False, id="progress", classes="hidden")
            yield Static("", id="message", classes="error")
        yield Footer()

    @on(Input.Changed, "#new")
    def strength(self, event: Input.Changed) -> None:
        self.query_one("#strength", Static).update(strength_text(event.value))

    @on(Button.Pressed, "#go")
    def go(self) -> None:
        code = self.query_one("#code", Input).value
        new = self.query_one("#new", Input).value
        if new != self.query_one("#again", Input).value:
            self.query_one("#message", Static).update(_("The two passphrases differ."))
            return
        problem = passphrase_policy.strength_problem(new)
        if problem:
            self.query_one("#message", Static).update(_("Passphrase refused: ") + problem)
            return
        self.query_one("#progress").remove_class("hidden")
        self.run_recovery(code, new)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_recovery(self, code: str, new: str) -> None:
        try:
            vault = Vault.unlock_with_recovery_code(
                self.fk.ctx.vault_dir, code, on_upgrade=self.upgrading
            )
            vault.change_passphrase(new)
        except FieldkitError as exc:
            if not vault_exists(self.fk.ctx.vault_dir):  # wiped after too many failures
                self.from_worker(self.fk.first_run)
                return
            self.from_worker(self.failed, error_text(exc).plain)
            return
        self.app.call_from_thread(hand_over, self, vault)

    def upgrading(self, done: int, total: int) -> None:
        self.from_worker(self._show_upgrade, done, total)

    def _show_upgrade(self, done: int, total: int) -> None:
        self.query_one("#message", Static).update(
            _("Upgrading the search index: {done} of {total} records…").format(
                done=done, total=total
            )
        )
        self.query_one("#progress", ProgressBar).update(total=total, progress=done)

    def failed(self, message: str) -> None:
        self.query_one("#message", Static).update(literal(message))
        self.query_one("#progress").add_class("hidden")


def hand_over(screen: FieldkitScreen, vault: Vault) -> None:
    """Give a vault opened in a worker to the app, unless its screen is gone by then (a
    quick wipe or the app closing came first): then nothing stays open."""
    if screen.is_attached and screen in screen.app.screen_stack:
        screen.fk.unlocked(vault)
    else:
        vault.lock()


def strength_text(value: str) -> Text:
    if not value:
        return Text("")
    problem, guesses = passphrase_policy.assess(value)
    label = passphrase_policy.label_for(problem, guesses)
    strength = _("Strength")
    return literal(f"{strength}: {_(label)}" + (f" ({_(problem)})" if problem else ""))


def new_passphrase_refusal(new: str, again: str) -> Text | None:
    """Why a new passphrase typed twice (Settings: the passphrase, the duress passphrase)
    is refused, as the screen shows it; None when it is accepted."""
    if new != again:
        return Text(_("The two passphrases differ."))
    problem = passphrase_policy.strength_problem(new)
    if problem:
        return literal(_("Passphrase refused: ") + _(problem))
    return None

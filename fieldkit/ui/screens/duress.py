"""Settings section: the duress passphrase (set, replace, remove).

A widget of its own, so the Settings screen only yields it. Saving asks for the
passphrase again, like every security setting; the Argon2id work runs in a worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from fieldkit.errors import FieldkitError
from fieldkit.ui.base import error_text
from fieldkit.ui.i18n import _
from fieldkit.ui.screens.dialogs import PassphraseCheckScreen
from fieldkit.ui.screens.unlock import new_passphrase_refusal, strength_text
from fieldkit.ui.text import literal

if TYPE_CHECKING:
    from fieldkit.services.vault import Vault
    from fieldkit.ui.app import FieldkitApp

HELP = _(
    "A second passphrase. Typed at the unlock screen (or in any fieldkit command), it "
    "wipes this vault, as the quick wipe does, and opens a new, empty vault that looks "
    "just made. It does not protect a copy of the disk taken earlier, nor against "
    "someone who knows fieldkit has this feature: see SECURITY.md."
)


class DuressSection(Vertical):
    DEFAULT_CSS = """
    DuressSection { height: auto; }
    DuressSection #duress-help { margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Label(_("Duress passphrase"), classes="title")
        yield Static("", id="duress-state")
        yield Input(password=True, placeholder=_("Duress passphrase"), id="duress-new")
        yield Static("", id="duress-strength", classes="muted")
        yield Input(password=True, placeholder=_("Repeat the duress passphrase"), id="duress-again")
        with Horizontal(classes="line"):
            yield Button(_("Set duress passphrase"), id="duress-set")
            yield Button(_("Remove"), id="duress-remove", variant="error")
        yield Static("", id="duress-result")
        yield Static(HELP, id="duress-help", classes="muted")

    def on_mount(self) -> None:
        self.show_state()

    def _vault(self) -> Vault | None:
        return cast("FieldkitApp", self.app).vault

    def show_state(self) -> None:
        vault = self._vault()
        try:
            is_set = vault is not None and vault.has_duress_passphrase()
        except FieldkitError:
            is_set = False
        self.query_one("#duress-state", Static).update(
            _("A duress passphrase is set.") if is_set else _("No duress passphrase is set.")
        )
        self.query_one("#duress-remove", Button).display = is_set

    @on(Input.Changed, "#duress-new")
    def strength(self, event: Input.Changed) -> None:
        self.query_one("#duress-strength", Static).update(strength_text(event.value))

    @on(Button.Pressed, "#duress-set")
    def set_duress(self) -> None:
        new = self.query_one("#duress-new", Input).value
        result = self.query_one("#duress-result", Static)
        refusal = new_passphrase_refusal(new, self.query_one("#duress-again", Input).value)
        if refusal is not None:
            result.update(refusal)
            return

        def answered(ok: bool | None) -> None:
            if ok:
                result.update(_("Saving…"))
                self.run_set(new)

        self.app.push_screen(PassphraseCheckScreen(_("Set the duress passphrase.")), answered)

    @on(Button.Pressed, "#duress-remove")
    def remove_duress(self) -> None:
        def answered(ok: bool | None) -> None:
            if ok:
                self.run_remove()

        self.app.push_screen(
            PassphraseCheckScreen(_("Remove the duress passphrase.")), answered
        )

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_set(self, new: str) -> None:
        vault = self._vault()
        if vault is None:
            return
        try:
            vault.set_duress_passphrase(new)
        except FieldkitError as exc:
            self.app.call_from_thread(self.done, error_text(exc).plain)
            return
        self.app.call_from_thread(self.done, _("Duress passphrase set."))

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_remove(self) -> None:
        vault = self._vault()
        if vault is None:
            return
        try:
            vault.remove_duress_passphrase()
        except FieldkitError as exc:
            self.app.call_from_thread(self.done, error_text(exc).plain)
            return
        self.app.call_from_thread(self.done, _("Duress passphrase removed."))

    def done(self, message: str) -> None:
        if not self.is_attached:
            return
        for name in ("#duress-new", "#duress-again"):
            self.query_one(name, Input).value = ""
        self.query_one("#duress-result", Static).update(literal(message))
        self.show_state()

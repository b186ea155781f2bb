"""First run: create the vault, choose a passphrase, see the recovery code once, and
(on a field laptop) import HQ's card, comparing its fingerprint."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    RadioButton,
    RadioSet,
    Static,
)

from fieldkit.crypto import kdf
from fieldkit.errors import FieldkitError
from fieldkit.services import passphrase_policy, trust
from fieldkit.services.vault import Vault
from fieldkit.ui.base import FieldkitScreen, error_text
from fieldkit.ui.i18n import _
from fieldkit.ui.screens.dialogs import CardCheckScreen, FilePickerScreen, SecretOnceScreen
from fieldkit.ui.screens.unlock import strength_text
from fieldkit.ui.text import literal
from fieldkit.ui.widgets import MarkedRadioButton


class SetupScreen(FieldkitScreen):
    CSS_PATH = "setup.tcss"

    def __init__(self) -> None:
        super().__init__()
        self._vault: Vault | None = None
        self._suggested: str | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="box"), ContentSwitcher(initial="step-welcome", id="steps"):
            with Vertical(id="step-welcome"):
                yield Label(_("Welcome to fieldkit"), classes="title")
                yield Static(
                    _(
                        "fieldkit keeps testimony in an encrypted vault on this "
                        "laptop. Let's create it."
                    )
                )
                yield Static(literal(self.fk.ctx.vault_dir), classes="muted")
                yield Label(_("This vault is for:"))
                with RadioSet(id="kind"):
                    yield MarkedRadioButton(
                        _("fieldwork (this laptop records testimony)"), value=True, id="kind-field"
                    )
                    yield MarkedRadioButton(_("HQ (receives bundles from laptops)"), id="kind-hq")
                yield Input(
                    placeholder=_("Name on this vault's card, e.g. FW-03 laptop"), id="name"
                )
                yield Button(_("Next"), variant="primary", id="to-passphrase")
            with Vertical(id="step-passphrase"):
                yield Label(_("Choose a passphrase"), classes="title")
                yield Static(
                    _(
                        "Four or more unrelated words. It is never stored: if you "
                        "forget it, you need the recovery code."
                    )
                )
                yield Input(password=True, placeholder=_("Passphrase"), id="pass1")
                yield Static("", id="strength", classes="muted")
                yield Input(password=True, placeholder=_("Repeat the passphrase"), id="pass2")
                yield Static("", id="pass-error", classes="error")
                with Horizontal(classes="buttons"):
                    yield Button(_("Create the vault"), variant="primary", id="create")
                    yield Button(_("Suggest one"), id="suggest")
                yield ProgressBar(total=None, show_eta=False, id="progress", classes="hidden")
            with Vertical(id="step-hq"):
                yield Label(_("Import HQ's card"), classes="title")
                yield Static(
                    _(
                        "HQ gives you a card file. Its fingerprint must match what HQ "
                        "reads to you over the phone. You can also do this later in "
                        "Settings."
                    )
                )
                yield Input(placeholder=_("Path to the HQ card"), id="card-path")
                with Horizontal(classes="buttons"):
                    yield Button(_("Browse…"), id="browse")
                    yield Button(_("Import"), variant="primary", id="import-card")
                    yield Button(_("Skip"), id="skip")
                yield Static("", id="card-message")
        yield Footer()

    # ---- step 1 ----------------------------------------------------------------
    @on(Button.Pressed, "#to-passphrase")
    @on(Input.Submitted, "#name")  # Enter in the last field goes on, as a person expects
    def to_passphrase(self) -> None:
        self.query_one("#steps", ContentSwitcher).current = "step-passphrase"
        self.query_one("#pass1", Input).focus()

    def _kind(self) -> str:
        return "hq" if self.query_one("#kind-hq", RadioButton).value else "field"

    # ---- step 2 ----------------------------------------------------------------
    @on(Input.Changed, "#pass1")
    def strength(self, event: Input.Changed) -> None:
        text = strength_text(event.value)
        if event.value and event.value == self._suggested:
            shown = _("Suggested: {words} (write it down now; it is not shown again)")
            text = literal(shown.format(words=self._suggested))
        self.query_one("#strength", Static).update(text)

    @on(Input.Submitted, "#pass1")
    def to_repeat(self) -> None:
        self.query_one("#pass2", Input).focus()

    @on(Button.Pressed, "#suggest")
    def suggest(self) -> None:
        """Fill both fields with six words from the EFF list, and show them once."""
        self._suggested = passphrase_policy.suggest()
        self.query_one("#pass1", Input).value = self._suggested
        self.query_one("#pass2", Input).value = self._suggested

    @on(Input.Submitted, "#pass2")
    @on(Button.Pressed, "#create")
    def create(self) -> None:
        p1 = self.query_one("#pass1", Input).value
        p2 = self.query_one("#pass2", Input).value
        err = self.query_one("#pass-error", Static)
        problem = passphrase_policy.strength_problem(p1)
        if problem:
            err.update(_("Passphrase refused: ") + problem)
            return
        if p1 != p2:
            err.update(_("The two passphrases differ."))
            return
        err.update("")
        self.query_one("#create", Button).disabled = True
        self.query_one("#progress").remove_class("hidden")
        name = self.query_one("#name", Input).value.strip() or None
        self.make_vault(p1, self._kind(), name)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def make_vault(self, passphrase: str, kind: str, name: str | None) -> None:
        ctx = self.fk.ctx
        try:
            params = ctx.kdf_params or kdf.calibrate()[0]
            vault, code = Vault.create(
                ctx.vault_dir,
                passphrase,
                kdf_params=params,
                kind=kind,
                name=name,
                random_bytes=ctx.random_bytes,
                now=ctx.now,
            )
        except FieldkitError as exc:
            self.from_worker(self.failed, error_text(exc).plain)
            return
        self.app.call_from_thread(self._made, vault, code, params)

    def _made(self, vault: Vault, code: str, params: kdf.Argon2Params) -> None:
        if self.is_attached and self in self.app.screen_stack:
            self.created(vault, code, params)
        else:  # a quick wipe came first: the screen that asked for this vault is gone
            vault.lock()
            self.fk.wipe_made_after_quick_wipe(vault)

    def held_vault(self) -> Vault | None:
        """The vault made here and not yet handed to the app (a quick wipe locks it)."""
        return self._vault

    def failed(self, message: str) -> None:
        self.query_one("#pass-error", Static).update(literal(message))
        self.query_one("#create", Button).disabled = False
        self.query_one("#progress").add_class("hidden")

    def created(self, vault: Vault, code: str, params: kdf.Argon2Params) -> None:
        self._vault = vault
        self.notify(_("Vault created. Key derivation: ") + params.describe(), timeout=6)
        self.app.push_screen(SecretOnceScreen(_("Your recovery code"), code), self.after_code)

    def after_code(self, _ack: object) -> None:
        if self._vault is not None and self._vault.kind == "field":
            self.query_one("#steps", ContentSwitcher).current = "step-hq"
            self.query_one("#card-path", Input).focus()
        else:
            self.finish()

    # ---- step 3 ----------------------------------------------------------------
    @on(Button.Pressed, "#browse")
    def browse(self) -> None:
        self.app.push_screen(FilePickerScreen(self.fk.ctx.start_dir, _("HQ card")), self.picked)

    def picked(self, path: Path | None) -> None:
        if path is not None:
            self.query_one("#card-path", Input).value = str(path)

    @on(Button.Pressed, "#import-card")
    @on(Input.Submitted, "#card-path")
    def import_card(self) -> None:
        path = Path(self.query_one("#card-path", Input).value.strip()).expanduser()
        try:
            text, card = trust.load_card_file(path)
        except FieldkitError as exc:
            self.query_one("#card-message", Static).update(error_text(exc))
            return

        def answered(yes: bool | None) -> None:
            if yes and self._vault is not None:
                trust.trust_hq(self._vault.db, text)
                self.notify(_("HQ card trusted."))
                self.finish()

        self.app.push_screen(
            CardCheckScreen(
                _("HQ card: {name}"),
                card,
                _("Does this match, character for character, what HQ reads to you over the phone?"),
            ),
            answered,
        )

    @on(Button.Pressed, "#skip")
    def finish(self) -> None:
        if self._vault is not None:
            self.fk.unlocked(self._vault)

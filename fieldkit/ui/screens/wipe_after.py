"""Settings section: wipe the vault after N failed unlocks (off, 5, 10 or 20).

A widget of its own, so the Settings screen only yields it. Saving asks for the
passphrase again, like every security setting."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Select, Static

from fieldkit.errors import FieldkitError
from fieldkit.services.attempts import LIMITS
from fieldkit.ui.base import error_text
from fieldkit.ui.i18n import _
from fieldkit.ui.screens.dialogs import PassphraseCheckScreen

if TYPE_CHECKING:
    from fieldkit.services.vault import Vault
    from fieldkit.ui.app import FieldkitApp

HELP = _(
    "Counts wrong passphrases and recovery codes typed into fieldkit, even across "
    "restarts, and wipes the vault when the count is reached. It does not protect a "
    "copy of the disk, guessed on another computer: there only the slow key "
    "derivation (Argon2id) and a long passphrase help. Someone who can write to the "
    "disk can also reset the count."
)


class WipeAfterSection(Vertical):
    DEFAULT_CSS = """
    WipeAfterSection { height: auto; }
    WipeAfterSection Select { width: 24; }
    WipeAfterSection #wipe-after-help { margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Label(_("Wipe after failed unlocks"), classes="title")
        with Horizontal(classes="line"):
            yield Select(
                [(_("Off"), 0)] + [(str(n), n) for n in LIMITS if n],
                allow_blank=False,
                value=0,
                id="wipe-after",
            )
            yield Button(_("Save"), id="save-wipe-after")
        yield Static(HELP, id="wipe-after-help", classes="muted")

    def on_mount(self) -> None:
        vault = self._vault()
        if vault is not None:
            self.query_one("#wipe-after", Select).value = vault.wipe_after_failures()

    def _vault(self) -> Vault | None:
        return cast("FieldkitApp", self.app).vault

    @on(Button.Pressed, "#save-wipe-after")
    def save(self) -> None:
        limit = cast(int, self.query_one("#wipe-after", Select).value)
        what = (
            _("Wipe the vault after {n} failed unlocks in a row.").format(n=limit)
            if limit
            else _("Never wipe the vault after failed unlocks.")
        )

        def answered(ok: bool | None) -> None:
            vault = self._vault()
            if not ok or vault is None:
                return
            try:
                vault.set_wipe_after_failures(limit)
            except FieldkitError as exc:
                self.notify(error_text(exc).plain, severity="error")
                return
            self.notify(what)

        self.app.push_screen(PassphraseCheckScreen(what), answered)

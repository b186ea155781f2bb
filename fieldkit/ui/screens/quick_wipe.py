"""Quick wipe: a five-second countdown that Escape (or the Cancel button) stops.

Opened by Ctrl+\\ from any screen, the unlock and first-run screens included (an app
binding with priority, so no widget can swallow it). When the countdown ends the screen
dismisses with True and the app crypto-shreds the vault (FieldkitApp.wipe_now). Only
Escape and a click on Cancel stop it: someone else pressing Enter or typing at the laptop
does not."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from fieldkit.ui.base import FieldkitModal
from fieldkit.ui.i18n import N_, _

COUNTDOWN_SECONDS = 5


class QuickWipeScreen(FieldkitModal):
    """Dismisses with True when the countdown reaches zero, False when cancelled."""

    CSS_PATH = "dialogs.tcss"
    AUTO_FOCUS = None
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), priority=True)]

    def __init__(self, *, tick_seconds: float = 1.0) -> None:
        super().__init__()
        self.left = COUNTDOWN_SECONDS
        self._tick_seconds = tick_seconds

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_("Wipe the vault"), classes="title")
            yield Static(
                _(
                    "Everything in this vault is destroyed for good: it cannot be "
                    "opened again, with the passphrase or the recovery code."
                )
            )
            yield Static(self._left_text(), id="wipe-left", classes="secret")
            with Horizontal(classes="buttons"):
                cancel = Button(_("Cancel (Esc)"), id="wipe-cancel")
                # A click cancels; Enter or Space cannot reach it (it never has the focus).
                cancel.can_focus = False
                yield cancel

    def on_mount(self) -> None:
        # Nothing focused: Enter or Space typed by someone else must not press a button.
        self.set_focus(None)
        self.set_interval(self._tick_seconds, self.tick)

    def _left_text(self) -> str:
        return _("Wiping in {n} s. Press Esc to cancel.").format(n=self.left)

    def tick(self) -> None:
        if not self.is_attached:
            return
        self.left -= 1
        if self.left <= 0:
            self.dismiss(True)
            return
        self.query_one("#wipe-left", Static).update(self._left_text())

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#wipe-cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(False)

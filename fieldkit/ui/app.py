"""fieldkit's Textual app: screens come and go; the vault is held here and nowhere else."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from fieldkit.errors import FieldkitError, VaultNotFound, WipeIncomplete
from fieldkit.locations import VaultPaths
from fieldkit.services import settings
from fieldkit.services.vault import Vault, read_keyslots, vault_exists
from fieldkit.services.wipe import wipe
from fieldkit.ui.context import AppContext
from fieldkit.ui.i18n import N_, _, translate_bindings
from fieldkit.ui.text import printable


def _alt_digits_as_alt() -> None:
    """Read ESC+digit as Alt+digit. Linux terminals (xterm, GNOME Terminal, Konsole, the
    console, tmux) send Alt+2 as ESC 2; Textual's table reads those bytes as the character
    WezTerm on macOS types with Option+2 ("™"), so the editor's Alt+1…7 typed "¡™£¢∞§¶"
    into a field instead of showing a tab. Without the entries Textual's parser reports
    the sequence as alt+digit, which is what every fieldkit user's terminal means."""
    for digit in "0123456789":
        ANSI_SEQUENCES_KEYS.pop(f"\x1b{digit}", None)  # type: ignore[attr-defined]


_alt_digits_as_alt()

# Textual's command palette entries fieldkit keeps (their titles; help texts below).
_TEXTUAL_COMMANDS = (N_("Theme"), N_("Quit"), N_("Keys"), N_("Maximize"), N_("Minimize"))
_TEXTUAL_HELP = (
    N_("Change the current theme"),
    N_("Quit the application as soon as possible"),
    N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Maximize the focused widget"),
    N_("Minimize the widget and restore to normal size"),
)

_ACTIVITY = (
    events.Key,
    events.MouseDown,
    events.MouseUp,
    events.MouseScrollDown,
    events.MouseScrollUp,
    events.Paste,
)


class FieldkitApp(App[None]):
    TITLE = "fieldkit"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("ctrl+l", "lock", N_("Lock"), priority=True),
        Binding("ctrl+q", "quit", N_("Quit"), priority=True),
        # Quick wipe, from every screen. Ctrl+\\ sits away from the keys people use
        # (and is the same key in Russian and Tajik layouts); a countdown follows.
        Binding("ctrl+backslash", "quick_wipe", N_("Wipe"), priority=True, show=False),
    ]
    # Textual adds the command palette's key (ctrl+p) to the footer as "palette";
    # translate_bindings translates it with this msgid.
    PALETTE_LABEL = N_("palette")

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        translate_bindings(self)
        self.ctx = ctx
        self.vault: Vault | None = None
        self.autolock_seconds = settings.DEFAULT_AUTOLOCK
        self._last_activity = ctx.monotonic()

    # ---- a crash ------------------------------------------------------------------
    def _handle_exception(self, error: Exception) -> None:
        """Replaces Textual's crash report, which prints a traceback with every local
        variable (testimony, passphrases) to the terminal. Like the CLI, say only the
        exception's type. The app still exits with code 1, and under Pilot the error is
        still raised to the test (Textual keeps it in `_exception` for that)."""
        from rich.text import Text

        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self.bell()
        self._exit_renderables.append(
            Text(
                _("fieldkit: error: {message}").format(
                    message=_("internal error ({name})").format(name=type(error).__name__)
                )
                + "\n"
                + _("fieldkit: hint: {hint}").format(
                    hint=_(
                        "this is a bug in fieldkit; please report it (see SECURITY.md). "
                        "Drafts are saved every few seconds: reopen fieldkit to continue."
                    )
                )
            )
        )
        self._close_messages_no_wait()

    # ---- start, unlock, lock -----------------------------------------------------
    def on_mount(self) -> None:
        self.set_interval(self.ctx.idle_check_seconds, self.check_autolock)
        from fieldkit.ui.screens.setup import SetupScreen
        from fieldkit.ui.screens.unlock import UnlockScreen

        if vault_exists(self.ctx.vault_dir):
            self.push_screen(UnlockScreen())
        else:
            self.push_screen(SetupScreen())

    def first_run(self) -> None:
        """Show the first-run screen exactly as on a machine that never had a vault: the
        whole stack replaced, no notification left over."""
        from fieldkit.ui.screens.setup import SetupScreen

        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.clear_notifications()
        self.push_screen(SetupScreen())

    def unlocked(self, vault: Vault, *, then: Screen[object] | None = None) -> None:
        self.vault = vault
        self.autolock_seconds = settings.autolock_seconds(vault.db)
        self.note_activity()
        if self._wipe_countdown():
            # An unlock that ends during the countdown must not replace the countdown:
            # the wipe locks this vault too, and a cancel goes home (action_quick_wipe).
            return
        self.go_home()
        if then is not None:
            self.push_screen(then)

    def _wipe_countdown(self) -> bool:
        from fieldkit.ui.screens.quick_wipe import QuickWipeScreen

        return any(isinstance(s, QuickWipeScreen) for s in self.screen_stack)

    def home_screen(self) -> Screen[object]:
        from fieldkit.ui.screens.hq import HqScreen
        from fieldkit.ui.screens.records import RecordsScreen

        if self.vault is not None and self.vault.kind == "hq":
            return HqScreen()
        return RecordsScreen()

    def go_home(self) -> None:
        self._replace_stack(self.home_screen())

    def _replace_stack(self, screen: Screen[object]) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def action_lock(self) -> None:
        """Lock now: save any draft, close every database connection (work still running
        in a worker fails and rolls back), drop every key, clear the clipboard and the
        screen."""
        if self.vault is None:
            return
        for screen in list(self.screen_stack):
            save = getattr(screen, "save_draft_now", None)
            if callable(save):
                save()
        vault, self.vault = self.vault, None
        vault.lock()
        # Text copied from a field (Textual copies with OSC 52) must not outlive the lock.
        self.copy_to_clipboard("")
        from fieldkit.ui.screens.unlock import UnlockScreen

        self._replace_stack(UnlockScreen())
        self.notify(_("Locked."), timeout=3)

    # ---- quick wipe ----------------------------------------------------------------
    def action_quick_wipe(self) -> None:
        from fieldkit.ui.screens.quick_wipe import QuickWipeScreen

        if self._wipe_countdown():
            return
        locked = self.vault is None

        def answered(go: bool | None) -> None:
            if go:
                self.wipe_now()
            elif locked and self.vault is not None:
                self.go_home()  # the unlock finished during the countdown

        self.push_screen(QuickWipeScreen(tick_seconds=self.ctx.wipe_tick_seconds), answered)

    def wipe_now(self) -> None:
        """Crypto-shred the vault the way `fieldkit wipe` does (services/wipe.py), then
        look like a machine that never had one. Drafts are not saved (they would be
        wiped), the clipboard is emptied, every connection closed, every key zeroed."""
        self.workers.cancel_all()
        if self.vault is not None:
            vault, self.vault = self.vault, None
            vault.lock()
        for screen in self.screen_stack:
            held = getattr(screen, "held_vault", None)
            if callable(held):
                v = held()
                if v is not None:
                    v.lock()
        self.copy_to_clipboard("")
        try:
            wipe(self.ctx.vault_dir)
        except VaultNotFound:
            pass  # nothing to wipe (first run): the screen is reset all the same
        except WipeIncomplete as exc:
            if os.path.lexists(VaultPaths(self.ctx.vault_dir).keyslots):
                # The one case the screen must say something: the vault may still open.
                self.first_run()
                self.notify(f"{exc.message}. {exc.hint}", severity="error", timeout=30)
                return
        except FieldkitError:
            pass
        self.first_run()

    def wipe_made_after_quick_wipe(self, made: Vault) -> None:
        """A vault whose creation finished after a quick wipe is wiped too (only that
        one: the keyslot file on disk must still be the one it wrote)."""
        try:
            on_disk = read_keyslots(made.paths)
        except FieldkitError:
            return
        if on_disk.vault_id == made.keyslot_file.vault_id:
            with contextlib.suppress(FieldkitError):
                wipe(made.paths.root)

    # ---- auto-lock --------------------------------------------------------------
    def note_activity(self) -> None:
        self._last_activity = self.ctx.monotonic()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, _ACTIVITY):
            self.note_activity()
        await super().on_event(event)

    def check_autolock(self) -> None:
        """Runs on a timer on the UI thread, so a worker never holds it up. A running
        worker is not activity: an unattended laptop locks even in the middle of an
        export; the export stops with the lock and can be run again."""
        if self.vault is None:
            return
        if self.ctx.monotonic() - self._last_activity >= self.autolock_seconds:
            self.action_lock()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Workers never take the app down (exit_on_error=False); a failure is shown, with
        the exception's type only: its message could hold testimony."""
        if event.state == WorkerState.ERROR and self.vault is None:
            # The lock closed the connection it worked on: expected, and rolled back.
            self.notify(_("Work in progress stopped at the lock; nothing half-done was saved."))
        elif event.state == WorkerState.ERROR:
            name = type(event.worker.error).__name__
            self.notify(
                _("Something went wrong ({name}). Nothing half-done was saved.").format(name=name),
                severity="error",
                timeout=10,
            )

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is shown literally (a message may quote a name or a file
        name); `markup` is accepted and ignored."""
        super().notify(
            printable(message, multiline=True),
            title=printable(title),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # ---- command palette -----------------------------------------------------------
    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(
                CommandPalette(placeholder=_("Search for commands…"), id="--command-palette")
            )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        # Textual's own entries, in the reader's language. Its "Screenshot" is left out:
        # it writes what the screen shows (testimony) to an unencrypted SVG file.
        for command in super().get_system_commands(screen):
            if command.title in _TEXTUAL_COMMANDS:
                yield command._replace(title=_(command.title), help=_(command.help))
        if self.vault is None:
            return
        yield SystemCommand(_("Lock"), _("Lock the vault now"), self.action_lock)
        actions = getattr(screen, "PALETTE", ())
        for title, help_text, action in actions:
            yield SystemCommand(title, help_text, getattr(screen, f"action_{action}"))

    def on_unmount(self) -> None:
        if self.vault is not None:
            self.vault.lock()
            self.vault = None

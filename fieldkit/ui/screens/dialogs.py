"""Small modal dialogs: confirm, show a secret once, pick a file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DirectoryTree, Input, Label, Static

from fieldkit.errors import FieldkitError
from fieldkit.ui.base import FieldkitModal
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.text import fill, literal
from fieldkit.ui.widgets import MarkedCheckbox

if TYPE_CHECKING:
    from fieldkit.formats.cards import Card


class ConfirmScreen(FieldkitModal):
    """Yes or no. Dismisses with True only on an explicit yes. A question given as a
    string is shown literally (it may quote a name); give a Text to style it."""

    CSS_PATH = "dialogs.tcss"
    # A binding, not key_escape: the key would go on to the screen below and close it.
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, question: str | Text, *, yes: str | None = None) -> None:
        super().__init__()
        self.question = literal(question, multiline=True) if isinstance(question, str) else question
        self.yes = yes or _("Yes")

    def body(self) -> ComposeResult:
        yield Static(self.question, classes="question")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield from self.body()
            with Horizontal(classes="buttons"):
                yield Button(self.yes, variant="error", id="yes")
                yield Button(_("Cancel"), variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    @on(Button.Pressed)
    def answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_cancel(self) -> None:
        self.dismiss(False)


class CardCheckScreen(ConfirmScreen):
    """Does this card match what the other side reads out? Used for HQ cards on a
    laptop and device cards at HQ. The card's name is shown literally on its own line
    and the fingerprint, always this card's own, on the next: nothing in a name can
    restyle, hide or stand in for the code."""

    def __init__(self, heading: str, card: Card, ask: str) -> None:
        super().__init__(fill(heading, name=card.name), yes=_("It matches"))
        self.card = card
        self.ask = ask

    def body(self) -> ComposeResult:
        yield Static(self.question, id="card-name")
        yield Static(
            fill(_("Fingerprint: {fp}"), fp=self.card.short_code),
            id="fingerprint",
            classes="fingerprint",
        )
        yield Static(self.ask)


class PassphraseCheckScreen(FieldkitModal):
    """The passphrase again, before a security setting changes (someone at an unlocked,
    unattended laptop must not be able to trust a card or weaken the lock). Checked
    against the vault's keyslot in a worker; dismisses with True only when it opens it."""

    CSS_PATH = "dialogs.tcss"
    # A binding, not key_escape: the key would go on to the screen below and close it.
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(_("Enter the passphrase to confirm"), classes="title")
            yield Static(literal(self.what))
            yield Input(password=True, placeholder=_("Passphrase"), id="reauth")
            yield Static("", id="reauth-message", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(_("Confirm"), variant="primary", id="reauth-ok")
                yield Button(_("Cancel"), id="reauth-cancel")

    def on_mount(self) -> None:
        self.query_one("#reauth", Input).focus()

    @on(Input.Submitted, "#reauth")
    @on(Button.Pressed, "#reauth-ok")
    def check(self) -> None:
        field = self.query_one("#reauth", Input)
        if not field.value or field.disabled:
            return
        field.disabled = True
        self.query_one("#reauth-ok", Button).disabled = True
        self.query_one("#reauth-message", Static).update(_("Checking…"))
        self.run_check(field.value)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_check(self, passphrase: str) -> None:
        vault = self.fk.vault
        try:
            ok = vault is not None and vault.check_passphrase(passphrase)
        except FieldkitError:  # the keyslot file cannot be read: no change either
            ok = False
        self.app.call_from_thread(self.checked, ok)

    def checked(self, ok: bool) -> None:
        if not self.is_attached:
            return
        if ok:
            self.dismiss(True)
            return
        field = self.query_one("#reauth", Input)
        field.value = ""
        field.disabled = False
        field.focus()
        self.query_one("#reauth-ok", Button).disabled = False
        self.query_one("#reauth-message", Static).update(
            _("Wrong passphrase: nothing was changed.")
        )

    @on(Button.Pressed, "#reauth-cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class SecretOnceScreen(FieldkitModal):
    """Show a recovery code once; continue only after the user acknowledges it."""

    CSS_PATH = "dialogs.tcss"

    def __init__(self, title: str, secret: str) -> None:
        super().__init__()
        self.title_text = title
        self.secret = secret

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="title")
            yield Static(self.secret, id="secret", classes="secret")
            yield Static(
                _(
                    "Write it on paper and keep it apart from this laptop. Anyone with "
                    "this code can open the vault. It will not be shown again."
                )
            )
            yield MarkedCheckbox(_("I have written it down"), id="ack")
            yield Button(_("Continue"), id="continue", variant="primary", disabled=True)

    @on(Checkbox.Changed, "#ack")
    def acknowledged(self, event: Checkbox.Changed) -> None:
        self.query_one("#continue", Button).disabled = not event.value

    @on(Button.Pressed, "#continue")
    def done(self) -> None:
        self.query_one("#secret", Static).update("")
        self.dismiss(True)


class _LiteralTree(DirectoryTree):
    """File names are data: shown literally, control characters escaped."""

    def process_label(self, label: str | Text) -> Text:
        return literal(label.plain if isinstance(label, Text) else label)


class FilePickerScreen(FieldkitModal):
    """Choose a file: browse the tree or type a path. Dismisses with a Path or None."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, start: Path, title: str) -> None:
        super().__init__()
        self.start = start if start.is_dir() else Path.home()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="title")
            yield _LiteralTree(str(self.start), id="tree")
            yield Input(placeholder=_("or type a path"), id="path")
            with Horizontal(classes="buttons"):
                yield Button(_("Choose"), variant="primary", id="choose")
                yield Button(_("Cancel"), id="cancel")

    @on(DirectoryTree.FileSelected)
    def picked(self, event: DirectoryTree.FileSelected) -> None:
        """Enter on a file puts it in the box; Enter on it again chooses it (without
        the mouse, nothing else in the tree says "this one")."""
        box = self.query_one("#path", Input)
        if box.value == str(event.path):
            self.choose()
        else:
            box.value = str(event.path)

    @on(Button.Pressed, "#choose")
    @on(Input.Submitted, "#path")
    def choose(self) -> None:
        value = self.query_one("#path", Input).value.strip()
        if value and Path(value).expanduser().is_file():
            self.dismiss(Path(value).expanduser())
        else:
            self.notify(_("Choose an existing file."), severity="warning")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class _FolderTree(_LiteralTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if p.is_dir()]


class FolderPickerScreen(FieldkitModal):
    """Choose a folder: browse the tree (Enter opens a folder and chooses it) or type a
    path. Dismisses with a Path or None."""

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", N_("Cancel"))]

    def __init__(self, start: Path, title: str) -> None:
        super().__init__()
        self.start = start if start.is_dir() else Path.home()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="title")
            yield _FolderTree(str(self.start), id="tree")
            yield Input(str(self.start), placeholder=_("or type a path"), id="path")
            with Horizontal(classes="buttons"):
                yield Button(_("Choose this folder"), variant="primary", id="choose")
                yield Button(_("Cancel"), id="cancel")

    @on(DirectoryTree.DirectorySelected)
    def picked(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one("#path", Input).value = str(event.path)

    @on(Button.Pressed, "#choose")
    @on(Input.Submitted, "#path")
    def choose(self) -> None:
        value = self.query_one("#path", Input).value.strip()
        if value and Path(value).expanduser().is_dir():
            self.dismiss(Path(value).expanduser())
        else:
            self.notify(_("Choose an existing folder."), severity="warning")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

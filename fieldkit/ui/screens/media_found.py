"""What a photo, recording or video just attached carries (services/media.py): shown
once after intake, with what happens to it. Values come from the file: literal."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from fieldkit.services.media import NOT_MEDIA, UNREADABLE, Findings
from fieldkit.ui.base import FieldkitModal
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.text import printable


def heading(found: Findings) -> str:
    if found.kind == "image":
        return _("This photo carries identifying metadata:")
    if found.kind == "video":
        return _("This video carries identifying metadata:")
    return _("This recording carries identifying metadata:")


def findings_text(found: Findings) -> Text:
    """One line per finding: the label (translated) in bold, the value literal."""
    out = Text(end="")
    for i, f in enumerate(found.items):
        if i:
            out.append("\n")
        out.append(printable(_(f.label)) + ": ", style="bold")
        out.append(printable(f.value))
    if found.more:
        out.append("\n" + _("… and {n} more").format(n=found.more))
    return out


def short_line(found: Findings) -> str:
    """For the line under the attachments table: what kinds of metadata, or nothing."""
    if found.status == UNREADABLE:
        return _("Its metadata could not be read: {problem}").format(
            problem=printable(found.problem)
        )
    if found.status == NOT_MEDIA or not found.identifying:
        return ""
    kinds = ", ".join(dict.fromkeys(_(f.label) for f in found.items))
    return _("It carries: {what}").format(what=kinds)


class MetadataFoundScreen(FieldkitModal):
    """Shown after a file with identifying metadata is attached. Dismisses with None."""

    CSS_PATH = "dialogs.tcss"
    DEFAULT_CSS = """
    MetadataFoundScreen { align: center middle; }
    MetadataFoundScreen #found { height: auto; max-height: 10; margin-bottom: 1; }
    """
    BINDINGS = [Binding("escape", "close", N_("Close"))]

    def __init__(self, found: Findings) -> None:
        super().__init__()
        self.found = found

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(heading(self.found), classes="title")
            with VerticalScroll(id="found"):
                yield Static(findings_text(self.found), id="found-items")
            yield Static(
                _(
                    "The original is kept unaltered in the vault as evidence; copies HQ "
                    "extracts are stripped of this metadata by default."
                )
            )
            with Horizontal(classes="buttons"):
                yield Button(_("Close"), variant="primary", id="found-ok")

    def on_mount(self) -> None:
        self.query_one("#found-ok", Button).focus()

    @on(Button.Pressed, "#found-ok")
    def action_close(self) -> None:
        self.dismiss(None)

"""A record's custody report at HQ (docs/custody.md): the same text as `fieldkit hq
custody ID`, every version of the record and each of its attachments."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header, Static

from fieldkit.errors import FieldkitError
from fieldkit.services import custody, custody_text
from fieldkit.services.attachments import AttachmentService
from fieldkit.ui.base import FieldkitScreen, error_text
from fieldkit.ui.i18n import _
from fieldkit.ui.text import literal, printable


class CustodyScreen(FieldkitScreen):
    """Read-only: the report of the record's versions, then of each attachment."""

    CSS_PATH = "hq.tcss"
    BINDINGS = [Binding("escape", "app.pop_screen", _("Back"))]

    def __init__(self, record_id: str) -> None:
        super().__init__()
        self.record_id = record_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(Static(id="custody-report"), id="view")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = printable(_("Custody") + " " + self.record_id[:12])
        attachments = AttachmentService(self.db).for_record(self.record_id)
        items = [self.record_id, *(a.id for a in attachments)]
        lines: list[str] = []
        try:
            for item in items:
                report, problems = custody.report(self.db, item, now=self.fk.ctx.now)
                lines += custody_text.text_report(report, problems, _)
                lines += [printable(p) for p in problems]
                lines.append("")
        except FieldkitError as exc:
            self.query_one("#custody-report", Static).update(error_text(exc))
            return
        # Names and reasons come from people and bundles: shown literally, never as markup.
        self.query_one("#custody-report", Static).update(literal("\n".join(lines), multiline=True))
        self.query_one("#view", VerticalScroll).focus()

    def shown_text(self) -> str:
        return str(self.query_one("#custody-report", Static).render())

"""The records list: search as you type, filter by status, incident type and risk, sort."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Select, Static

from fieldkit.services import delivery, model
from fieldkit.services.drafts import DraftService
from fieldkit.services.records import RecordService
from fieldkit.services.types import RecordSummary
from fieldkit.ui.base import FieldkitScreen
from fieldkit.ui.i18n import N_, _
from fieldkit.ui.text import LiteralTable

# Rows loaded at a time; more are fetched as the cursor nears the end, so 10,000 records
# scroll smoothly and typing a search never lays out more than one page.
SHOWN = 60
SEARCH_DELAY = 0.12


def incident_label(code: str) -> str:
    return _(model.INCIDENT_TYPES.get(code, code))


# The records list's mark for a record that lacks consent (model.lacks_consent): a
# character, readable without colour, explained under the table.
NO_CONSENT_MARK = "!"


class RecordTable(LiteralTable):
    """A table of record summaries; the row key is the record id. On a field vault it
    also shows each record's delivery state (services/delivery.py) and, in its first
    column, NO_CONSENT_MARK for a record that lacks consent."""

    def __init__(self, *, with_delivery: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.with_delivery = with_delivery

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        if self.with_delivery:
            self.add_column(NO_CONSENT_MARK, key="consent", width=1)
        self.add_column(_("Status"), key="status", width=9)
        if self.with_delivery:
            self.add_column(_("Delivery"), key="delivery", width=delivery.SHORT_WIDTH)
        self.add_column(_("Interview"), key="date", width=10)
        self.add_column(_("Pseudonym"), key="pseudonym", width=16)
        self.add_column(_("Risk"), key="risk", width=8)
        self.add_column(_("Incidents"), key="incidents", width=24)

    def show(
        self,
        rows: list[RecordSummary],
        *,
        append: bool = False,
        states: dict[str, delivery.DeliveryState] | None = None,
        lacking: set[str] | None = None,
    ) -> None:
        if not append:
            self.clear()
        for r in rows:
            self.add_row(
                *(
                    [NO_CONSENT_MARK if r.id in (lacking or ()) else ""]
                    if self.with_delivery
                    else []
                ),
                _(r.status),
                *([Text(states[r.id].short(_))] if states else []),
                r.interview_date or "—",
                r.pseudonym,
                _(r.risk),
                ", ".join(incident_label(t) for t in r.incident_types),
                key=r.id,
            )


class RecordsScreen(FieldkitScreen):
    CSS_PATH = "records.tcss"
    AUTO_FOCUS = "#search"
    BINDINGS = [
        # priority: these work while typing in the search box too (none of them is an
        # editing key of Input).
        Binding("ctrl+n", "new_record", N_("New"), priority=True),
        Binding("enter", "open_record", N_("Open"), show=False),
        Binding("ctrl+t", "export", N_("Export"), priority=True),
        Binding("ctrl+r", "receipts", N_("Receipts"), priority=True),
        Binding("ctrl+o", "settings", N_("Settings"), priority=True),
        # Not in the footer (the search box has the focus from the start; the palette
        # lists it): with it the footer did not fit 80 columns.
        Binding("ctrl+f", "focus_search", N_("Search"), priority=True, show=False),
    ]
    PALETTE = (
        (_("New record"), _("Start a new testimony"), "new_record"),
        (_("Export bundle"), _("Sign and encrypt new records for HQ"), "export"),
        (_("Receipts and purge"), _("Import an HQ receipt, purge delivered records"), "receipts"),
        (_("Settings"), _("Auto-lock, passphrase, recovery code, HQ cards"), "settings"),
        (_("Search"), _("Search the testimony"), "focus_search"),
    )

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self._more = False
        self._lacking: set[str] = set()  # shown records that lack consent

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="filters"):
            yield Input(placeholder=_("Search (names, places, narrative…)"), id="search")
            yield Select([(_(s), s) for s in model.USER_STATUSES], prompt=_("Status"), id="status")
            yield Select(
                [(incident_label(t), t) for t in model.INCIDENT_TYPES],
                prompt=_("Incident"),
                id="type",
            )
            yield Select([(_(r), r) for r in model.RISK_LEVELS], prompt=_("Risk"), id="risk")
            yield Select(
                [
                    (_("updated"), "updated"),
                    (_("interview"), "interview"),
                    (_("risk"), "risk"),
                    (_("pseudonym"), "pseudonym"),
                ],
                prompt=_("Sort"),
                id="sort",
                allow_blank=False,
                value="updated",
            )
        yield RecordTable(id="table", with_delivery=True)
        yield Static("", id="count", classes="muted")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_list()
        drafts = DraftService(self.db).all()
        if drafts:
            self.notify(_("Unsaved drafts were found and reopened."), timeout=5)
            from fieldkit.ui.screens.editor import EditorScreen

            d = drafts[0]
            if d.gone_record_id is not None:
                self.notify(
                    _("The record of this draft was deleted; the draft opens as a new record."),
                    timeout=8,
                )
            self.app.push_screen(EditorScreen(d.record_id, draft=d))

    def on_screen_resume(self) -> None:
        if self.fk.vault is not None:
            self.refresh_list()

    def _value(self, sel_id: str) -> str | None:
        v = self.query_one(sel_id, Select).value
        return v if isinstance(v, str) else None

    def _page(self, offset: int) -> list[RecordSummary]:
        rs = RecordService(self.db)
        query = self.query_one("#search", Input).value.strip()
        status, itype, risk = self._value("#status"), self._value("#type"), self._value("#risk")
        if query:
            return rs.search(
                query, status=status, incident_type=itype, risk=risk, limit=SHOWN, offset=offset
            )
        return rs.list_records(
            status=status,
            incident_type=itype,
            risk=risk,
            sort=self._value("#sort") or "updated",
            limit=SHOWN,
            offset=offset,
        )

    def refresh_list(self) -> None:
        rows = self._page(0)
        self._more = len(rows) == SHOWN
        self._lacking = RecordService(self.db).lacking_consent([r.id for r in rows])
        self.query_one(RecordTable).show(
            rows, states=delivery.states(self.db, rows), lacking=self._lacking
        )
        self._update_count()

    def _update_count(self) -> None:
        table = self.query_one(RecordTable)
        total = RecordService(self.db).count()
        more = _(" (more below)") if self._more else ""
        legend = (
            "   " + _("{mark} = consent not recorded or not obtained").format(mark=NO_CONSENT_MARK)
            if self._lacking
            else ""
        )
        self.query_one("#count", Static).update(
            _("{shown} shown of {total} records").format(shown=table.row_count, total=total)
            + more
            + legend
        )

    @on(DataTable.RowHighlighted)
    def maybe_load_more(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one(RecordTable)
        if self._more and event.cursor_row >= table.row_count - 5:
            rows = self._page(table.row_count)
            self._more = len(rows) == SHOWN
            lacking = RecordService(self.db).lacking_consent([r.id for r in rows])
            self._lacking |= lacking
            table.show(rows, append=True, states=delivery.states(self.db, rows), lacking=lacking)
            self._update_count()

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        # Search as you type, without running a query for every keystroke of a fast typist.
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(SEARCH_DELAY, self.refresh_list)

    @on(Select.Changed)
    def filter_changed(self) -> None:
        self.refresh_list()

    @on(Input.Submitted, "#search")
    def to_table(self) -> None:
        self.query_one(RecordTable).focus()

    @on(DataTable.RowSelected)
    def row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open(event.row_key.value)

    def open(self, record_id: str | None) -> None:
        from fieldkit.ui.screens.editor import EditorScreen

        self.app.push_screen(EditorScreen(record_id))

    def action_new_record(self) -> None:
        self.open(None)

    def action_open_record(self) -> None:
        table = self.query_one(RecordTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.open(key)

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_export(self) -> None:
        from fieldkit.ui.screens.export import ExportScreen

        self.app.push_screen(ExportScreen())

    def action_receipts(self) -> None:
        from fieldkit.ui.screens.receipts import ReceiptsScreen

        self.app.push_screen(ReceiptsScreen())

    def action_settings(self) -> None:
        from fieldkit.ui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen())

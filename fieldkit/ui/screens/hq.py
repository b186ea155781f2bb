"""HQ mode: import bundles with a verification report for each, the device roster,
all testimony by device, and exports for analysis."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    RichLog,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from fieldkit.errors import FieldkitError
from fieldkit.services import analysis_export, hq_import, model, stats, trust
from fieldkit.services.hq_query import Filters
from fieldkit.services.records import RecordService
from fieldkit.ui.base import FieldkitScreen, error_text
from fieldkit.ui.i18n import N_, _, ngettext
from fieldkit.ui.screens.dialogs import CardCheckScreen, ConfirmScreen, FilePickerScreen
from fieldkit.ui.screens.hq_record import RecordViewScreen
from fieldkit.ui.screens.records import SHOWN, RecordTable
from fieldkit.ui.text import SAFE_INPUT, LiteralTable, fill, literal, printable
from fieldkit.ui.widgets import MarkedCheckbox

__all__ = ["HqScreen", "RecordViewScreen", "report_line"]


class HqScreen(FieldkitScreen):
    CSS_PATH = "hq.tcss"
    BINDINGS = [
        Binding("ctrl+o", "settings", N_("Settings"), priority=True),
        # One key per tab, as in the editor: without them the keyboard reaches a tab only
        # through the palette or by walking the tab bar. Priority: a terminal's Alt+2
        # comes with the character "2", which a focused field would type.
        Binding("alt+1", "tab_import", N_("Tabs"), key_display="alt+1…5", priority=True),
        Binding("alt+2", "tab_devices", N_("Devices"), show=False, priority=True),
        Binding("alt+3", "tab_testimony", N_("Testimony"), show=False, priority=True),
        Binding("alt+4", "tab_export", N_("Export"), show=False, priority=True),
        Binding("alt+5", "tab_counts", N_("Counts"), show=False, priority=True),
    ]
    PALETTE = (
        (_("Import bundles"), _("Verify and import bundles from devices"), "tab_import"),
        (_("Devices"), _("Enrol, revoke, see missing bundles"), "tab_devices"),
        (_("Testimony"), _("Browse and search all testimony"), "tab_testimony"),
        (_("Export for analysis"), _("JSON Lines or CSV, honouring consent"), "tab_export"),
        (_("Counts"), _("Incidents by type, month, perpetrator, country"), "tab_counts"),
        (_("Settings"), _("Auto-lock, passphrase, recovery code"), "settings"),
    )

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane(_("Import"), id="tab-import"), Vertical():
                with Horizontal(classes="line"):
                    yield Input(placeholder=_("Bundle file"), id="bundle-path")
                    yield Button(_("Browse…"), id="browse-bundle")
                    yield Button(_("Add"), id="add-bundle")
                yield OptionList(id="queue")
                with Horizontal(classes="line"):
                    yield Input(placeholder=_("Folder for receipts (optional)"), id="receipts")
                    yield Button(_("Verify and import"), variant="primary", id="import")
                # min_width: RichLog's default (78) wraps wider than an 80-column
                # screen's box, and the right edge of every long line was cut off.
                yield RichLog(
                    id="report", wrap=True, markup=False, highlight=False, min_width=20
                )
            with TabPane(_("Devices"), id="tab-devices"), Vertical():
                yield LiteralTable(id="devices")
                with Horizontal(classes="line"):
                    yield Input(placeholder=_("Device card to enrol"), id="device-card")
                    yield Button(_("Enrol…"), id="enroll")
                    yield Button(_("Revoke selected…"), id="revoke", variant="error")
            with TabPane(_("Testimony"), id="tab-testimony"), Vertical():
                with Horizontal(classes="line"):
                    yield Input(placeholder=_("Search"), id="hq-search")
                    yield Select([], prompt=_("All devices"), id="device-filter")
                yield RecordTable(id="hq-table")
                yield Static("", id="hq-count", classes="muted")
            with TabPane(_("Export"), id="tab-export"), VerticalScroll(id="export-pane"):
                yield Label(_("Export testimony for analysis (plaintext: keep it encrypted)"))
                with Horizontal(classes="line"):
                    yield Select(
                        [("JSON Lines", "jsonl"), ("CSV", "csv")],
                        id="fmt",
                        allow_blank=False,
                        value="jsonl",
                    )
                    yield Select(
                        [
                            (_("HQ use: all but withdrawn consent"), "hq"),
                            (_("anonymised publication"), "anonymised"),
                            (_("named publication"), "named"),
                        ],
                        id="scope",
                        allow_blank=False,
                        value="hq",
                    )
                yield MarkedCheckbox(
                    _("Leave out real names, contacts and exact addresses"), id="omit", value=True
                )
                yield MarkedCheckbox(
                    _("CSV for Excel (UTF-8 byte order mark)"), id="bom", value=True
                )
                yield Label(_("Filters (also for Counts): incidents…"), classes="muted")
                with Horizontal(classes="line"):
                    yield Input(placeholder=_("from YYYY-MM-DD"), id="f-from")
                    yield Input(placeholder=_("to YYYY-MM-DD"), id="f-to")
                    yield Input(placeholder=_("country (RU)"), id="f-country")
                with Horizontal(classes="line"):
                    yield Select(
                        [(literal(_(label)), code) for code, label in model.INCIDENT_TYPES.items()],
                        prompt=_("Any type"),
                        id="f-type",
                    )
                    yield Select([], prompt=_("Any device"), id="f-device")
                with Horizontal(classes="line"):
                    yield Input(id="out", highlighter=SAFE_INPUT)
                    yield Button(_("Export"), variant="primary", id="export")
                yield Static("", id="export-result")
            with TabPane(_("Counts"), id="tab-counts"), Vertical():
                with Horizontal(classes="line"):
                    yield Button(_("Count"), variant="primary", id="count")
                    yield Input(id="counts-out", highlighter=SAFE_INPUT)
                    yield Button(_("Save table"), id="save-counts", disabled=True)
                with VerticalScroll(id="chart-pane"):
                    yield Static(
                        _("Press Count: incidents by type, month, perpetrator and country."),
                        id="chart",
                    )
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#devices", DataTable)
        table.cursor_type = "row"
        table.add_columns(_("Fingerprint"), _("Name"), _("State"), _("Last"), _("Missing"))
        self.query_one("#out", Input).value = str(self.fk.ctx.start_dir / "analysis.jsonl")
        self.query_one("#counts-out", Input).value = str(self.fk.ctx.start_dir / "counts.csv")
        self.counts: stats.Stats | None = None
        self.status(_("Import report"))
        self.report_lines: list[str] = []
        self.load_devices()
        self.load_records()

    def on_screen_resume(self) -> None:
        if self.fk.vault is not None:
            self.load_records()

    def show_tab(self, pane: str) -> None:
        """Show a tab and move the focus into it: left in the hidden tab, the next Tab
        would bring that tab back (seen walking HQ with the keyboard)."""
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.active = pane

        def focus_first() -> None:
            for widget in tabs.get_pane(pane).query("*"):
                if widget.focusable:
                    widget.focus()
                    return

        self.call_after_refresh(focus_first)

    def action_tab_import(self) -> None:
        self.show_tab("tab-import")

    def action_tab_devices(self) -> None:
        self.show_tab("tab-devices")

    def action_tab_testimony(self) -> None:
        self.show_tab("tab-testimony")

    def action_tab_export(self) -> None:
        self.show_tab("tab-export")

    def action_tab_counts(self) -> None:
        self.show_tab("tab-counts")

    def action_settings(self) -> None:
        from fieldkit.ui.screens.settings import SettingsScreen

        self.app.push_screen(SettingsScreen())

    # ---- import -----------------------------------------------------------------
    @on(Button.Pressed, "#browse-bundle")
    def browse(self) -> None:
        def picked(p: Path | None) -> None:
            if p is not None:
                self.query_one("#bundle-path", Input).value = str(p)
                self.add_bundle()

        self.app.push_screen(FilePickerScreen(self.fk.ctx.start_dir, _("Bundle")), picked)

    @on(Button.Pressed, "#add-bundle")
    @on(Input.Submitted, "#bundle-path")
    def add_bundle(self) -> None:
        field = self.query_one("#bundle-path", Input)
        value = field.value.strip()
        if value:
            self.query_one("#queue", OptionList).add_option(Option(literal(value), id=value))
            field.value = ""

    @on(Button.Pressed, "#import")
    def start_import(self) -> None:
        queue = self.query_one("#queue", OptionList)
        paths = [
            Path(str(queue.get_option_at_index(i).id)).expanduser()
            for i in range(queue.option_count)
        ]
        if not paths:
            self.notify(_("Add bundle files first."), severity="warning")
            return
        receipts = self.query_one("#receipts", Input).value.strip()
        queue.clear_options()
        self.run_import(paths, Path(receipts).expanduser() if receipts else None)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def run_import(self, paths: list[Path], receipts: Path | None) -> None:
        conn = self.vault.connect()
        try:
            for path in hq_import.import_order(conn, paths):  # each device's own order
                self.from_worker(self.status, _("Verifying {p}…").format(p=path.name))
                try:
                    rep = hq_import.import_bundle(
                        conn, path, receipts_dir=receipts, now=self.fk.ctx.now
                    )
                except FieldkitError as exc:
                    verdict = _("REFUSED")
                    line = _("{p}: {why} (nothing was imported)").format(
                        p=path.name, why=error_text(exc).plain
                    )
                else:
                    verdict, line = verdict_of(rep), report_line(rep)
                self.from_worker(self.report, verdict, line)
        finally:
            conn.close()
        self.from_worker(self.status, _("Import report"))
        self.from_worker(self.load_devices)
        self.from_worker(self.load_records)

    def status(self, text: str) -> None:
        self.query_one("#report", RichLog).border_title = printable(text)

    def report(self, verdict: str, line: str) -> None:
        """One line of the import report, wrapped to the log's width; the verdict first,
        in bold (readable without colour)."""
        text = Text(end="")
        if verdict:
            refused = verdict == _("REFUSED")
            text.append(printable(verdict), style="bold reverse" if refused else "bold")
            text.append(" ")
        text.append(printable(line))
        self.report_lines.append(text.plain)
        self.query_one("#report", RichLog).write(text)

    # ---- devices ----------------------------------------------------------------
    def load_devices(self) -> None:
        table = self.query_one("#devices", DataTable)
        table.clear()
        options: list[tuple[Text, str]] = []
        for d in trust.devices(self.db):
            state = _("revoked {at}").format(at=d.revoked_at) if d.revoked_at else _("active")
            table.add_row(
                d.short_code,
                d.name,
                state,
                str(d.last_seq),
                ", ".join(map(str, d.missing)) or "—",
                key=d.short_code,
            )
            options.append((literal(d.name), d.fingerprint.hex()))
        sel = self.query_one("#device-filter", Select)
        with self.prevent(Select.Changed):
            sel.set_options(options)
        # The export and count filter selects a device by its name (hq_query.Filters).
        names = sorted({d.name for d in trust.devices(self.db)})
        self.query_one("#f-device", Select).set_options((literal(n), n) for n in names)

    @on(Button.Pressed, "#enroll")
    def enroll(self) -> None:
        path = Path(self.query_one("#device-card", Input).value.strip()).expanduser()
        try:
            text, card = trust.load_card_file(path)
        except FieldkitError as exc:
            self.notify(error_text(exc).plain, severity="error")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                try:
                    trust.enroll(self.db, text, now=self.fk.ctx.now)
                except FieldkitError as exc:
                    self.notify(error_text(exc).plain, severity="error")
                self.load_devices()

        self.app.push_screen(
            CardCheckScreen(
                _("Device card: {name}"),
                card,
                _("Does it match what the fieldworker reads to you?"),
            ),
            answered,
        )

    @on(Button.Pressed, "#revoke")
    def revoke(self) -> None:
        table = self.query_one("#devices", DataTable)
        if not table.row_count:
            return
        code = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if not code:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                trust.revoke(self.db, code, now=self.fk.ctx.now)
                self.load_devices()

        self.app.push_screen(
            ConfirmScreen(
                _("Revoke device {fp}? Every later bundle it signs will be refused.").format(
                    fp=code
                ),
                yes=_("Revoke"),
            ),
            answered,
        )

    # ---- testimony --------------------------------------------------------------
    @on(Input.Changed, "#hq-search")
    @on(Select.Changed, "#device-filter")
    def load_records(self) -> None:
        rs = RecordService(self.db)
        query = self.query_one("#hq-search", Input).value.strip()
        picked = self.query_one("#device-filter", Select).value
        device = bytes.fromhex(picked) if isinstance(picked, str) else None
        if query:
            rows = rs.search(query, device=device, limit=SHOWN)
        else:
            rows = rs.list_records(device=device, limit=SHOWN)
        self.query_one("#hq-table", RecordTable).show(rows)
        self.query_one("#hq-count", Static).update(
            _("{n} shown of {t} records").format(n=len(rows), t=rs.count())
        )

    @on(DataTable.RowSelected, "#hq-table")
    def open_record(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(RecordViewScreen(event.row_key.value))

    # ---- export -----------------------------------------------------------------
    @on(Select.Changed, "#fmt")
    def fmt_changed(self, event: Select.Changed) -> None:
        out = self.query_one("#out", Input)
        if isinstance(event.value, str):
            out.value = str(Path(out.value).with_suffix("." + event.value))

    def filters(self) -> Filters:
        def text(wid: str) -> str | None:
            return self.query_one(wid, Input).value.strip() or None

        def choice(wid: str) -> str | None:
            v = self.query_one(wid, Select).value
            return v if isinstance(v, str) else None

        return Filters(
            text("#f-from"), text("#f-to"), choice("#f-device"), text("#f-country"),
            choice("#f-type"),
        ).checked()  # fmt: skip

    @on(Button.Pressed, "#export")
    def export(self) -> None:
        result = self.query_one("#export-result", Static)
        try:
            filters = self.filters()
        except FieldkitError as exc:
            result.update(error_text(exc))
            return
        fmt, scope = self.query_one("#fmt", Select).value, self.query_one("#scope", Select).value
        self.query_one("#export", Button).disabled = True
        result.update(_("Exporting…"))
        self.run_export(
            Path(self.query_one("#out", Input).value).expanduser(),
            str(fmt),
            str(scope),
            self.query_one("#omit", Checkbox).value,
            self.query_one("#bom", Checkbox).value,
            filters,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def run_export(
        self, out: Path, fmt: str, scope: str, omit: bool, bom: bool, filters: Filters
    ) -> None:
        """In the background, on its own connection: the UI stays usable, and the export
        reads one snapshot (analysis_export.export)."""

        def progress(n: int) -> None:
            if n % 500 == 0:
                self.from_worker(
                    self.query_one("#export-result", Static).update,
                    _("Exporting… {n} record(s) written").format(n=n),
                )

        conn = self.vault.connect()
        try:
            res = analysis_export.export(
                conn, out, fmt=fmt, scope=scope, omit_sensitive=omit, filters=filters,
                bom=bom and fmt == "csv", progress=progress,
            )  # fmt: skip
        except FieldkitError as exc:
            self.from_worker(self.export_done, error_text(exc))
            return
        finally:
            conn.close()
        self.from_worker(
            self.export_done,
            fill(
                _(
                    "{n} record(s) written to {p}; {w} withheld by consent. "
                    "This file is not encrypted."
                ),
                n=res.records,
                p=res.path,
                w=res.withheld,
            ),
        )

    def export_done(self, message: Text) -> None:
        self.query_one("#export", Button).disabled = False
        result = self.query_one("#export-result", Static)
        result.update(message)
        self.query_one("#export-pane", VerticalScroll).scroll_to_widget(result)

    # ---- counts -----------------------------------------------------------------
    @on(Button.Pressed, "#count")
    def count(self) -> None:
        chart = self.query_one("#chart", Static)
        try:
            filters = self.filters()
        except FieldkitError as exc:
            chart.update(error_text(exc))
            return
        chart.update(_("Counting…"))
        width = max(40, self.query_one("#chart-pane").size.width - 2)
        self.run_count(filters, width)

    @work(thread=True, exclusive=True, exit_on_error=False, group="count")
    def run_count(self, filters: Filters, width: int) -> None:
        conn = self.vault.connect()
        try:
            st = stats.count(conn, filters)
        except FieldkitError as exc:
            self.from_worker(self.query_one("#chart", Static).update, error_text(exc))
            return
        finally:
            conn.close()
        self.from_worker(self.show_counts, st, width)

    def show_counts(self, st: stats.Stats, width: int) -> None:
        self.counts = st
        self.query_one("#chart", Static).update(
            literal("\n".join(stats.chart_lines(st, width, _, ngettext)), multiline=True)
        )
        self.query_one("#save-counts", Button).disabled = False

    @on(Button.Pressed, "#save-counts")
    def save_counts(self) -> None:
        if self.counts is None:
            return
        out = Path(self.query_one("#counts-out", Input).value).expanduser()
        try:
            stats.write_csv(self.counts, out, bom=True)
        except FieldkitError as exc:
            self.notify(error_text(exc).plain, severity="error")
            return
        self.notify(printable(_("Counts written to {p} (not encrypted).").format(p=out)))


def verdict_of(rep: hq_import.ImportReport) -> str:
    return _("ALREADY IMPORTED") if rep.duplicate else _("IMPORTED")


def report_line(rep: hq_import.ImportReport) -> str:
    head = _("{p}: bundle {seq} from {dev} ({code}), fingerprint {fp}").format(
        p=rep.path.name, seq=rep.seq, dev=rep.device_name, code=rep.device_code, fp=rep.short_hash
    )
    if rep.duplicate:
        return head + _(": already imported, nothing changed")
    text = head + _(
        ": signature, recipients, chain and every hash verified; imported {r} "
        "record version(s), {a} attachment(s)"
    ).format(r=rep.records_new, a=rep.attachments_new)
    if rep.missing_before:
        text += _("; missing from this device: {m}").format(
            m=", ".join(map(str, rep.missing_before))
        )
    if rep.receipt:
        text += _("; receipt {r}").format(r=rep.receipt.name)
    return text

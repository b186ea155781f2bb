"""Pilot: HQ at its desk in the app: extract an attachment with a logged reason, export
with filters in the background, count incidents and save the table."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fieldkit.services import export as export_svc
from fieldkit.services import extraction, hq_import, model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.hq import HqScreen, RecordViewScreen
from fieldkit.ui.screens.hq_record import ExtractScreen
from tests.bundle_fixtures import make_pair
from tests.conftest import PASSPHRASE
from tests.ui_helpers import make_app, type_into, wait_for


def _hq_with_testimony(tmp_path: Path) -> str:
    pair = make_pair(tmp_path)
    docs = []
    for name, itype, country in (("A", "expulsion_order", "RU"), ("Б", "surveillance", "TJ")):
        d = model.template()
        d["pseudonym"] = name
        d["narrative"] = "Свидетельство " + name
        d["incidents"] = [dict(d["incidents"][0], type=itype)]
        d["incidents"][0]["place"] = {"country": country, "locality": "", "detail": ""}
        docs.append(d)
    ids = RecordService(pair.field.db).add_many(docs)
    AttachmentService(pair.field.db).add_stream(
        ids[0], io.BytesIO(b"scan bytes"), filename="order.jpg", media_type="image/jpeg"
    )
    export_svc.export(pair.field.db, tmp_path / "b.age")
    hq_import.import_bundle(pair.hq.db, tmp_path / "b.age")
    pair.field.lock()
    pair.hq.lock()
    return ids[0]


async def _unlock(pilot, app) -> None:  # type: ignore[no-untyped-def]
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, HqScreen))


async def test_extract_asks_a_reason_and_logs_it(tmp_path: Path) -> None:
    rid = _hq_with_testimony(tmp_path)
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlock(pilot, app)
        app.push_screen(RecordViewScreen(rid))
        await wait_for(pilot, lambda: isinstance(app.screen, RecordViewScreen))
        await pilot.pause()
        view = app.screen
        assert "Свидетельство A" in view.shown_text() and "order.jpg" in view.shown_text()
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExtractScreen))
        dialog = app.screen
        await pilot.click("#extract-ok")  # no reason yet: refused, the dialog stays
        await pilot.pause()
        problem = str(dialog.query_one("#extract-problem").render())
        assert app.screen is dialog and "reason" in problem
        await type_into(pilot, "#extract-reason", "appeal case file")
        # Not a photo fieldkit can strip: only the unaltered original can leave.
        await pilot.click("#extract-original")
        await pilot.click("#extract-ok")
        out = tmp_path / "order.jpg"
        await wait_for(pilot, lambda: out.exists())
        await wait_for(pilot, lambda: app.screen is view)
    assert out.read_bytes() == b"scan bytes"
    hq = Vault.unlock(tmp_path / "hq", PASSPHRASE)
    try:
        (entry,) = extraction.log(hq.db)
        assert (entry.reason, entry.outcome) == ("appeal case file", "written")
    finally:
        hq.lock()


async def test_export_with_filters_runs_in_the_background(tmp_path: Path) -> None:
    _hq_with_testimony(tmp_path)
    app = make_app(tmp_path / "hq", tmp_path)
    out = tmp_path / "tj.csv"
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlock(pilot, app)
        screen = app.screen
        screen.query_one("#tabs").active = "tab-export"
        await pilot.pause()
        screen.query_one("#fmt").value = "csv"
        await pilot.pause()
        screen.query_one("#f-country").value = "tj"
        screen.query_one("#f-device").value = "FW-03 laptop"
        screen.query_one("#out").value = str(out)
        screen.query_one("#export").press()
        await pilot.pause()
        result = screen.query_one("#export-result")
        await wait_for(pilot, lambda: "written to" in str(result.render()))
        # A filter that is not a date: said at once, nothing written.
        screen.query_one("#f-from").value = "April"
        screen.query_one("#out").value = str(tmp_path / "bad.csv")
        screen.query_one("#export").press()
        await pilot.pause()
        assert "not a date" in str(screen.query_one("#export-result").render())
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM box is ticked by default
    (row,) = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
    assert row["pseudonym"] == "Б" and row["narrative"] == "Свидетельство Б"
    assert row["device_name"] == "FW-03 laptop"
    assert not (tmp_path / "bad.csv").exists()


async def test_counts_tab_draws_bars_and_saves_the_table(tmp_path: Path) -> None:
    _hq_with_testimony(tmp_path)
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlock(pilot, app)
        screen = app.screen
        screen.query_one("#tabs").active = "tab-counts"
        await pilot.pause()
        await pilot.click("#count")
        await wait_for(pilot, lambda: screen.counts is not None)
        await pilot.pause()
        chart = str(screen.query_one("#chart").render())
        assert "2 incidents in 2 records" in chart and "█" in chart
        assert "Expulsion or deportation order" in chart
        await pilot.click("#save-counts")
        await wait_for(pilot, lambda: (tmp_path / "counts.csv").exists())
    rows = list(csv.DictReader(io.StringIO((tmp_path / "counts.csv").read_text("utf-8-sig"))))
    assert {"dimension": "country", "value": "TJ", "label": "TJ", "count": "1"} in rows


async def test_extract_dialog_shows_a_hostile_file_name_literally(tmp_path: Path) -> None:
    rid = _hq_with_testimony(tmp_path)
    hostile = "[/b]scan[b][@click=app.quit]\x1b]0;t\x07\u202egpj.exe"
    hq = Vault.unlock(tmp_path / "hq", PASSPHRASE)
    with hq.db.transaction():  # as a stolen device key could have sent it before validation
        hq.db.execute("UPDATE attachments SET filename = ?", (hostile,))
    hq.lock()
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlock(pilot, app)
        app.push_screen(RecordViewScreen(rid))
        await wait_for(pilot, lambda: isinstance(app.screen, RecordViewScreen))
        await pilot.pause()
        assert "[/b]scan[b][@click=app.quit]\\x1b]0;t\\x07\\u202egpj.exe" in app.screen.shown_text()
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExtractScreen))
        await pilot.pause()
        title = str(app.screen.query_one(".title").render())
        assert "[/b]scan[b][@click=app.quit]\\x1b]0;t\\x07\\u202egpj.exe" in title
        default = Path(app.screen.query_one("#extract-path").value)
        assert default.parent == tmp_path
        assert default.name == "[_b]scan[b][@click=app.quit]_]0;t__gpj.exe"
        assert app.is_running


async def test_custody_view_shows_a_hostile_reason_literally(tmp_path: Path) -> None:
    """The analyst's reason, with markup and a bidi override, is shown as written (the
    override escaped), and the report says it verified."""
    from fieldkit.ui.screens.hq_custody import CustodyScreen

    rid = _hq_with_testimony(tmp_path)
    reason = "[b]appeal[/b] [@click=app.quit]x \u202egpj.exe"
    hq = Vault.unlock(tmp_path / "hq", PASSPHRASE)
    aid = str(hq.db.scalar("SELECT id FROM attachments"))
    extraction.extract(hq.db, aid, tmp_path / "copy.bin", reason, original=True)
    hq.lock()
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlock(pilot, app)
        app.push_screen(RecordViewScreen(rid))
        await wait_for(pilot, lambda: isinstance(app.screen, RecordViewScreen))
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: isinstance(app.screen, CustodyScreen))
        await pilot.pause()
        text = app.screen.shown_text()
        assert "reason: [b]appeal[/b] [@click=app.quit]x \\u202egpj.exe" in text
        assert "Verified: every entry's signature and chain link checks." in text
        assert app.is_running

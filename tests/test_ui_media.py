"""Pilot: identifying metadata in the app. The editor shows what an attached photo
carries (values literal); HQ's extract dialog writes a stripped copy by default and the
unaltered original when its box is ticked."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from fieldkit.services import export as export_svc
from fieldkit.services import extraction, hq_import, model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.dialogs import FilePickerScreen
from fieldkit.ui.screens.hq import RecordViewScreen
from fieldkit.ui.screens.hq_record import ExtractScreen
from fieldkit.ui.screens.media_found import MetadataFoundScreen
from tests.bundle_fixtures import make_pair
from tests.conftest import PASSPHRASE, WEAK
from tests.test_media import EVIL, photo
from tests.test_ui_editor import new_record
from tests.test_ui_hq_desk import _unlock
from tests.ui_helpers import make_app, screen_text, type_into, wait_for


async def test_attaching_a_photo_shows_what_it_carries(tmp_path: Path) -> None:
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    (tmp_path / "IMG_1.jpg").write_bytes(photo(artist=EVIL))
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_record(pilot, app)
        await type_into(pilot, "#f-pseudonym", "Witness K-9")
        await pilot.press("alt+6")
        await pilot.pause()
        await pilot.click("#att-save")
        await wait_for(pilot, lambda: editor.record_id is not None)
        await pilot.click("#add-attachment")
        await wait_for(pilot, lambda: isinstance(app.screen, FilePickerScreen))
        await type_into(pilot, "#path", str(tmp_path / "IMG_1.jpg"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, MetadataFoundScreen))
        await pilot.pause()
        shown = screen_text(app)
        assert "This photo carries identifying metadata:" in shown
        assert "GPS position: 55.7558, 37.6173" in shown
        assert "device serial number: SN-4242" in shown
        # The artist's escape sequence and markup are shown as typed, not obeyed.
        assert "\\x1b[31mred\\x1b[0m[b]bold[/b]" in shown
        assert "kept unaltered in the vault" in shown
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is editor)
        result = str(editor.query_one("#att-result").render())
        assert "It carries: GPS position, device serial number" in result


async def test_hq_extract_strips_by_default_and_writes_the_original_when_asked(
    tmp_path: Path,
) -> None:
    pair = make_pair(tmp_path)
    d = model.template()
    rid = RecordService(pair.field.db).add(d)
    original = photo()
    AttachmentService(pair.field.db).add_stream(
        rid, io.BytesIO(original), filename="IMG_1.jpg", media_type="image/jpeg"
    )
    export_svc.export(pair.field.db, tmp_path / "b.age")
    hq_import.import_bundle(pair.hq.db, tmp_path / "b.age")
    pair.field.lock()
    pair.hq.lock()
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlock(pilot, app)
        app.push_screen(RecordViewScreen(rid))
        await wait_for(pilot, lambda: isinstance(app.screen, RecordViewScreen))
        await pilot.pause()
        view = app.screen
        assert isinstance(view, RecordViewScreen)
        assert "GPS position: 55.7558, 37.6173" in view.shown_text()
        for name, tick in (("stripped.jpg", False), ("original.jpg", True)):
            await pilot.press("ctrl+e")
            await wait_for(pilot, lambda: isinstance(app.screen, ExtractScreen))
            path = app.screen.query_one("#extract-path")
            path.value = str(tmp_path / name)  # type: ignore[attr-defined]
            if tick:
                await pilot.click("#extract-original")
            await type_into(pilot, "#extract-reason", "appeal case file")
            await pilot.press("enter")
            await wait_for(pilot, lambda n=name: (tmp_path / n).exists())  # type: ignore[misc]
            await wait_for(pilot, lambda: app.screen is view)
    with Image.open(tmp_path / "stripped.jpg") as im:
        assert not im.getexif().get_ifd(0x8825)
    assert (tmp_path / "original.jpg").read_bytes() == original
    hq = Vault.unlock(tmp_path / "hq", PASSPHRASE)
    try:
        assert [e.outcome for e in extraction.log(hq.db)] == ["written", "written"]
    finally:
        hq.lock()

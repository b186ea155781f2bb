"""Pilot: export in the field app, import and browse in the HQ app, receipt and purge back."""

from __future__ import annotations

import re
from pathlib import Path

from textual.widgets import Button, Input, OptionList

from fieldkit.services import identity, model, trust
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.export import ExportScreen
from fieldkit.ui.screens.hq import HqScreen, RecordViewScreen
from fieldkit.ui.screens.receipts import ReceiptsScreen
from fieldkit.ui.screens.records import RecordsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, type_into, wait_for


async def _unlock(pilot, app, screen_type) -> None:  # type: ignore[no-untyped-def]
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, screen_type))


async def test_field_export_hq_import_receipt_purge(tmp_path: Path) -> None:
    field, _ = Vault.create(tmp_path / "field", PASSPHRASE, kdf_params=WEAK, name="FW-07")
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ B")
    trust.trust_hq(field.db, identity.hq(hq.db).card_text())
    (tmp_path / "fw07.card").write_text(identity.device(field.db).card_text())
    doc = model.template()
    doc["narrative"] = "Свидетельство о высылке"
    rid = RecordService(field.db).add(doc)
    field.lock()
    hq.lock()
    usb = tmp_path / "usb"
    usb.mkdir()

    # 1. field: export
    app = make_app(tmp_path / "field", usb)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock(pilot, app, RecordsScreen)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        assert "Records: 1" in str(app.screen.query_one("#plan").render())
        await pilot.click("#go")
        await wait_for(
            pilot, lambda: "Fingerprint" in str(app.screen.query_one("#result").render())
        )
    bundle = next(usb.glob("*.age"))

    # 2. HQ: enrol, import with receipts, browse
    receipts = tmp_path / "receipts"
    receipts.mkdir()
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await _unlock(pilot, app, HqScreen)
        screen = app.screen
        screen.query_one("#tabs").active = "tab-devices"
        await pilot.pause()
        await type_into(pilot, "#device-card", str(tmp_path / "fw07.card"))
        await pilot.click("#enroll")
        await pilot.pause()
        await pilot.click("#yes")
        await wait_for(pilot, lambda: screen.query_one("#devices").row_count == 1)
        screen.query_one("#tabs").active = "tab-import"
        await pilot.pause()
        await type_into(pilot, "#bundle-path", str(bundle))
        await pilot.click("#add-bundle")
        assert screen.query_one("#queue", OptionList).option_count == 1
        await type_into(pilot, "#receipts", str(receipts))
        await pilot.click("#import")
        await wait_for(pilot, lambda: "verified" in "\n".join(screen.report_lines))
        assert screen.report_lines[-1].startswith("IMPORTED ")
        screen.query_one("#tabs").active = "tab-testimony"
        await pilot.pause()
        await type_into(pilot, "#hq-search", "высылке")
        await pilot.pause()
        table = screen.query_one("#hq-table")
        assert table.row_count == 1
        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordViewScreen))
        assert "Свидетельство" in app.screen.shown_text()
        await pilot.press("escape")
        await pilot.pause()
        screen.query_one("#tabs").active = "tab-export"
        await pilot.pause()
        await type_into(pilot, "#out", str(tmp_path / "a.jsonl"))
        await pilot.click("#export")
        await wait_for(pilot, lambda: (tmp_path / "a.jsonl").exists())
    receipt = next(receipts.iterdir())

    # 3. field: receipt and purge
    app = make_app(tmp_path / "field", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock(pilot, app, RecordsScreen)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReceiptsScreen))
        await type_into(pilot, "#path", str(receipt))
        await pilot.press("enter")
        await pilot.pause()
        assert "1 record(s) delivered" in str(app.screen.query_one("#result").render())
        await pilot.click("#purge")
        await pilot.pause()
        await pilot.click("#yes")
        await pilot.pause()
        assert app.vault is not None
        assert RecordService(app.vault.db).count() == 0
    assert rid
    _ = Input


async def test_lock_while_export_runs(tmp_path: Path) -> None:
    """Locking while a worker exports locks at once (every keyed connection closes, so
    the export stops), without a crash, a half-written bundle or a damaged vault; the
    export can be made afterwards."""
    import asyncio
    import io

    from fieldkit.services import export as export_svc
    from fieldkit.services.attachments import AttachmentService
    from fieldkit.ui.screens.unlock import UnlockScreen

    field, _ = Vault.create(tmp_path / "field", PASSPHRASE, kdf_params=WEAK)
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq")
    trust.trust_hq(field.db, identity.hq(hq.db).card_text())
    rid = RecordService(field.db).add(model.template())
    AttachmentService(field.db).add_stream(
        rid, io.BytesIO(bytes(40 * 1024 * 1024)), filename="big.bin"
    )
    field.lock()
    hq.lock()
    app = make_app(tmp_path / "field", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock(pilot, app, RecordsScreen)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        await pilot.click("#go")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        for _ in range(300):
            if not any(w.is_running for w in app.workers):
                break
            await asyncio.sleep(0.1)
        await pilot.pause()
        assert isinstance(app.screen, UnlockScreen) and app.is_running
    with Vault.unlock(tmp_path / "field", PASSPHRASE) as v:
        assert v.db.integrity_problems() == []
        seq = export_svc.unwritten_seq(v.db)
        if seq is not None:
            # Stopped after the bundle was prepared, perhaps after its file was written
            # but before that was recorded: written again, the same signed bundle (HQ
            # takes a second copy as a duplicate).
            export_svc.resend(v.db, seq, tmp_path / "again.age")
        elif not list(tmp_path.glob("*.age")):  # stopped before
            assert export_svc.export(v.db, tmp_path / "again.age") is not None
        assert export_svc.unwritten_seq(v.db) is None
        assert export_svc.plan(v.db).empty  # everything is in a written bundle
    assert 1 <= len(list(tmp_path.glob("*.age"))) <= 2


async def test_unwritten_bundle_can_be_written_again(tmp_path: Path) -> None:
    """A bundle whose file was never written (full stick, crash) is offered again, with the
    same content, before anything new is exported."""
    from fieldkit.services import export as export_svc
    from fieldkit.store import bundles as bundle_store

    field, _ = Vault.create(tmp_path / "field", PASSPHRASE, kdf_params=WEAK)
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq")
    trust.trust_hq(field.db, identity.hq(hq.db).card_text())
    RecordService(field.db).add(model.template())
    export_svc.export(field.db, tmp_path / "lost.fkb")
    with field.db.transaction():  # as if the write had never completed
        field.db.execute("UPDATE exports SET written_at=NULL")
    first_hash = bundle_store.last_export(field.db).bundle_hash  # type: ignore[union-attr]
    field.lock()
    hq.lock()
    app = make_app(tmp_path / "field", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock(pilot, app, RecordsScreen)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        assert "never written" in str(app.screen.query_one("#result").render())
        assert not app.screen.query_one("#resend").has_class("hidden")
        assert app.screen.query_one("#go", Button).disabled  # not a new one before it
        # The default name says nothing: not the tool, not the device, not a count.
        dest = Path(app.screen.query_one("#dest", Input).value)
        assert re.fullmatch(r"[0-9a-f]{8}\.age", dest.name)
        await type_into(pilot, "#dest", str(tmp_path / "again.fkb"))
        await pilot.click("#resend")
        await wait_for(
            pilot, lambda: "written again" in str(app.screen.query_one("#result").render())
        )
        assert app.vault is not None
        assert export_svc.unwritten_seq(app.vault.db) is None
        assert bundle_store.last_export(app.vault.db).bundle_hash == first_hash  # type: ignore[union-attr]
        assert not app.screen.query_one("#go", Button).disabled
    assert (tmp_path / "again.fkb").exists()

"""The app flags a record that lacks consent in the records list (a '!' column, readable
without colour, explained under the table) and asks before exporting it: hold it back
(the default button), export it too, or cancel (issue 10, part 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fieldkit.services import export as export_svc
from fieldkit.services import identity, model, trust
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.export import ExportScreen, WithoutConsentScreen
from fieldkit.ui.screens.records import NO_CONSENT_MARK, RecordsScreen, RecordTable
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, screen_text, type_into, wait_for

LACKING = "Witness [b]Q[/b]"  # markup in a pseudonym is shown as typed


def _vault(tmp_path: Path) -> tuple[FieldkitApp, str, str]:
    v, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK, name="FW-03")
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ A")
    trust.trust_hq(v.db, identity.hq(hq.db).card_text())
    hq.lock()
    rs = RecordService(v.db)
    ok = rs.add(model.template())
    d = model.template()
    d["pseudonym"] = LACKING
    d["consent"].update(obtained=None, method="", obtained_on=None, obtained_by="")
    lacking = rs.add(d)
    v.lock()
    (tmp_path / "home").mkdir()
    return make_app(tmp_path / "vault", tmp_path / "home"), ok, lacking


async def _unlocked(pilot: Any, app: FieldkitApp) -> None:
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
    await pilot.pause()


async def test_the_list_marks_a_record_lacking_consent(tmp_path: Path) -> None:
    app, ok, lacking = _vault(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlocked(pilot, app)
        table = app.screen.query_one(RecordTable)
        assert str(table.get_cell(lacking, "consent")) == NO_CONSENT_MARK
        assert str(table.get_cell(ok, "consent")) == ""
        shown = screen_text(app)
        assert "! = consent not recorded or not obtained" in shown
        assert LACKING in shown


async def _export_and_answer(tmp_path: Path, button: str | None) -> tuple[str, Vault]:
    app, _, _ = _vault(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlocked(pilot, app)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        await pilot.pause()
        assert "Without recorded consent: 1" in screen_text(app)
        await pilot.click("#go")
        await wait_for(pilot, lambda: isinstance(app.screen, WithoutConsentScreen))
        await pilot.pause()
        dialog = screen_text(app)
        assert "1 record(s) to export lack recorded consent" in dialog
        assert LACKING in dialog
        # Holding back is the default: Enter on the focused button.
        assert app.focused is not None and app.focused.id == "hold"
        if button is None:
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
            await wait_for(pilot, lambda: "Export cancelled" in screen_text(app))
        else:
            await pilot.click(f"#{button}")
            await wait_for(pilot, lambda: "Fingerprint" in screen_text(app))
        await pilot.pause()
        shown = screen_text(app)
    return shown, Vault.unlock(tmp_path / "vault", PASSPHRASE)


@pytest.mark.parametrize("button", ["hold", "yes", None], ids=["hold", "include", "cancel"])
async def test_export_asks_before_sending_a_record_lacking_consent(
    tmp_path: Path, button: str | None
) -> None:
    shown, v = await _export_and_answer(tmp_path, button)
    try:
        sent = int(v.db.scalar("SELECT count(*) FROM export_items WHERE kind='record'"))
        held = [h.pseudonym for h in export_svc.plan(v.db).held]
    finally:
        v.lock()
    if button == "hold":
        assert sent == 1 and held == [LACKING]
        assert "HELD BACK, without recorded consent: 1 record(s)" in shown
    elif button == "yes":
        assert sent == 2 and held == []
        assert "Included as you confirmed: 1 record(s)" in shown
    else:
        assert sent == 0 and held == [LACKING]
        assert not list((tmp_path / "home").iterdir())

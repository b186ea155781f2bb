"""Hostile text in the app: names, pseudonyms, file names and the rest are data, never
markup, and no control character reaches the terminal (issue 9, section 2)."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from fieldkit.services import identity, trust
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.dialogs import ConfirmScreen
from fieldkit.ui.screens.hq import HqScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, screen_text, type_into, wait_for


async def _unlock(pilot: Pilot[None], app: FieldkitApp, screen_type: type) -> None:
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, screen_type))


def _impostor_name(real_code: str) -> str:
    """A name that shows the real card's code and, as markup, would paint everything
    after it (the impostor's own code) in the background colour."""
    return f"HQ Almaty Fingerprint: {real_code} [#000000 on #000000]"


async def test_hq_card_dialog_shows_the_name_literally_and_the_cards_own_code(
    tmp_path: Path,
) -> None:
    real, _ = Vault.create(tmp_path / "real", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ")
    real_code = identity.hq(real.db).card.short_code
    real.lock()
    name = _impostor_name(real_code)
    fake, _ = Vault.create(tmp_path / "fake", PASSPHRASE, kdf_params=WEAK, kind="hq", name=name)
    fake_code = identity.hq(fake.db).card.short_code
    (tmp_path / "hq.card").write_text(identity.hq(fake.db).card_text())
    fake.lock()
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _unlock(pilot, app, RecordsScreen)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await type_into(pilot, "#card", str(tmp_path / "hq.card"))
        await pilot.click("#trust")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        shown = screen_text(app)
        assert name in _joined(shown)
        assert fake_code in shown
        await pilot.click("#no")
        await pilot.pause()
        assert app.vault is not None and trust.trusted_hq_cards(app.vault.db) == []


async def test_device_card_dialog_at_hq_shows_the_cards_own_code(tmp_path: Path) -> None:
    real, _ = Vault.create(tmp_path / "real", PASSPHRASE, kdf_params=WEAK, name="FW-03")
    real_code = identity.device(real.db).card.short_code
    real.lock()
    name = _impostor_name(real_code)
    fake, _ = Vault.create(tmp_path / "fake", PASSPHRASE, kdf_params=WEAK, name=name)
    fake_code = identity.device(fake.db).card.short_code
    (tmp_path / "fw.card").write_text(identity.device(fake.db).card_text())
    fake.lock()
    Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq")[0].lock()
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _unlock(pilot, app, HqScreen)
        app.screen.query_one("#tabs").active = "tab-devices"  # type: ignore[attr-defined]
        await pilot.pause()
        await type_into(pilot, "#device-card", str(tmp_path / "fw.card"))
        await pilot.click("#enroll")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        shown = screen_text(app)
        assert name in _joined(shown)
        assert fake_code in shown
        await pilot.click("#no")
        await pilot.pause()
        assert app.vault is not None and trust.devices(app.vault.db) == []


def _joined(shown: str) -> str:
    """The screen's lines with the dialog's borders and wrapping taken out."""
    import re

    parts = [re.sub(r"^[\s▊▎│┃█▀▄]+|[\s▊▎│┃█▀▄]+$", "", line) for line in shown.split("\n")]
    return " ".join(p for p in parts if p)

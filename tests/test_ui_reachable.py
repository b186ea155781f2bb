"""Every button a fieldworker needs is on screen and takes a click at 80x24, and the
screens below that size scroll instead of cutting their buttons off (issue 10, part 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widget import Widget

from fieldkit.services import identity, trust
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.dialogs import FilePickerScreen, PassphraseCheckScreen
from fieldkit.ui.screens.receipts import ReceiptsScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, type_into, wait_for


def visible_region_ok(app: App[None], widget: Widget) -> None:
    """The widget is drawn whole, inside the screen and clear of the footer."""
    screen = app.screen.region
    footer = app.screen.query_one("Footer").region
    region = widget.region
    assert region.width > 0 and region.height > 0, f"#{widget.id} is not drawn"
    assert screen.contains_region(region), f"#{widget.id} at {region} is off {screen}"
    assert not region.overlaps(footer), f"#{widget.id} at {region} is under the footer"


async def bring_into_view(pilot: Pilot[None], selector: str) -> Widget:
    """What Tab does: focus the widget, which scrolls it into view."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    await pilot.pause()
    visible_region_ok(pilot.app, widget)
    return widget


async def _unlocked(pilot: Pilot[None], app: FieldkitApp) -> None:
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))


def _field_vault(tmp_path: Path) -> Path:
    v, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK, name="FW-03")
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ A")
    trust.trust_hq(v.db, identity.hq(hq.db).card_text())
    (tmp_path / "hq.card").write_text(identity.hq(hq.db).card_text())
    hq.lock()
    v.lock()
    return tmp_path / "vault"


@pytest.mark.parametrize("button", ["save-autolock", "trust", "untrust"])
async def test_settings_buttons_are_on_screen_and_take_a_click(tmp_path: Path, button: str) -> None:
    app = make_app(_field_vault(tmp_path), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlocked(pilot, app)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.pause()
        if button == "trust":
            await type_into(pilot, "#card", str(tmp_path / "hq.card"))
        await bring_into_view(pilot, f"#{button}")
        assert await pilot.click(f"#{button}")
        # Each of them asks before it changes anything: the click reached the button.
        if button == "trust":
            await wait_for(pilot, lambda: app.screen.__class__.__name__ == "CardCheckScreen")
        else:
            await wait_for(pilot, lambda: isinstance(app.screen, PassphraseCheckScreen))


async def test_receipts_import_button_is_on_screen_and_takes_a_click(tmp_path: Path) -> None:
    app = make_app(_field_vault(tmp_path), tmp_path)
    (tmp_path / "not-a-receipt").write_bytes(b"nothing")
    async with app.run_test(size=(80, 24)) as pilot:
        await _unlocked(pilot, app)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, ReceiptsScreen))
        await type_into(pilot, "#path", str(tmp_path / "not-a-receipt"))
        for button in ("browse", "import", "purge"):
            await bring_into_view(pilot, f"#{button}")
        await bring_into_view(pilot, "#import")
        assert await pilot.click("#import")
        result = app.screen.query_one("#result")
        await wait_for(pilot, lambda: bool(str(result.render()).strip()))
        await bring_into_view(pilot, "#browse")
        assert await pilot.click("#browse")
        await wait_for(pilot, lambda: isinstance(app.screen, FilePickerScreen))


# ---- below 80x24 the screens scroll, they do not cut buttons off ----------------------
SMALL = [(60, 20), (80, 24)]


@pytest.mark.parametrize("size", SMALL)
async def test_first_run_buttons_reachable_when_small(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    from fieldkit.ui.screens.setup import SetupScreen

    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=size) as pilot:
        assert isinstance(app.screen, SetupScreen)
        await type_into(pilot, "#name", "FW-03 laptop")
        await bring_into_view(pilot, "#to-passphrase")
        assert await pilot.click("#to-passphrase")
        await wait_for(pilot, lambda: app.screen.query_one("#pass1").region.height > 0)
        for button in ("create", "suggest"):
            await bring_into_view(pilot, f"#{button}")
        assert await pilot.click("#suggest")
        await wait_for(pilot, lambda: bool(app.screen.query_one("#pass1").value))  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", SMALL)
async def test_unlock_and_recover_buttons_reachable_when_small(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    from fieldkit.ui.screens.unlock import RecoverScreen

    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=size) as pilot:
        await bring_into_view(pilot, "#unlock")
        await bring_into_view(pilot, "#recover")
        assert await pilot.click("#recover")
        await wait_for(pilot, lambda: isinstance(app.screen, RecoverScreen))
        await pilot.pause()
        await bring_into_view(pilot, "#go")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RecoverScreen))
        await pilot.pause()
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await bring_into_view(pilot, "#unlock")
        assert await pilot.click("#unlock")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.pause()  # let the new screen's header mount before the app exits


@pytest.mark.parametrize("key", ["ctrl+o", "ctrl+t", "ctrl+r"])
async def test_field_screens_scroll_to_every_button_at_60x20(tmp_path: Path, key: str) -> None:
    app = make_app(_field_vault(tmp_path), tmp_path)
    async with app.run_test(size=(60, 20)) as pilot:
        await _unlocked(pilot, app)
        await pilot.press(key)
        await wait_for(pilot, lambda: len(app.screen_stack) == 3)
        await pilot.pause()
        for button in app.screen.query("Button"):
            if button.display and not button.has_class("hidden"):
                await bring_into_view(pilot, f"#{button.id}")

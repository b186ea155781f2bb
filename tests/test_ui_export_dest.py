"""Export offers the mounted USB drives first, lets the fieldworker browse to another
folder, and shows its outcome, path and fingerprint where they can be read at 80x24
(issue 10, part 2, item 3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from fieldkit import locations
from fieldkit.services import identity, model, trust
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.dialogs import FolderPickerScreen
from fieldkit.ui.screens.export import ExportScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.test_ui_reachable import visible_region_ok
from tests.ui_helpers import make_app, screen_text, type_into, unlock, wait_for


def test_removable_drives_in_order(tmp_path: Path) -> None:
    for d in ("media/fw/STICK", "media/fw/Backup", "run/media/fw/SD", "Volumes/KINGSTON"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "media/fw/not-a-folder").write_text("x")
    (tmp_path / "media/other/THEIRS").mkdir(parents=True)
    (tmp_path / "Volumes/Macintosh HD").symlink_to(tmp_path)  # the system disk itself
    assert locations.removable_drives(tmp_path, user="fw") == [
        tmp_path / "media/fw/Backup",
        tmp_path / "media/fw/STICK",
        tmp_path / "run/media/fw/SD",
        tmp_path / "Volumes/KINGSTON",
    ]


def test_no_drives_and_no_user(tmp_path: Path) -> None:
    assert locations.removable_drives(tmp_path, user="fw") == []
    (tmp_path / "media/x/STICK").mkdir(parents=True)
    (tmp_path / "Volumes/KINGSTON").mkdir(parents=True)
    assert locations.removable_drives(tmp_path, user="") == [tmp_path / "Volumes/KINGSTON"]


def test_user_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "media/amnesia/STICK").mkdir(parents=True)
    monkeypatch.setenv("USER", "amnesia")
    assert locations.removable_drives(tmp_path) == [tmp_path / "media/amnesia/STICK"]


def _app(tmp_path: Path) -> FieldkitApp:
    """A field vault holding one record, trusting an HQ; home is the start folder and
    drives are looked for under tmp_path/root."""
    v, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK, name="FW-03")
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ A")
    trust.trust_hq(v.db, identity.hq(hq.db).card_text())
    hq.lock()
    RecordService(v.db).add(model.template())
    v.lock()
    return make_app(tmp_path / "vault", tmp_path / "home", removable_root=tmp_path / "root")


async def _open_export(pilot: Pilot[None], app: FieldkitApp) -> Path:
    """Unlock, press Ctrl+T; returns the destination the export screen offers."""
    await unlock(pilot, app)
    await pilot.press("ctrl+t")
    await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
    await pilot.pause()
    return Path(app.screen.query_one("#dest", Input).value)


async def test_export_to_the_stick_and_read_the_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "fw")
    stick = tmp_path / "root/media/fw/STICK"
    stick.mkdir(parents=True)
    (tmp_path / "home").mkdir()
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        dest = await _open_export(pilot, app)
        assert dest.parent == stick and dest.suffix == ".age"
        assert "USB drive STICK" in screen_text(app)
        await pilot.click("#go")
        await wait_for(pilot, lambda: "Fingerprint" in screen_text(app))
        await pilot.pause()
        result = app.screen.query_one("#result")
        visible_region_ok(app, result)
        shown = screen_text(app)
        assert "Bundle 1 written" in shown
        assert dest.name in shown
        bundles = list(stick.iterdir())
        assert [b.name for b in bundles] == [dest.name]
        assert os.path.getsize(bundles[0]) > 0


async def test_browse_to_another_folder(tmp_path: Path) -> None:
    (tmp_path / "home/bundles").mkdir(parents=True)
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        # No drive mounted: the home folder is the place offered.
        dest = await _open_export(pilot, app)
        assert dest.parent == tmp_path / "home"
        await pilot.click("#browse")
        await wait_for(pilot, lambda: isinstance(app.screen, FolderPickerScreen))
        await type_into(pilot, "#path", str(tmp_path / "home/bundles"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportScreen))
        dest = Path(app.screen.query_one("#dest").value)  # type: ignore[attr-defined]
        assert dest.parent == tmp_path / "home/bundles" and dest.suffix == ".age"

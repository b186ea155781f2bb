"""The duress passphrase at the app's unlock screen (issue 11): the vault is shredded and
the app shows, character for character at 80x24, what it shows after unlocking a vault
just made with that passphrase; the folder has a new vault's files and sizes and no byte
of the old one."""

from __future__ import annotations

from pathlib import Path

from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.records import RecordsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.test_duress import DURESS, _chunks, _files, _shared
from tests.test_erase import Markers, add_marked, raw_hits
from tests.ui_helpers import make_app, screen_text, type_into, wait_for

SIZE = (80, 24)


async def _unlocked_text(app: FieldkitApp, passphrase: str) -> str:
    async with app.run_test(size=SIZE) as pilot:
        await type_into(pilot, "#passphrase", passphrase)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert app.vault is not None
        assert RecordService(app.vault.db).count() == 0
        return text


async def test_duress_unlock_in_the_app_looks_like_a_new_vault(tmp_path: Path) -> None:
    mk = Markers()
    real = tmp_path / "real"
    v, _ = Vault.create(real, PASSPHRASE, kdf_params=WEAK)
    with v:
        add_marked(v.db, mk, "a")
        v.set_duress_passphrase(DURESS)
    fresh = tmp_path / "fresh"
    Vault.create(fresh, DURESS, kdf_params=WEAK)[0].lock()
    old = _chunks(real)

    expected = await _unlocked_text(make_app(fresh, tmp_path), DURESS)
    shown = await _unlocked_text(make_app(real, tmp_path), DURESS)

    assert shown == expected
    assert _files(real) == _files(fresh)
    assert _shared(real, old) == []
    assert raw_hits(real, mk.needles()) == []
    with Vault.unlock(real, DURESS) as v:
        assert RecordService(v.db).count() == 0

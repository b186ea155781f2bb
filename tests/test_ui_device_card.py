"""Settings shows this device's card fingerprint and writes its card to a file, as
enrolment at HQ needs (issue 10, part 2, item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.errors import FileAccessError
from fieldkit.formats import cards
from fieldkit.services import identity
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.test_ui_reachable import bring_into_view
from tests.ui_helpers import make_app, screen_text, type_into, wait_for


def test_write_card_never_replaces_a_file(tmp_path: Path) -> None:
    out = tmp_path / "other.card"
    out.write_text("someone else's card")
    with pytest.raises(FileAccessError):
        identity.write_card(out, "new")
    assert out.read_text() == "someone else's card"
    identity.write_card(tmp_path / "mine.card", "card text")
    assert (tmp_path / "mine.card").read_text() == "card text"
    assert (tmp_path / "mine.card").stat().st_mode & 0o777 == 0o644


async def test_settings_shows_the_fingerprint_and_writes_the_card(tmp_path: Path) -> None:
    v, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK, name="FW-03 laptop")
    me = identity.device(v.db)
    expected_text, fingerprint = me.card_text(), me.card.short_code
    v.lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.pause()
        shown = screen_text(app)
        assert "FW-03 laptop" in shown and f"Fingerprint: {fingerprint}" in shown
        out = tmp_path / "device.card"
        assert app.screen.query_one("#card-out").value == str(out)  # type: ignore[attr-defined]
        await bring_into_view(pilot, "#write-card")
        assert await pilot.click("#write-card")
        await wait_for(
            pilot, lambda: "Card written" in str(app.screen.query_one("#card-written").render())
        )
        assert out.read_text() == expected_text
        card = cards.parse(out.read_text())
        assert card.short_code == fingerprint and card.name == "FW-03 laptop"
        # Again: the file is there, so nothing is replaced and the reason is shown.
        result = app.screen.query_one("#card-written")
        await bring_into_view(pilot, "#write-card")
        assert await pilot.click("#write-card")
        # (A long path wraps on screen, so the message is read from its widget.)
        await wait_for(pilot, lambda: "already exists" in str(result.render()))
        assert out.read_text() == expected_text

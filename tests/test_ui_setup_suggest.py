"""The setup screen's "Suggest one": six EFF words in both fields, shown once as text."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from fieldkit.services import passphrase_policy
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.dialogs import SecretOnceScreen
from fieldkit.ui.screens.setup import SetupScreen
from tests.ui_helpers import make_app, wait_for


async def test_suggest_fills_both_fields_and_creates_the_vault(tmp_path: Path) -> None:
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, SetupScreen)
        await pilot.click("#to-passphrase")
        await pilot.click("#suggest")
        await pilot.pause()
        words = app.screen.query_one("#pass1", Input).value
        assert words == app.screen.query_one("#pass2", Input).value
        assert len(words.split(" ")) == 6 and set(words.split()) <= set(
            passphrase_policy.word_list()
        )
        assert passphrase_policy.strength_problem(words) is None
        assert words in str(app.screen.query_one("#strength").render())
        await pilot.click("#suggest")  # a new one each time
        await pilot.pause()
        second = app.screen.query_one("#pass1", Input).value
        assert second != words
        await pilot.click("#create")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretOnceScreen))
    Vault.unlock(tmp_path / "vault", second).lock()

"""The app in Russian and Tajik: the language chosen in Settings is saved outside the
vault and used at the next start; key bindings and vocabulary follow the language."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Select

from fieldkit import i18n
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from fieldkit.ui.screens.unlock import UnlockScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, type_into, wait_for


def _footer_descriptions(screen: object) -> set[str]:
    return {
        b.description
        for bindings in screen._bindings.key_to_bindings.values()  # type: ignore[attr-defined]
        for b in bindings
    }


async def test_language_chosen_in_settings_applies_at_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDKIT_CONFIG_DIR", str(tmp_path / "cfg"))
    field, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)
    field.lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        select = app.screen.query_one("#language", Select)
        assert select.value == "en"
        select.value = "tg"
        await wait_for(pilot, lambda: (tmp_path / "cfg" / "language").exists())
        # This session stays English: screens already built are not half-translated.
        assert "Back" in _footer_descriptions(app.screen)
    assert (tmp_path / "cfg" / "language").read_text(encoding="utf-8") == "tg\n"

    assert i18n.set_language() == "tg"  # what the CLI does at the next start
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        labels = {str(b.label) for b in app.screen.query(Button)}
        assert "Кушодан" in labels
        assert {"Қулф", "Хуруҷ"} <= _footer_descriptions(app)


async def test_bindings_follow_the_language_set_after_import(tmp_path: Path) -> None:
    """BINDINGS are evaluated at import (in English here); each screen translates its
    own copy when it is built."""
    field, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)
    field.lock()
    i18n.set_language("ru")
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        assert {"Новая", "Экспорт", "Квитанции", "Настройки"} <= _footer_descriptions(app.screen)
        assert {"Блок", "Выход"} <= _footer_descriptions(app)
    i18n.set_language("en")
    assert "New" in _footer_descriptions(RecordsScreen())

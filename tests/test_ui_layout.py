"""Layout promises at the smallest terminal fieldkit supports, 80x24."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit import i18n
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.editor import EditorScreen
from fieldkit.ui.screens.hq import HqScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, screen_lines, type_into, wait_for

LANGS = pytest.mark.parametrize("lang", ["en", "ru", "tg"])


def _footer_is_whole(app: object) -> None:
    """Every key the footer offers is on its last line, description and all."""
    last = screen_lines(app)[-1]  # type: ignore[arg-type]
    shown = [b.binding.description for b in app.active_bindings.values() if b.binding.show]  # type: ignore[attr-defined]
    assert shown
    for description in shown:
        assert f" {description} " in f" {last} ", (description, last)
    # The command palette (every action, with its help) is on the right of every footer.
    assert last.rstrip().endswith(f"^p {i18n._('palette')}"), last


def _footer_has(app: object, *labels: str) -> None:
    last = screen_lines(app)[-1]  # type: ignore[arg-type]
    for label in labels:
        assert f" {i18n._(label)} " in f" {last} ", (label, last)


@LANGS
async def test_footer_is_whole_at_80x24_on_every_field_screen(tmp_path: Path, lang: str) -> None:
    """In English, Russian and Tajik (longer words): Save and Lock in the editor, Lock on
    every screen of an open vault."""
    i18n.set_language(lang)
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        _footer_is_whole(app)
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        _footer_is_whole(app)
        _footer_has(app, "Lock")
        for key in ("ctrl+t", "ctrl+r", "ctrl+o", "ctrl+n"):
            await pilot.press(key)
            await wait_for(pilot, lambda: len(app.screen_stack) == 3)
            await pilot.pause()
            _footer_is_whole(app)
            _footer_has(app, "Lock")
            if isinstance(app.screen, EditorScreen):
                _footer_has(app, "Save", "Close")
            if isinstance(app.screen, EditorScreen | SettingsScreen):
                assert app.screen.query_one("Footer").region.bottom == 24
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))


@LANGS
async def test_footer_is_whole_at_80x24_at_hq(tmp_path: Path, lang: str) -> None:
    """The HQ screen and a received record's view (Back, Extract…, Lock)."""
    from fieldkit.ui.screens.hq_record import ExtractScreen, RecordViewScreen
    from tests import ui_scenes

    i18n.set_language(lang)
    (tmp_path / "start").mkdir()
    rid = ui_scenes.at_hq(tmp_path)
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HqScreen))
        _footer_is_whole(app)
        _footer_has(app, "Lock")
        app.push_screen(RecordViewScreen(rid))
        await wait_for(pilot, lambda: isinstance(app.screen, RecordViewScreen))
        await pilot.pause()
        _footer_is_whole(app)
        _footer_has(app, "Back", "Extract…", "Lock")
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExtractScreen))
        await pilot.pause()
        shown = "\n".join(screen_lines(app))  # a dialog has buttons, not a footer
        assert i18n._("Extract") in shown and i18n._("Cancel") in shown

"""What a walk through the app at a real terminal (tmux, Russian, 80x24, no mouse) found:
each test fails on the code before its fix."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual._xterm_parser import XTermParser
from textual.widgets import Input, TabbedContent

from fieldkit import i18n
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.dialogs import SecretOnceScreen
from fieldkit.ui.screens.editor import EditorScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.widgets import MarkedCheckbox
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, screen_text, type_into, wait_for


def _keys(data: str) -> list[str]:
    import fieldkit.ui.app  # noqa: F401 - reads ESC+digit as alt+digit on import

    parser = XTermParser()
    return [e.key for e in [*parser.feed(data), *parser.feed("")] if isinstance(e, events.Key)]


def test_alt_digit_from_a_linux_terminal_is_alt_digit() -> None:
    """xterm, GNOME Terminal, the console and tmux send Alt+2 as ESC 2; Textual's table
    read it as macOS's Option+2 character, so Alt+1…7 typed "™" into a field."""
    assert _keys("\x1b2") == ["alt+2"]
    assert _keys("\x1b7") == ["alt+7"]
    assert _keys("\x1b") == ["escape"]  # Escape alone still closes


async def test_alt_digit_shows_the_tab_even_with_a_field_focused(tmp_path: Path) -> None:
    """The terminal's Alt+2 comes with the character "2": the tab key wins over the
    focused field, which keeps its text."""
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        await wait_for(pilot, lambda: getattr(app.focused, "id", "") == "f-pseudonym")
        await type_into(pilot, "#f-pseudonym", "Witness")
        app.post_message(events.Key("alt+2", "2"))
        tabs = app.screen.query_one("#tabs", TabbedContent)
        await wait_for(pilot, lambda: tabs.active == "tab-persons")
        assert app.screen.query_one("#f-pseudonym", Input).value == "Witness"


async def test_first_run_goes_on_with_enter_and_the_code_box_starts_empty(tmp_path: Path) -> None:
    """Enter in the name field goes to the passphrase, Enter in the first passphrase to
    the second; the "I have written it down" box is drawn empty until ticked (a plain
    Checkbox drew its X either way)."""
    i18n.set_language("ru")
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#name", "FW-03")
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.focused, "id", "") == "pass1")
        await type_into(pilot, "#pass1", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.focused, "id", "") == "pass2")
        await type_into(pilot, "#pass2", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretOnceScreen))
        await pilot.pause()
        box = app.screen.query_one("#ack", MarkedCheckbox)
        assert not box.value
        assert "▐ ▌ Я записал(а) его" in screen_text(app)
        box.value = True
        await pilot.pause()
        assert "▐X▌ Я записал(а) его" in screen_text(app)


async def test_form_problems_are_in_the_reader_language(tmp_path: Path) -> None:
    """The model's constant problems ("is required") are msgids the editor translates."""
    i18n.set_language("ru")
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "обязательно" in screen_text(app))
        assert "is required" not in screen_text(app)


async def test_hq_tabs_have_keys_and_take_the_focus_along(tmp_path: Path) -> None:
    """Alt+1…5 show HQ's tabs (the palette was the only other keyboard way), and the focus
    moves into the tab shown: left behind, the next Tab brought the old tab back."""
    from fieldkit.ui.screens.hq import HqScreen
    from fieldkit.ui.screens.hq_record import RecordViewScreen
    from tests import ui_scenes

    (tmp_path / "start").mkdir()
    ui_scenes.at_hq(tmp_path)
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, HqScreen))
        tabs = app.screen.query_one("#tabs", TabbedContent)
        app.screen.query_one("#receipts", Input).focus()
        await pilot.pause()
        await pilot.press("alt+3")
        await wait_for(pilot, lambda: tabs.active == "tab-testimony")
        await wait_for(pilot, lambda: getattr(app.focused, "id", "") == "hq-search")
        await pilot.press("tab", "tab")  # the device filter, then the table
        await pilot.pause()
        assert tabs.active == "tab-testimony"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordViewScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, HqScreen))
        await pilot.press("alt+5")
        await wait_for(pilot, lambda: tabs.active == "tab-counts")

"""fieldkit.ui.text: values from users, cards, bundles and files are shown literally."""

from __future__ import annotations

from pathlib import Path

from fieldkit.ui.text import SAFE_INPUT, fill, literal, pictures, printable

HOSTILE = "[/b][b]x[@click=app.quit]y[/] \x1b]52;c;aGk=\x07 \x1b[2J \x9b31m \u202eevil \x7f \ud800"


def test_printable_escapes_every_control_and_bidi_character() -> None:
    shown = printable(HOSTILE)
    assert shown == (
        "[/b][b]x[@click=app.quit]y[/] \\x1b]52;c;aGk=\\x07 \\x1b[2J \\x9b31m \\u202eevil "
        "\\x7f \\ud800"
    )
    assert printable("a\nb\tc") == "a\\x0ab\\x09c"
    assert printable("a\nb\tc\x1b", multiline=True) == "a\nb\tc\\x1b"
    assert printable(None) == "" and printable(3) == "3"
    assert printable("Гулноза Раҳимова") == "Гулноза Раҳимова"


def test_literal_is_never_markup() -> None:
    text = literal(HOSTILE)
    assert text.plain == printable(HOSTILE)
    assert text.spans == []


def test_fill_puts_values_in_literally() -> None:
    text = fill("HQ card: {name}\nFingerprint: {fp}", name="A[/b]\x1b[8m", fp="ABCD-EFGH")
    assert text.plain == "HQ card: A[/b]\\x1b[8m\nFingerprint: ABCD-EFGH"
    assert text.spans == []
    assert fill("{n} of {m}", n=1).plain == "1 of {m}"


def test_pictures_keep_positions() -> None:
    shown = pictures(HOSTILE)
    assert len(shown) == len(HOSTILE)
    assert "\x1b" not in shown and "\u202e" not in shown and "\x9b" not in shown
    assert "␛" in shown and "␇" in shown and "␡" in shown
    assert SAFE_INPUT(literal("")).plain == ""
    from rich.text import Text

    assert SAFE_INPUT(Text("a\x1bb")).plain == "a␛b"


async def test_notifications_show_card_and_bundle_text_literally(tmp_path: Path) -> None:
    """An error message carries a name or path from a card or bundle: every notification,
    from the app or from a screen, is plain text, never markup."""
    from tests.ui_helpers import make_app

    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.notify("[b]HQ[/b] [link=x]y", timeout=30)
        app.screen.notify("[/b]Z[@click=app.quit]w", timeout=30)
        await pilot.pause()
        shown = list(app._notifications)
        assert [n.message for n in shown] == ["[b]HQ[/b] [link=x]y", "[/b]Z[@click=app.quit]w"]
        assert not any(n.markup for n in shown)

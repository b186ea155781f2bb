"""fieldkit.ui.text: values from users, cards, bundles and files are shown literally."""

from __future__ import annotations

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

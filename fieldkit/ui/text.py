"""Text from a user, a card, a bundle or a file, made safe to show: never markup, and no
control character reaches the terminal.

Every such value meets a widget through one of these:
- `literal(value)`: a `rich.text.Text` for Static, Label, Button, options, and in
  `LiteralTable`, the DataTable whose every cell is literal;
- `fill(template, **values)`: one of our own (translated) sentences with values in it,
  as a `Text`; the values are literal, whatever brackets they hold;
- `printable(value)`: a plain string for what takes only strings (titles, Log lines,
  notifications, which the app shows with markup off);
- `SAFE_INPUT` / `SafeTextArea`: editable fields show the same characters one for one
  (the value itself is never changed, so editing and cursor positions stay right).

Escaped (shown as a visible `\\x1b`, `\\u202e`, ...): C0 controls and DEL (terminal
escapes, bell, backspace, carriage return), C1 controls (0x80-0x9f, which some
terminals read as escapes too), Unicode line and paragraph separators, the bidi
embeddings, overrides, isolates and marks (text that reads in another order than it
is stored), and lone surrogates (which cannot even be encoded for the terminal).
"""

from __future__ import annotations

import re
from typing import Any

from rich.highlighter import Highlighter
from rich.text import Text
from textual.widgets import DataTable, TextArea
from textual.widgets.data_table import RowKey

from fieldkit.formats import text as text_rules

# The CLI's set (formats/text.py: controls, bidi controls, surrogates), and the line and
# paragraph separators, which would break a widget's line.
_UNSAFE = f"{text_rules.CONTROL}{text_rules.BIDI}\u2028\u2029{text_rules.SURROGATE}"
_UNSAFE_RE = re.compile(f"[{_UNSAFE}]")


def _escape(match: re.Match[str]) -> str:
    c = ord(match.group())
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(value: object, *, multiline: bool = False) -> str:
    """`value` as a string with every unsafe character escaped. With `multiline`,
    line feeds and tabs stay (a narrative keeps its paragraphs)."""
    text = "" if value is None else str(value)
    if multiline:
        return "\n".join(
            "\t".join(_UNSAFE_RE.sub(_escape, part) for part in line.split("\t"))
            for line in text.split("\n")
        )
    return _UNSAFE_RE.sub(_escape, text)


def literal(value: object, *, multiline: bool = False, style: str = "") -> Text:
    """A widget's content that is exactly `value`: no markup, controls escaped."""
    return Text(printable(value, multiline=multiline), style=style, end="")


def fill(template: str, **values: object) -> Text:
    """`template` (our own sentence, e.g. from `_()`) with `{name}` fields filled by
    `values`, each shown literally on one line. The template is not markup either."""
    out = Text(end="")
    pos = 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(template[pos : m.start()])
        key = m.group(1)
        out.append(printable(values[key]) if key in values else m.group())
        pos = m.end()
    out.append(template[pos:])
    return out


# ---- editable fields: the same characters, one for one ---------------------------------
def _picture(match: re.Match[str]) -> str:
    c = ord(match.group())
    if c < 0x20:
        return chr(0x2400 + c)  # ␀ … ␟, e.g. ␛ for ESC
    if c == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1, bidi controls, separators, surrogates


def pictures(value: str) -> str:
    """`value` with each unsafe character replaced by one visible character (so
    positions in the string and on the screen stay the same)."""
    return _UNSAFE_RE.sub(_picture, value)


class _SafeHighlighter(Highlighter):
    def highlight(self, text: Text) -> None:
        shown = pictures(text.plain)
        if shown != text.plain:
            text.plain = shown


SAFE_INPUT = _SafeHighlighter()
"""`Input(highlighter=SAFE_INPUT)`: the field shows its value one for one, escaped."""


class SafeTextArea(TextArea):
    """A TextArea that shows control characters as visible pictures, one for one."""

    def get_line(self, line_index: int) -> Text:
        line = super().get_line(line_index)
        shown = pictures(line.plain)
        if shown != line.plain:
            line.plain = shown
        return line


class LiteralTable(DataTable[Text]):
    """A table of data: every cell is shown literally (a str cell of a plain DataTable
    is markup)."""

    def add_row(self, *cells: object, **kwargs: Any) -> RowKey:
        return super().add_row(*(literal(c) for c in cells), **kwargs)

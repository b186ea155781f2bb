"""Which characters in text from outside are dangerous, defined once.

A terminal acts on control characters: C0 (U+0000-001F: ESC starts the sequences
that clear the screen, set the window title or write the clipboard with OSC 52),
DEL (U+007F) and C1 (U+0080-009F: U+009B is a one-character CSI). Bidirectional
controls (U+202A-202E, U+2066-2069, U+200E, U+200F, U+061C) reorder what is shown,
so "gpj.exe" can read as "exe.jpg". A lone surrogate (U+D800-DFFF) is not a
character at all: it cannot be encoded as UTF-8.

Validation refuses controls (and surrogates) in stored text; output escapes
controls and bidi controls, so text stored before the rule, or read from a file,
still cannot act on a terminal.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL.
CONTROL = "\x00-\x1f\x7f-\x9f"
BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
SURROGATE = "\ud800-\udfff"

_CONTROL_RE = re.compile(f"[{CONTROL}]")
_LINE_BREAKS_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # controls but \t and \n
_SURROGATE_RE = re.compile(f"[{SURROGATE}]")
_SHOWN_RE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{BIDI}{SURROGATE}]")  # all but \n
_SHOWN_ONE_LINE_RE = re.compile(f"[{CONTROL}{BIDI}{SURROGATE}]")
_JSON_RE = re.compile(f"[\x7f-\x9f{BIDI}{SURROGATE}]")  # json.dumps escapes C0 itself


def problem(text: str, *, multiline: bool = False) -> str | None:
    """Why `text` may not be stored, or None. Multi-line text may hold \\n and \\t."""
    if _SURROGATE_RE.search(text):
        return "contains a lone surrogate (not valid Unicode)"
    found = (_LINE_BREAKS_RE if multiline else _CONTROL_RE).search(text)
    if found is not None:
        return f"contains the control character U+{ord(found.group()):04X}"
    return None


def escape(text: str, *, keep_newlines: bool = True) -> str:
    """`text` with every control, bidi control and surrogate written as \\xNN or
    \\uNNNN, so a terminal shows it instead of acting on it. A backslash is left as
    it is: the escaped form is for reading, not for parsing back."""
    pattern = _SHOWN_RE if keep_newlines else _SHOWN_ONE_LINE_RE
    return pattern.sub(_escaped, text)


def escape_json(text: str) -> str:
    """JSON text (from json.dumps, which escapes C0 already) with DEL, C1, bidi
    controls and surrogates escaped as \\uNNNN: still the same JSON value, and safe
    on a terminal. These characters can only stand inside a JSON string."""
    return _JSON_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _escaped(m: re.Match[str]) -> str:
    n = ord(m.group())
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"

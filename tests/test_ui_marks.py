"""Every tick box and radio button says its state without colour (issue 10: "keep
radio/checkbox state readable without colour"): Textual's own draw an X or a dot in both
states, told apart only by colour, so the app uses fieldkit/ui/widgets.py's Marked ones.
Seen at 80x24: the HQ extract dialog's "Unaltered original" box looked ticked when not."""

from __future__ import annotations

import re
from pathlib import Path

UI = Path(__file__).resolve().parent.parent / "fieldkit" / "ui"
PLAIN = re.compile(r"(?<![\w.])(Checkbox|RadioButton)\(")


def test_no_screen_builds_a_plain_checkbox_or_radio_button() -> None:
    found = [
        f"{path.relative_to(UI)}:{n}: {line.strip()}"
        for path in sorted(UI.rglob("*.py"))
        if path.name != "widgets.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if PLAIN.search(line) and "query" not in line and "isinstance" not in line
    ]
    assert found == []

"""Toggles whose state reads without colour.

Textual draws a checkbox, a radio button and a selection-list entry with the same mark
on and off and tells them apart by colour only: on a monochrome terminal, or to someone
who cannot see the difference, every box looks ticked. These draw the mark only when
the toggle is on ("X" / "●"), and a blank when it is off.
"""

from __future__ import annotations

from typing import Any

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.style import Style
from textual.widgets import Checkbox, RadioButton, SelectionList
from textual.widgets._toggle_button import ToggleButton


def _marked(button: ToggleButton, mark: str) -> Content:
    button_style = button.get_visual_style("toggle--button")
    side_style = Style(foreground=button_style.background, background=button.background_colors[1])
    return Content.assemble(
        (button.BUTTON_LEFT, side_style),
        (mark if button.value else " ", button_style),
        (button.BUTTON_RIGHT, side_style),
    )


class MarkedCheckbox(Checkbox):
    """A checkbox showing "X" when ticked and a blank when not."""

    @property
    def _button(self) -> Content:
        return _marked(self, "X")


class MarkedRadioButton(RadioButton):
    """A radio button showing "●" when chosen and a blank when not."""

    @property
    def _button(self) -> Content:
        return _marked(self, self.BUTTON_INNER)


class MarkedSelectionList(SelectionList[Any]):
    """A selection list whose entries show "X" when selected and a blank when not."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 3 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        index = self.scroll_offset.y + y
        selected = index < self.option_count and (
            self.get_option_at_index(index).value in self.selected
        )
        inner = segments[1]
        segments[1] = Segment("X" if selected else " ", inner.style, inner.control)
        return Strip(segments, strip.cell_length)

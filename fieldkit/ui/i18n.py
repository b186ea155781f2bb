"""The app's translation functions (the shared ones from fieldkit/i18n.py) and
`translate_bindings`, which translates a screen's key bindings when it is built.

BINDINGS are class attributes, evaluated when a module is imported, possibly before
the language is chosen: they hold English msgids marked with `N_`, and each screen
translates its own copy of them in its constructor."""

from __future__ import annotations

import dataclasses

from textual.dom import DOMNode

from fieldkit.i18n import N_, _, ngettext

__all__ = ["N_", "_", "ngettext", "translate_bindings"]


def translate_bindings(node: DOMNode) -> None:
    """Replace the descriptions of `node`'s bindings (its own copy) by their translation."""
    bindings = node._bindings  # a per-instance copy made by DOMNode.__init__
    bindings.key_to_bindings = {
        key: [
            dataclasses.replace(b, description=_(b.description)) if b.description else b
            for b in key_bindings
        ]
        for key, key_bindings in bindings.key_to_bindings.items()
    }

"""`N_`: marks an English sentence for the translation catalogue without translating it.

Every layer may use it. The core (crypto, formats, store, services) and fieldkit/errors.py
keep English: they mark the sentences a person will read (error hints, vocabulary labels,
delivery states) with `N_`, and only the CLI and the app translate them where they are
shown (fieldkit/i18n.py). `make pot` collects every `N_`, `_` and `ngettext` string.
"""

from __future__ import annotations


def N_(msgid: str) -> str:  # noqa: N802 - the gettext convention
    """Return `msgid` unchanged; the extractor records it in fieldkit.pot."""
    return msgid

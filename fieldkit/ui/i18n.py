"""Every user-visible string goes through `_` so translations (ru, tg) can follow.

Catalogues are looked up as fieldkit/ui/locale/<lang>/LC_MESSAGES/fieldkit.mo; without
one, English is shown.
"""

from __future__ import annotations

import gettext
from pathlib import Path

_LOCALE_DIR = Path(__file__).parent / "locale"
_translation = gettext.translation("fieldkit", localedir=_LOCALE_DIR, fallback=True)


def _(message: str) -> str:
    return _translation.gettext(message)

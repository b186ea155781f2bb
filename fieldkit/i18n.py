"""Translations for the CLI and the app (never for the core: see fieldkit/msgids.py).

One gettext catalogue per language: fieldkit/locale/<lang>/LC_MESSAGES/fieldkit.mo,
compiled from the .po next to it (`make po` updates the .po files from the template,
`make mo` compiles them; both .po and .mo are checked in, and tests/test_i18n.py fails
when a .mo is stale). English is the msgid itself and the fallback.

The language, first match wins:
1. `--lang` on the command line (the CLI calls `set_language` before building its parser);
2. the language chosen in the app's Settings (a one-line file in the user config folder,
   see `locations.language_file`, moved there from an older release's place when read;
   applied at the next start);
3. the locale: LANGUAGE (a colon-separated list), LC_ALL, LC_MESSAGES, LANG, as gettext does;
4. English.

Strings evaluated at import time (Textual BINDINGS) are marked with `N_` and translated
when a screen is built, so the language may be set after the modules were imported.
"""

from __future__ import annotations

import contextlib
import gettext
import os
from collections.abc import Mapping
from pathlib import Path

from fieldkit import locations
from fieldkit.msgids import N_

__all__ = ["LANGUAGES", "N_", "_", "current_language", "ngettext", "set_language"]

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "fieldkit"
# Language code -> its name in that language (what Settings and --help show).
LANGUAGES: dict[str, str] = {"en": "English", "ru": "Русский", "tg": "Тоҷикӣ"}
_LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_current = "en"


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a counted sentence for `n` in the current language (Russian has three)."""
    return _translation.ngettext(singular, plural, n)


def current_language() -> str:
    return _current


def normalise(code: str) -> str | None:
    """'ru_RU.UTF-8' -> 'ru', 'tg_TJ' -> 'tg', 'C' -> None; None for a language we lack."""
    base = code.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else None


def from_environment(env: Mapping[str, str] | None = None) -> str | None:
    """The first language we have among the locale variables, in gettext's order."""
    env = os.environ if env is None else env
    for var in _LOCALE_VARS:
        value = env.get(var, "")
        if not value:
            continue
        for part in value.split(":"):  # LANGUAGE may list several
            found = normalise(part)
            if found is not None:
                return found
        if var != "LANGUAGE":
            return None  # the first locale variable that is set decides (C, POSIX: English)
    return None


def saved_language() -> str | None:
    """The language chosen in Settings, if any (unreadable or unknown: none). A choice
    saved by an older release under a folder named fieldkit is moved here when read."""
    code = _read_language(locations.language_file())
    if code is not None:
        return code
    legacy = locations.legacy_language_file()
    code = _read_language(legacy) if legacy is not None else None
    if code is not None and legacy is not None:
        with contextlib.suppress(OSError):
            _write_language(code)
            _remove_legacy(legacy)
    return code


def save_language(code: str) -> None:
    """Remember `code` for the next start (Settings). Not a secret, so outside the vault:
    the language must be known before the vault is unlocked."""
    if code not in LANGUAGES:
        raise ValueError(code)
    _write_language(code)
    legacy = locations.legacy_language_file()
    if legacy is not None:
        with contextlib.suppress(OSError):
            _remove_legacy(legacy)


def _read_language(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return normalise(text) if text.strip() else None


def _write_language(code: str) -> None:
    path = locations.language_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(code + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _remove_legacy(path: Path) -> None:
    """The old file, then its folder if nothing else is in it (it is named fieldkit)."""
    if path.exists():
        path.unlink()
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def resolve(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    for candidate in (explicit, saved_language(), from_environment(env)):
        if candidate is not None:
            found = normalise(candidate)
            if found is not None:
                return found
    return "en"


def set_language(explicit: str | None = None) -> str:
    """Load the catalogue of the resolved language and return its code."""
    global _translation, _current
    code = resolve(explicit)
    if code == "en":
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(
            DOMAIN, localedir=LOCALE_DIR, languages=[code], fallback=True
        )
    _current = code
    return code


def n_records(n: int) -> str:
    return ngettext("{n} record", "{n} records", n).format(n=n)


def n_attachments(n: int) -> str:
    return ngettext("{n} attachment", "{n} attachments", n).format(n=n)


# ---- vocabulary ---------------------------------------------------------------
# Stored values are codes (services/model.py); only their labels are translated, so a
# Russian laptop and an English HQ read the same data. Incident types and actor kinds
# have English labels in the model (marked there with N_); the other codes are their
# own msgids (English shows the code, other languages a word).
_CODES = (
    # statuses
    N_("draft"),
    N_("complete"),
    N_("exported"),
    N_("delivered"),
    # risk levels
    N_("low"),
    N_("medium"),
    N_("high"),
    N_("critical"),
    # person roles
    N_("informant"),
    N_("victim"),
    N_("relative"),
    N_("witness"),
    N_("other"),
)
SCOPE_LABELS = {
    "hq_only": N_("HQ only"),
    "anonymised_publication": N_("anonymised publication"),
    "named_publication": N_("named publication"),
}


def status_label(code: str) -> str:
    return _(code)


def code_label(code: str) -> str:
    """A role, risk level or status as the reader's language names it."""
    return _(code)


def scope_label(code: str) -> str:
    return _(SCOPE_LABELS.get(code, code))


def incident_label(code: str) -> str:
    from fieldkit.services import model

    return _(model.INCIDENT_TYPES.get(code, code))


def actor_label(code: str) -> str:
    from fieldkit.services import model

    return _(model.ACTOR_TYPES.get(code, code))


def language_choices() -> list[tuple[str, str]]:
    return [(name, code) for code, name in LANGUAGES.items()]


set_language()

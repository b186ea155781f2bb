"""Refuse passphrases an attacker with the disk could guess, and suggest good ones.

Strength is estimated by zxcvbn (Dropbox's estimator, PyPI `zxcvbn`), which counts
how many guesses an attacker needs who tries leaked passwords, common words and
names (its frequency lists), keyboard walks, sequences, repeats, dates and l33t
substitutions first. A passphrase is accepted when it has at least MIN_CHARS
characters and zxcvbn's estimate is at least 10**MIN_GUESSES_LOG10 guesses. At
Argon2id's cost of about a second of one core and 256 MiB per guess (docs/vault-format.md),
10**12 guesses is some 30 000 core-years. Typing on a Russian keyboard layout is
also scored as the Latin keys pressed ("йцукен" is "qwerty"), since zxcvbn's lists
are Latin. A refusal says why, with zxcvbn's own warning and suggestion.

Suggestions are six words drawn with `secrets` from the EFF large word list
(7776 words, about 77.5 bits), as shipped by the `xkcdpass` package.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache
from importlib import resources
from typing import Any

from fieldkit.errors import WeakPassphrase
from fieldkit.msgids import N_

MIN_CHARS = 12
MIN_GUESSES_LOG10 = 12
MAX_CHARS = 1024
# zxcvbn refuses longer input (its matching is quadratic); the first 72 characters
# are scored, so a long passphrase that opens with a guessable part is refused.
SCORED_CHARS = 72
SUGGESTED_WORDS = 6
WORD_LIST = ("xkcdpass", "static/eff-long")  # EFF large list, CC BY 3.0 (eff.org/dice)

# ЙЦУКЕН to QWERTY: the same keys, so a Latin keyboard walk typed on a Russian
# layout is scored as what it is.
_RU_KEYS = str.maketrans(
    "йцукенгшщзхъфывапролджэячсмитьбюё", "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
)


def normalise(passphrase: str) -> str:
    """NFC, so the same passphrase typed on different keyboards gives the same bytes."""
    return unicodedata.normalize("NFC", passphrase)


def _estimate(p: str) -> dict[str, Any]:
    from zxcvbn import zxcvbn  # type: ignore[import-untyped]  # lazy: its lists load once

    scored = p[:SCORED_CHARS]
    results = [zxcvbn(scored)]
    as_latin = scored.lower().translate(_RU_KEYS)
    if as_latin != scored.lower():
        results.append(zxcvbn(as_latin))
    return dict(min(results, key=lambda r: float(r["guesses_log10"])))


def guesses_log10(passphrase: str) -> float:
    """zxcvbn's estimate of log10(guesses) for this passphrase (the weaker reading)."""
    return float(_estimate(normalise(passphrase))["guesses_log10"])


def strength_problem(passphrase: str) -> str | None:
    """Why this passphrase would be refused, or None if it is accepted."""
    return assess(passphrase)[0]


def assess(passphrase: str) -> tuple[str | None, float]:
    """(why it would be refused or None, zxcvbn's log10 of guesses): one estimate."""
    p = normalise(passphrase)
    if len(p) > MAX_CHARS:
        return f"it is longer than {MAX_CHARS} characters", 0.0
    if not p.strip():
        return N_("it is empty"), 0.0
    result = _estimate(p)
    guesses = float(result["guesses_log10"])
    if len(p) < MIN_CHARS:
        return f"{MIN_CHARS} characters at least; it has {len(p)}", guesses
    if guesses >= MIN_GUESSES_LOG10:
        return None, guesses
    feedback = result.get("feedback") or {}
    why = str(feedback.get("warning") or N_("it follows a pattern attackers try first")).rstrip(".")
    tips = [str(s).rstrip(".") for s in feedback.get("suggestions") or []][:1]
    return "; ".join(t[:1].lower() + t[1:] for t in [why, *tips]), guesses


def check(passphrase: str) -> None:
    problem = strength_problem(passphrase)
    if problem is not None:
        raise WeakPassphrase(f"passphrase refused: {problem}")


def strength_label(passphrase: str) -> str:
    """A coarse label for live feedback in the UI."""
    return label_for(*assess(passphrase))


def label_for(problem: str | None, guesses: float) -> str:
    if problem is not None:
        return N_("too weak")
    if guesses >= 20:
        return N_("strong")
    if guesses >= 15:
        return N_("good")
    return N_("acceptable")


@lru_cache(maxsize=1)
def word_list() -> tuple[str, ...]:
    package, name = WORD_LIST
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    words = tuple(sorted({w.strip() for w in text.splitlines() if w.strip()}))
    if len(words) != 7776:  # the published list; anything else is not it
        raise RuntimeError(f"the EFF word list has {len(words)} words, not 7776")
    return words


def suggest(words: int = SUGGESTED_WORDS) -> str:
    """A new passphrase: `words` words from the EFF large list, chosen with `secrets`."""
    wl = word_list()
    return " ".join(secrets.choice(wl) for _ in range(words))

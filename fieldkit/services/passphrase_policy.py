"""Refuse passphrases an attacker with the disk could guess.

The rule is short enough to say in one sentence to the user: at least 12
characters that are not one repeated pattern or a well-known password, or at
least four words. Each refusal says why and what would be accepted.
"""

from __future__ import annotations

import unicodedata

from fieldkit.errors import WeakPassphrase

MIN_CHARS = 12
MIN_WORDS = 4
MIN_DISTINCT = 6
MAX_CHARS = 1024

# Lower-cased; compared after removing spaces. Short on purpose: the length rule
# already excludes nearly every leaked password, this catches the famous long ones.
_COMMON = frozenset(
    {
        "passwordpassword",
        "password1234",
        "123456789012",
        "qwertyuiopasdf",
        "qwertyuiop123",
        "iloveyouiloveyou",
        "administrator",
        "correcthorsebatterystaple",
        "йцукенгшщзхъ",
        "пароль123456",
        "парольпароль",
    }
)
_ACCEPTED = "use at least 12 characters, or four or more unrelated words"


def normalise(passphrase: str) -> str:
    """NFC, so the same passphrase typed on different keyboards gives the same bytes."""
    return unicodedata.normalize("NFC", passphrase)


def strength_problem(passphrase: str) -> str | None:
    """Why this passphrase would be refused, or None if it is accepted."""
    p = normalise(passphrase)
    words = [w for w in p.split() if len(w) >= 2]
    if len(p) > MAX_CHARS:
        return f"it is longer than {MAX_CHARS} characters"
    if not p.strip():
        return "it is empty"
    if len(p) < MIN_CHARS and len(words) < MIN_WORDS:
        return f"it has {len(p)} characters; {_ACCEPTED}"
    squeezed = "".join(p.lower().split())
    if squeezed in _COMMON:
        return f"it is a well-known password; {_ACCEPTED}"
    if len(set(squeezed)) < MIN_DISTINCT:
        return f"it uses only {len(set(squeezed))} different characters; {_ACCEPTED}"
    if _is_repetition(squeezed):
        return f"it repeats one short piece; {_ACCEPTED}"
    if _is_sequence(squeezed):
        return f"it is a keyboard or number sequence; {_ACCEPTED}"
    return None


def check(passphrase: str) -> None:
    problem = strength_problem(passphrase)
    if problem is not None:
        raise WeakPassphrase(f"passphrase refused: {problem}")


def strength_label(passphrase: str) -> str:
    """A coarse label for live feedback in the UI."""
    if strength_problem(passphrase) is not None:
        return "too weak"
    p = normalise(passphrase)
    if len(p) >= 24 or len(p.split()) >= 6:
        return "strong"
    if len(p) >= 16 or len(p.split()) >= 5:
        return "good"
    return "acceptable"


def _is_repetition(s: str) -> bool:
    for size in range(1, len(s) // 2 + 1):
        if len(s) % size == 0 and s[:size] * (len(s) // size) == s:
            return True
    return False


def _is_sequence(s: str) -> bool:
    runs = (
        "0123456789012345678901234567890",
        "abcdefghijklmnopqrstuvwxyz",
        "qwertyuiopasdfghjklzxcvbnm",
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "йцукенгшщзхъфывапролджэячсмитьбю",
    )
    return any(s in run or s in run[::-1] for run in runs)

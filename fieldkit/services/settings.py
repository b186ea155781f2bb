"""Per-vault settings, kept inside the encrypted vault."""

from __future__ import annotations

from fieldkit.errors import InvalidInput
from fieldkit.store import meta
from fieldkit.store.db import Database

AUTOLOCK_KEY = "autolock_seconds"
DEFAULT_AUTOLOCK = 300
MIN_AUTOLOCK = 15
MAX_AUTOLOCK = 8 * 3600


def autolock_seconds(db: Database) -> int:
    value = meta.get(db, AUTOLOCK_KEY)
    try:
        return int(value) if value is not None else DEFAULT_AUTOLOCK
    except ValueError:
        return DEFAULT_AUTOLOCK


def set_autolock_seconds(db: Database, seconds: int) -> None:
    if not MIN_AUTOLOCK <= seconds <= MAX_AUTOLOCK:
        raise InvalidInput(f"auto-lock must be between {MIN_AUTOLOCK} seconds and 8 hours")
    with db.transaction():
        meta.put(db, AUTOLOCK_KEY, str(seconds))

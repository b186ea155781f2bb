"""SQL for the small key/value table that describes the vault itself."""

from __future__ import annotations

from fieldkit.store.db import Database


def get(db: Database, key: str) -> str | None:
    value = db.scalar("SELECT value FROM meta WHERE key=?", (key,))
    return None if value is None else str(value)


def put(db: Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
        (key, value),
    )

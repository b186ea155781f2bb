"""Wipe after N failed unlocks: the counter kept beside the keyslot file.

Every unlock attempt (passphrase or recovery code) first writes the count plus one,
atomically and fsynced, and only then runs Argon2id: killing the process during an
attempt, or cutting the power once its result shows, cannot keep a failure from being
counted. A success writes zero. A failure that reaches the limit wipes the vault
(services/wipe.py, the same code as `fieldkit wipe`) before the error is raised, and the
error is the ordinary "wrong passphrase".

The file is readable before unlock, so it is not secret and not authenticated: anyone
who can write the disk can reset it (SECURITY.md says so). The limit is also kept inside
the encrypted vault (meta `wipe_after_failures`); each successful unlock writes the file
again from there, so a limit switched off behind the user's back comes back at the next
unlock. A damaged file counts from zero with the limit off until then; a missing one
counts nothing until then.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from fieldkit.errors import FieldkitError, InvalidInput, MalformedData
from fieldkit.formats import attempts as fmt
from fieldkit.formats.attempts import Attempts
from fieldkit.locations import VaultPaths
from fieldkit.services import fsio
from fieldkit.services.wipe import wipe
from fieldkit.store import meta
from fieldkit.store.db import Database

META_KEY = "wipe_after_failures"
LIMITS = fmt.LIMITS


def read(paths: VaultPaths) -> Attempts | None:
    """The counter, a fresh one if the file is damaged, None if there is none."""
    try:
        with open(paths.attempts, "rb") as fh:
            data = fh.read(fmt.SIZE + 1)
    except FileNotFoundError:
        return None
    except OSError:
        return Attempts()
    try:
        return fmt.parse(data)
    except MalformedData:
        return Attempts()


def write(paths: VaultPaths, attempts: Attempts) -> None:
    fsio.atomic_write(paths.attempts, fmt.serialise(attempts))


def before_attempt(paths: VaultPaths) -> Attempts:
    """Count this attempt as failed, on disk, before it runs. Raises FileAccessError if
    the count cannot be written (then no attempt runs). A vault without the file (made
    before fieldkit counted, or the file deleted) counts nothing until its next
    successful unlock writes it: a wrong passphrase there still changes no file."""
    current = read(paths)
    if current is None:
        return Attempts()
    counted = current.one_more()
    write(paths, counted)
    return counted


def after_failure(root: Path, counted: Attempts) -> None:
    """Wipe if this failure reached the limit. A wipe that fails is not reported here
    (the error stays "wrong passphrase"); the next failure tries again."""
    if counted.exhausted:
        with contextlib.suppress(FieldkitError, OSError):
            wipe(root)


def after_success(paths: VaultPaths, db: Database) -> None:
    """Back to zero, with the limit the vault itself holds."""
    write(paths, Attempts(stored_limit(db), 0))


def stored_limit(db: Database) -> int:
    value = meta.get(db, META_KEY)
    try:
        limit = int(value) if value is not None else 0
    except ValueError:
        return 0
    return limit if limit in LIMITS else 0


def set_limit(paths: VaultPaths, db: Database, limit: int) -> None:
    """Set the limit (0 = off): in the vault first, then in the counter file."""
    if limit not in LIMITS:
        raise InvalidInput(
            f"wipe after {limit} failed unlocks is not offered",
            hint="choose off, 5, 10 or 20",
        )
    with db.transaction():
        meta.put(db, META_KEY, str(limit))
    write(paths, Attempts(limit, 0))

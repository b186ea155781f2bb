"""Wipe a vault folder, and sweep the temp files a crash leaves in it.

Wipe is a crypto-shred. The master key exists only wrapped in the keyslot file and in
any keyslot temp file a crash left behind (`.keyslots.<hex>.tmp`, written by
fsio.atomic_writer during `passphrase change` or `recovery-code new`, which unwraps
with the new secret). Those are overwritten in place and removed first; then the
database, its WAL and SHM, the attachment files (their keys lived in the database)
and every other file in the folder, lock and temp files and anything unknown, then
the folders. Afterwards it looks: only an empty, removed folder counts as wiped, and
anything left is named in the error.

Unlock sweeps keyslot temp files the same way (overwrite, then unlink), skipping one
that a writer still holds locked (fsio.atomic_writer locks its temp file until it is
renamed).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Callable
from pathlib import Path

from fieldkit.errors import VaultNotFound, WipeIncomplete
from fieldkit.locations import VaultPaths
from fieldkit.services import fsio

# fsio.atomic_writer's temp names: ".<name>.<16 hex>.tmp".
_TEMP = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{16}\.tmp$")
SHRED_HEAD = 1024 * 1024  # how much of each database file is overwritten
MAX_NAMED = 10  # remaining paths named in the error; the rest are counted


def temp_files(root: Path, name: str | None = None) -> list[Path]:
    """Temp files atomic_writer left in `root` (for the file `name`, or any)."""
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return []
    out = []
    for e in entries:
        m = _TEMP.match(e.name)
        if m and (name is None or m.group("name") == name):
            out.append(Path(e.path))
    return sorted(out)


def sweep_temp_files(root: Path) -> int:
    """At unlock: overwrite and remove temp files a crash left (a keyslot temp file
    unwraps the master key with a passphrase the user believes was never set).
    Returns how many were removed."""
    removed = 0
    for path in temp_files(root):
        with contextlib.suppress(OSError):
            if _shred_if_unlocked(path):
                removed += 1
    if removed:
        with contextlib.suppress(OSError):
            fsio.fsync_dir(root)
    return removed


def _shred_if_unlocked(path: Path) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a writer is filling it right now
        # The writer renames before it unlocks, so once the lock is ours the name must
        # still be this very file; otherwise it is now the live keyslot file.
        here = os.stat(path, follow_symlinks=False)
        mine = os.fstat(fd)
        if (here.st_dev, here.st_ino) != (mine.st_dev, mine.st_ino):
            return False
        _overwrite(fd, mine.st_size)
        os.unlink(path)
        return True
    finally:
        os.close(fd)


def _overwrite(fd: int, size: int, *, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
    """Random bytes, then zeros, over the first `size` bytes, each pass fsynced.

    On journaling file systems and flash an in-place overwrite does not guarantee the
    old blocks are gone (SECURITY.md says so); what makes a wipe final is that the
    master key existed only in the keyslot files."""
    for fill in (random_bytes(size), bytes(size)):
        os.lseek(fd, 0, os.SEEK_SET)
        view = memoryview(fill)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)


def _overwrite_path(path: Path, limit: int | None = None) -> bool:
    """Overwrite a regular file in place (never through a symlink), then unlink it.
    False if it existed but could not be overwritten (it is still unlinked if possible)."""
    overwritten = True
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    except OSError:
        overwritten = False
    else:
        try:
            size = os.fstat(fd).st_size
            _overwrite(fd, size if limit is None else min(size, limit))
        except OSError:
            overwritten = False
        finally:
            os.close(fd)
    with contextlib.suppress(OSError):
        path.unlink()
    return overwritten


def wipe(root: Path) -> None:
    """Destroy the vault at `root`. Needs no passphrase, so it works under duress.
    Raises WipeIncomplete, naming what is left, unless the folder is gone."""
    paths = VaultPaths(root)
    if not paths.keyslots.exists() and not paths.database.exists():
        raise VaultNotFound(f"no vault at {root}")
    # 1. Every copy of the wrapped master key: after this, nothing opens the vault.
    copies = (paths.keyslots, *temp_files(root, paths.keyslots.name))
    not_overwritten = [p for p in copies if not _overwrite_path(p)]
    with contextlib.suppress(OSError):
        fsio.fsync_dir(root)
    # 2. The database files: their salt and first pages, so they no longer even look
    #    like a fieldkit database (their content is unreadable without the key).
    for p in (paths.database, *paths.database_sidecars()):
        _overwrite_path(p, SHRED_HEAD)
    # 3. Everything else, deepest first: attachment files (their keys were in the
    #    database), temp and lock files, anything unknown; then the folders.
    for folder, dirs, files in os.walk(root, topdown=False):
        for name in files:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
        for name in dirs:
            sub = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                if os.path.islink(sub):
                    os.unlink(sub)
                else:
                    os.rmdir(sub)
    with contextlib.suppress(OSError):
        root.rmdir()
    with contextlib.suppress(OSError):
        fsio.fsync_dir(root.parent)
    left = remaining(root)
    if left or not_overwritten:
        raise WipeIncomplete.listing(
            root,
            left,
            keys_left=any(os.path.lexists(p) for p in not_overwritten),
            not_overwritten=not_overwritten,
        )


def remaining(root: Path) -> list[Path]:
    """Everything still under `root` (and `root` itself if it still exists)."""
    if not os.path.lexists(root):
        return []
    found = [root]
    for folder, dirs, files in os.walk(root):
        found += [Path(folder) / n for n in (*dirs, *files)]
    return found


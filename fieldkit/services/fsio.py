"""File operations that must not lose data or leave secrets behind."""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from fieldkit.errors import FileAccessError
from fieldkit.store.background import fsync_dir as fsync_dir  # one copy, in the store

SECRET_DIR_MODE = 0o700
SECRET_FILE_MODE = 0o600


def make_secret_dir(path: Path) -> None:
    """Create a directory readable only by its owner (and tighten an existing empty one)."""
    try:
        path.mkdir(mode=SECRET_DIR_MODE, parents=True, exist_ok=True)
        os.chmod(path, SECRET_DIR_MODE)
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot create directory {path}", exc) from None


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Around everything that reads `path`: a read that fails, even half-way (a USB
    stick pulled out: EIO), is one FileAccessError naming the file."""
    try:
        yield
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot read {path}", exc) from None


@contextlib.contextmanager
def atomic_writer(
    path: Path, *, mode: int = SECRET_FILE_MODE, readable: bool = False
) -> Iterator[BinaryIO]:
    """Write to a temp file in the same folder, fsync, rename over `path`, fsync the folder.

    With `readable`, the file object can also read back and rewrite what was written
    (services/media.py strips tags in place before the rename).

    A crash at any point leaves either the old file or the new one, never a mix.
    On an exception the temp file is removed and `path` is untouched. The temp file
    is flock'ed until it has been renamed, so a sweep of stale temp files
    (services/wipe.py, at unlock) never takes one that is being written.
    """
    folder = path.parent
    tmp = folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
    try:
        access = os.O_RDWR if readable else os.O_WRONLY
        fd = os.open(tmp, access | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot write in {folder}", exc) from None
    try:
        # Some file systems (network shares) refuse locks; the lock only matters in
        # the vault folder, which the sweep reads, so a refusal is not an error here.
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        with os.fdopen(os.dup(fd), "r+b" if readable else "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    finally:
        os.close(fd)  # releases the lock, after the rename


# What bundles and receipts are by default called: they are age files, and their names
# say nothing else (no tool, no device, no count): docs/bundle-format.md, file names.
NEUTRAL_SUFFIX = ".age"


def neutral_name(
    folder: Path, *, random_bytes: Callable[[int], bytes] = os.urandom
) -> Path:
    """A new file in `folder` named 8 random hex digits and '.age'."""
    while True:
        path = folder / f"{random_bytes(4).hex()}{NEUTRAL_SUFFIX}"
        if not path.exists():
            return path


def atomic_write(path: Path, data: bytes, *, mode: int = SECRET_FILE_MODE) -> None:
    try:
        with atomic_writer(path, mode=mode) as fh:
            fh.write(data)
    except OSError as exc:
        raise FileAccessError.from_os(f"cannot write {path}", exc) from None

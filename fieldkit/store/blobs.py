"""Attachment bytes as encrypted files beside the database (format: formats/blob.py).

Why files: SQLite writes every byte of a large blob through its page cache, journal
and (with SQLCipher) a per-page AES and HMAC pass; bundle import ran at a tenth of
`age -d`. A file per attachment, each with its own random key held in the database,
is written and read at close to disk speed.

Crash safety comes from the order of steps, not from the file system:
  1. `BlobStore.create` makes a new file under a fresh random name and holds an
     exclusive flock on it for as long as it is being written;
  2. `BlobWriter.finish` pads, seals the final chunk and fsyncs the file and folder;
  3. the caller, inside its database transaction, calls `check_in_place` and inserts
     the row that holds the blob's id and key; the commit publishes the attachment;
  4. `keep` (after the commit) marks the file as published and leaving the `with`
     block closes it, releasing the lock; any other way out unlinks the file.
     A caller whose write transaction was open before step 1 (HQ import) may
     `release` the file right after step 3's check: no sweep runs until it commits.
A crash before the commit leaves a file no row names, whose key never reached the
disk: `sweep` removes such files. Deleting an attachment commits the row's deletion
first (secure_delete shreds the key) and then unlinks the file; a crash between the
two leaves another unreadable orphan for `sweep`. A row never names a missing file.

`sweep` must run inside a write transaction (so no writer is between steps 3 and 4),
and skips every file another writer still holds locked (steps 1 and 2).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from fieldkit.crypto.age_stream import read_up_to
from fieldkit.errors import FileAccessError, IntegrityError
from fieldkit.formats import blob
from fieldkit.store.background import BackgroundWriter, Worker, fsync_dir

FOLDER = "blobs"


class BlobStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, database_path: Path) -> BlobStore:
        return cls(database_path.parent / FOLDER)

    def path(self, blob_id: bytes) -> Path:
        return self.folder / blob_id.hex()

    def create(self, *, random_bytes: Callable[[int], bytes] = os.urandom) -> BlobWriter:
        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise FileAccessError.from_os(f"cannot create {self.folder}", exc) from None
        blob_id = random_bytes(blob.ID_SIZE)
        return BlobWriter(self.path(blob_id), blob_id, random_bytes(blob.KEY_SIZE))

    def exists(self, blob_id: bytes) -> bool:
        return self.path(blob_id).is_file()

    def read(self, blob_id: bytes, key: bytes, size: int) -> Iterator[bytes]:
        """Yield exactly `size` plaintext bytes in chunks of at most 1 MiB.

        The file's length is checked against the size before anything is read, each
        chunk authenticates before it is released, and the padding must be zeros.
        """
        full, last_len = blob.layout(size)
        try:
            fd = os.open(self.path(blob_id), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise IntegrityError("a stored attachment file is missing") from None
        except OSError as exc:
            raise FileAccessError.from_os("cannot read an attachment file", exc) from None
        with os.fdopen(fd, "rb", buffering=0) as fh:
            if os.fstat(fd).st_size != blob.file_size(size):
                raise IntegrityError("a stored attachment file has the wrong length")
            blob.check_header(_read_exact(fh, blob.HEADER_SIZE), blob_id)
            sealer = blob.Sealer(key, blob_id)
            remaining = size
            for index in range(full + 1):
                final = index == full
                n = last_len + blob.TAG_SIZE if final else blob.ENCRYPTED_CHUNK_SIZE
                plain = sealer.open(index, _read_exact(fh, n), last=final)
                take = min(remaining, len(plain))
                if plain.count(0, take) != len(plain) - take:
                    raise IntegrityError("a stored attachment file has non-zero padding")
                if take:
                    yield plain if take == len(plain) else plain[:take]
                    remaining -= take

    def open_random(self, blob_id: bytes, key: bytes, size: int) -> io.BufferedReader:
        """A read-only, seekable file object over the plaintext (services/media.py: Pillow
        and mutagen seek about a file). It decrypts one 1 MiB chunk at a time, each
        authenticated before any byte of it is returned, and holds at most one in memory:
        nothing is written anywhere. Close it (it is a context manager)."""
        try:
            fd = os.open(self.path(blob_id), os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise IntegrityError("a stored attachment file is missing") from None
        except OSError as exc:
            raise FileAccessError.from_os("cannot read an attachment file", exc) from None
        fh = os.fdopen(fd, "rb", buffering=0)
        try:
            if os.fstat(fd).st_size != blob.file_size(size):
                raise IntegrityError("a stored attachment file has the wrong length")
            blob.check_header(_read_exact(fh, blob.HEADER_SIZE), blob_id)
        except BaseException:
            fh.close()
            raise
        # Buffered: parsers read a few bytes at a time.
        return io.BufferedReader(BlobRandomReader(fh, blob.Sealer(key, blob_id), size), 64 * 1024)

    def remove(self, blob_ids: Iterable[bytes]) -> None:
        """Unlink files whose rows are already deleted (their keys are gone)."""
        removed = False
        for blob_id in blob_ids:
            with contextlib.suppress(FileNotFoundError):
                self.path(blob_id).unlink()
                removed = True
        if removed:
            fsync_dir(self.folder)

    def sweep(self, referenced: set[bytes]) -> int:
        """Remove files no row names and no writer holds. Call inside a write transaction."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        with os.scandir(self.folder) as entries:
            names = [(e.name, e.path) for e in entries]
        for name, path in names:
            blob_id = _blob_id(name)
            if blob_id is None or blob_id in referenced:
                continue  # not ours, or in use
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.unlink(path)
                removed += 1
            except BlockingIOError:
                pass  # a writer is still filling it
            finally:
                os.close(fd)
        if removed:
            fsync_dir(self.folder)
        return removed

    def remove_all(self) -> None:
        """For wipe: the keys died with the database; drop the files and the folder."""
        if not self.folder.is_dir():
            return
        with os.scandir(self.folder) as entries:
            paths = [e.path for e in entries]
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        with contextlib.suppress(OSError):
            self.folder.rmdir()


class BlobRandomReader(io.RawIOBase):
    """See BlobStore.open_random. Reads past the attachment's size return b"" (the
    padding is never shown); a chunk that fails authentication raises IntegrityError."""

    def __init__(self, fh: BinaryIO, sealer: blob.Sealer, size: int) -> None:
        super().__init__()
        self._fh = fh
        self._sealer = sealer
        self._size = size
        self._full, self._last_len = blob.layout(size)
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}.get(whence)
        if base is None:
            raise ValueError(f"invalid whence {whence}")
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _chunk(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        final = index == self._full
        # Chunk offsets follow from the recorded size alone (formats/blob.py layout).
        self._fh.seek(blob.HEADER_SIZE + index * blob.ENCRYPTED_CHUNK_SIZE)
        n = self._last_len + blob.TAG_SIZE if final else blob.ENCRYPTED_CHUNK_SIZE
        plain = self._sealer.open(index, _read_exact(self._fh, n), last=final)
        self._cached = (index, plain)
        return plain

    def read(self, n: int = -1) -> bytes:
        end = self._size if n is None or n < 0 else min(self._size, self._pos + n)
        parts: list[bytes] = []
        while self._pos < end:
            index, offset = divmod(self._pos, blob.CHUNK_SIZE)
            chunk = self._chunk(index)
            take = min(end - self._pos, len(chunk) - offset)
            parts.append(chunk[offset : offset + take])
            self._pos += take
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._fh.close()
            self._cached = None
        super().close()


class BlobWriter:
    """One new blob being written. Use as a context manager; see the module docstring.

    `write` only buffers; sealing and writing run on one worker thread and SHA-256 of
    the plaintext on another (both release the GIL), so intake and import overlap
    decryption, hashing, encryption and disk writes on separate cores.
    """

    def __init__(self, path: Path, blob_id: bytes, key: bytes) -> None:
        self.path = path
        self.blob_id = blob_id
        self.key = key
        self.size = 0
        self._sealer = blob.Sealer(key, blob_id)
        self._buf = bytearray()
        self._index = 0
        self._kept = False
        self._finished = False
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise FileAccessError.from_os(f"cannot write in {path.parent}", exc) from None
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self._sink = BackgroundWriter(self._fd)
        self._sha = hashlib.sha256()
        self._hasher = Worker(self._sha.update)
        self._writer = Worker(self._seal_and_write)
        self._writer.put((-1, blob.header(blob_id), False))

    # ---- filling ------------------------------------------------------------
    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._finished:
            raise ValueError("write after finish")
        self._buf += data
        self.size += len(data)
        with self._disk_errors():
            while len(self._buf) >= blob.CHUNK_SIZE:
                with memoryview(self._buf) as view:
                    chunk = bytes(view[: blob.CHUNK_SIZE])  # the one copy
                del self._buf[: blob.CHUNK_SIZE]
                self._hasher.put(chunk)
                self._emit(chunk, last=False)

    def finish(self) -> bytes:
        """Pad, seal the final chunk, make the file durable; returns the SHA-256."""
        if self.size > blob.MAX_SIZE:
            raise ValueError("attachment too large")
        tail = bytes(self._buf)
        self._buf.clear()
        self._finished = True
        with self._disk_errors():
            self._hasher.put(tail)
            pending = tail
            padding = blob.padded_size(self.size) - self.size
            while len(pending) + padding >= blob.CHUNK_SIZE:
                fill = blob.CHUNK_SIZE - len(pending)
                self._emit(pending + bytes(fill), last=False)
                padding -= fill
                pending = b""
            self._emit(pending + bytes(padding), last=True)
            self._hasher.close()
            self._writer.close()
            self._sink.close()
            os.fsync(self._fd)
            fsync_dir(self.path.parent)
        return self._sha.digest()

    @contextlib.contextmanager
    def _disk_errors(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            where = f"cannot write an attachment file in {self.path.parent}"
            raise FileAccessError.from_os(where, exc) from None

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        self._writer.put((self._index, chunk, last))
        self._index += 1

    def _seal_and_write(self, item: tuple[int, bytes, bool]) -> None:
        index, data, last = item
        self._sink.write(data if index < 0 else self._sealer.seal(index, data, last=last))

    # ---- publishing ---------------------------------------------------------
    def check_in_place(self) -> None:
        """Inside the publishing transaction: the file under our name is still ours."""
        try:
            here = os.stat(self.path)
        except FileNotFoundError:
            raise IntegrityError("an attachment file vanished while it was being saved") from None
        mine = os.fstat(self._fd)
        if (here.st_dev, here.st_ino) != (mine.st_dev, mine.st_ino):
            raise IntegrityError("an attachment file was replaced while it was being saved")

    def keep(self) -> None:
        self._kept = True

    def release(self) -> None:
        """After `finish` and `check_in_place`, close the file (and drop its lock)
        before the commit. Only for a caller whose write transaction was open before
        `create`: no sweep can run until it ends, so the lock has nothing left to
        guard, and an HQ import of thousands of attachments does not hold thousands
        of files open. Without `keep`, leaving the `with` block still unlinks it."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._hasher.abandon()
        self._writer.abandon()
        self._sink.abandon()
        if not self._kept:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
        self.release()  # closing releases the lock


def _blob_id(name: str) -> bytes | None:
    if len(name) != 2 * blob.ID_SIZE:
        return None
    try:
        raw = bytes.fromhex(name)
    except ValueError:
        return None
    return raw if raw.hex() == name else None


def _read_exact(fh: BinaryIO, n: int) -> bytes:
    try:
        data = read_up_to(fh.read, n)
    except OSError as exc:  # a failing disk: not the caller's output file
        raise FileAccessError.from_os("cannot read an attachment file", exc) from None
    if len(data) != n:
        raise IntegrityError("a stored attachment file is truncated")
    return data

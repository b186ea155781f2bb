"""Open an SQLCipher database with a raw 256-bit key and the pragmas that matter."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlcipher3

from fieldkit.errors import CorruptVault, FileAccessError, VaultBusy
from fieldkit.store import schema

KEY_SIZE = 32
BUSY_TIMEOUT_MS = 10000

# Applied right after the key, on every connection. Why each one:
#   cipher_compatibility = 4   pin SQLCipher 4 defaults (AES-256-CBC, HMAC-SHA512 per
#                              page, 4096-byte pages) so a library upgrade cannot
#                              silently change the on-disk format.
#   cipher_memory_security=OFF a deliberate deviation from DESIGN.md, measured in
#                              docs/performance.md: it is process-wide, cannot be
#                              undone once on, and made full-text search 10x slower at
#                              the median and 65x at p95 (2.4 s at 100,000 records). What
#                              it adds, wiping every freed SQLite buffer, is undone by
#                              Python itself, whose strings holding the same text cannot
#                              be wiped; SQLCipher still wipes its own key material.
#   secure_delete = ON         overwrite deleted content instead of leaving it in
#                              free pages (matters for purge).
#   temp_store = MEMORY        SQLCipher does not encrypt SQLite's temp files; keep
#                              sorts and temp tables in memory so none are written.
#   journal_mode = WAL         the WAL is encrypted page by page like the database;
#                              a crash loses nothing committed.
#   synchronous = FULL         fsync the WAL on every commit: a power cut after a
#                              save returns loses nothing that was saved.
#   foreign_keys = ON          enforce record -> attachment -> chunk ownership.
#   cache_size = -16384        16 MiB of decrypted pages per connection: each page read
#                              from disk costs an AES and HMAC pass, so keeping the hot
#                              full-text index pages decrypted halves search time.
_PRAGMAS: Sequence[str] = (
    "PRAGMA cipher_compatibility = 4",
    "PRAGMA cipher_memory_security = OFF",
    "PRAGMA secure_delete = ON",
    "PRAGMA temp_store = MEMORY",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA cache_size = -16384",
    # A second connection (a UI worker) waits for the first instead of failing.
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
)

Row = tuple[Any, ...]


class Busy(Exception):
    """Another connection holds the write lock (only from transaction(wait=False))."""


def as_bytes(value: object) -> bytes:
    """A BLOB column's value as bytes (SQLite hands back bytes or memoryview)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError("expected a BLOB")


class Database:
    """One open, keyed SQLCipher connection. Use `transaction()` for every write."""

    def __init__(self, conn: Any, path: Path) -> None:
        self._conn = conn
        self.path = path
        # One statement at a time on this connection, whichever thread runs it: lock()
        # in the app closes a worker's connection from the UI thread, and closing a
        # connection while another thread is inside it crashes the process.
        self._lock = threading.RLock()
        # How long a write waits for another process's write lock before VaultBusy, and
        # what it says meanwhile (called every BUSY_TIMEOUT_MS with the seconds waited).
        self.patience = BUSY_TIMEOUT_MS / 1000
        self.on_wait: Callable[[float], None] | None = None

    @classmethod
    def open(
        cls,
        path: Path,
        key: bytes | bytearray,
        *,
        create: bool = False,
        upgrade: schema.Upgrade | None = None,
    ) -> Database:
        """Open and key the database, then bring its schema up to date (`upgrade`: what
        a migration needs from above the store, see schema.Upgrade)."""
        if len(key) != KEY_SIZE:
            raise ValueError("database key must be 32 bytes")
        if not create and not path.exists():
            raise CorruptVault("the vault database file is missing")
        if not create and path.stat().st_size == 0:
            # SQLite would take an empty file for a new database and the schema would
            # be written into it: a damaged vault is reported, never made anew.
            raise CorruptVault("the vault database file is empty")
        conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
        try:
            # Raw-key form: SQLCipher uses the 256-bit key directly, no PBKDF2 of
            # its own. The key never touches the passphrase (that is the keyslots' job).
            conn.execute(f"PRAGMA key = \"x'{bytes(key).hex()}'\"")
            for pragma in _PRAGMAS:
                conn.execute(pragma).fetchall()
            # The first real read fails if the key is wrong or the file is damaged.
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher3.DatabaseError as exc:
            conn.close()
            raise CorruptVault("the vault database does not open with the unlocked key") from exc
        db = cls(conn, path)
        try:
            if not create and int(db.scalar("PRAGMA user_version")) == 0:
                raise CorruptVault("the vault database holds no schema")
            schema.migrate(db, upgrade)
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        """Close the connection. From another thread too: a statement running on it is
        interrupted (sqlite3_interrupt is safe from any thread) and the close waits for
        it to return; the owner's next call then fails and its transaction is gone.

        A connection that wrote checkpoints first, so what it deleted or overwrote leaves
        the WAL when the vault locks (SECURITY.md, guarantee 8). One that only read does
        not: a TRUNCATE checkpoint waits for every other reader and writer of the vault
        (10-13 s behind a large import), and a reader has put nothing in the WAL."""
        conn = self._conn
        if conn is None:
            return
        conn.interrupt()
        with self._lock:
            if self._conn is None:
                return
            # total_changes: rows this connection inserted, updated or deleted (an
            # empty transaction, as the unlock's file sweep takes, is not a write).
            if self._conn.total_changes:
                with contextlib.suppress(sqlcipher3.Error):
                    self.checkpoint()
            self._conn.close()
            self._conn = None

    def checkpoint(self) -> bool:
        """Copy every committed page from the WAL into the database and truncate the WAL
        to zero bytes. False if another connection's reader or writer kept it from
        completing (the WAL is then truncated at a later checkpoint, at the latest when
        a connection that wrote closes)."""
        with self._lock:
            row = self._c().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return row is not None and int(row[0]) == 0

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def _c(self) -> Any:
        if self._conn is None:
            raise RuntimeError("database is closed")
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._lock:
            return self._c().execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._lock:
            self._c().executemany(sql, rows)

    def executescript(self, sql: str) -> None:
        with self._lock:
            self._c().executescript(sql)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._lock:
            row = self._c().execute(sql, params).fetchone()
        return None if row is None else tuple(row)

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return [tuple(r) for r in self._c().execute(sql, params).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    @contextlib.contextmanager
    def transaction(self, *, wait: bool = True) -> Iterator[Database]:
        """BEGIN IMMEDIATE ... COMMIT; any exception rolls everything back.

        With wait=False, raise Busy at once if another connection is writing, instead
        of waiting up to the busy timeout (for housekeeping that can run another time)."""
        if wait:
            self._begin_waiting()
        else:
            self.execute("PRAGMA busy_timeout = 0")
            try:
                self.execute("BEGIN IMMEDIATE")
            except sqlcipher3.OperationalError:
                raise Busy("another connection is writing") from None
            finally:
                self.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            yield self
            self.execute("COMMIT")
        except BaseException as exc:
            with self._lock:
                # SQLite may already have rolled back (a full disk); a connection closed
                # meanwhile (a lock) rolled back as it closed.
                if self._conn is not None and self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            problem = _disk_problem(exc)
            if problem is not None:
                raise problem from None
            if isinstance(exc, sqlcipher3.OperationalError) and _is_busy(exc):
                raise VaultBusy(
                    "the vault is busy: another fieldkit process is writing to it"
                ) from None
            raise

    def _begin_waiting(self) -> None:
        """BEGIN IMMEDIATE, waiting up to `patience` seconds for another process's write
        lock, then VaultBusy: one clear error instead of SQLite's "database is locked".
        on_wait hears of it at once and after every BUSY_TIMEOUT_MS waited (SQLite's
        busy handler does the waiting within each attempt)."""
        start = time.monotonic()
        first = True  # a first try that does not wait, so the waiting is said at once
        while True:
            left_ms = int((self.patience - (time.monotonic() - start)) * 1000)
            step_ms = 0 if first else max(0, min(BUSY_TIMEOUT_MS, left_ms))
            first = False
            if step_ms != BUSY_TIMEOUT_MS:
                self.execute(f"PRAGMA busy_timeout = {step_ms}")
            try:
                self.execute("BEGIN IMMEDIATE")
                return
            except sqlcipher3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
            finally:
                if step_ms != BUSY_TIMEOUT_MS:
                    self.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            waited = time.monotonic() - start
            if waited >= self.patience - 0.01:
                raise VaultBusy("the vault is busy: another fieldkit process is writing to it")
            if self.on_wait is not None:
                self.on_wait(waited)

    def integrity_problems(self) -> list[str]:
        """Both SQLite's and SQLCipher's integrity checks; empty when clean."""
        problems = [str(r[0]) for r in self.all("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [str(r[0]) for r in self.all("PRAGMA cipher_integrity_check")]
        return problems

    def pragma(self, name: str) -> Any:
        if not name.replace("_", "").isalnum():
            raise ValueError("bad pragma name")
        return self.scalar(f"PRAGMA {name}")


def ids_with_prefix(db: Database, table: str, prefix: str, *, limit: int) -> list[str]:
    """Up to `limit` ids of `table` (records or attachments) starting with `prefix`:
    a range scan on the table's unique id index."""
    if table not in ("records", "attachments"):
        raise ValueError("no id prefix look-up for that table")
    return [
        str(r[0])
        for r in db.all(
            f"SELECT id FROM {table} WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
    ]


# SQLite's words for a disk that cannot take the write; anything else is not ours to name.
_DISK_PROBLEMS = {
    "database or disk is full": (
        "the laptop's disk is full",
        "free some space and save again; nothing of this change was kept, the rest is intact",
    ),
    "disk I/O error": (
        "the disk reported an error while saving",
        "the disk may be failing: copy the vault folder elsewhere while it still reads",
    ),
    "attempt to write a readonly database": (
        "the vault is on a read-only disk or folder",
        "check the folder's permissions, or move the vault to a writable disk",
    ),
}


def _is_busy(exc: BaseException) -> bool:
    return str(exc) in ("database is locked", "database is busy")


def _disk_problem(exc: BaseException) -> FileAccessError | None:
    if not isinstance(exc, sqlcipher3.OperationalError):
        return None
    known = _DISK_PROBLEMS.get(str(exc))
    return None if known is None else FileAccessError(known[0], hint=known[1])

"""Attachments (audio, photos of documents): streamed into the vault.

Intake reads the source file one chunk at a time into a new encrypted file
(store/blobs.py), hashing as it goes; the file is made durable first, then one
transaction records it with its key, its metadata and the history entry. A crash
leaves either the whole attachment or none of it (an unnamed file is swept at the
next unlock). A copy leaves the vault only through `extract`, to a path the user
names, written atomically and checked against the recorded SHA-256 before it is
put in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from fieldkit.errors import FieldkitError, FileAccessError, IntegrityError, InvalidInput, NotFound
from fieldkit.formats import bundle
from fieldkit.formats import text as text_rules
from fieldkit.services import custody, fsio, history, ids
from fieldkit.services.clock import iso_utc
from fieldkit.services.records import RecordService
from fieldkit.store import attachments as att_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.background import BackgroundWriter, prefetched
from fieldkit.store.blobs import BlobStore
from fieldkit.store.db import Database

CHUNK_SIZE = 1024 * 1024  # how much of a source file is read at a time
ATTACHMENT_PREFIX = "a"
MAX_DESCRIPTION = 2000
MAX_FILENAME = 255
Progress = Callable[[int, int], None]  # (bytes done, bytes total)
_LIST_HINT = "list a record's attachments with 'fieldkit attachment list ID'"


class AttachmentService:
    def __init__(self, db: Database, *, now: Callable[[], float] = time.time) -> None:
        self._db = db
        self._now = now
        self._records = RecordService(db, now=now)

    def add(
        self,
        record_id: str,
        source: Path,
        *,
        description: str = "",
        media_type: str | None = None,
        progress: Progress | None = None,
    ) -> AttachmentRow:
        rid = self._records.resolve(record_id)
        try:
            total = source.stat().st_size
            fh = open(source, "rb")
        except OSError as exc:
            raise FileAccessError.from_os(f"cannot read {source}", exc) from None
        with fh:
            return self.add_stream(
                rid,
                fh,
                filename=source.name,
                total=total,
                description=description,
                media_type=media_type or _guess_type(source.name),
                progress=progress,
            )

    def add_stream(
        self,
        record_id: str,
        stream: BinaryIO,
        *,
        filename: str,
        total: int = 0,
        description: str = "",
        media_type: str = "application/octet-stream",
        progress: Progress | None = None,
    ) -> AttachmentRow:
        rid = self._records.resolve(record_id)
        # Stored as a bundle will carry it: a base name without control characters.
        filename = bundle.safe_attachment_name(filename)
        _check_text(filename, "file name", MAX_FILENAME)
        _check_text(media_type, "media type", bundle.MAX_MEDIA_TYPE)
        _check_text(description, "description", MAX_DESCRIPTION, multiline=True)
        att_id = ids.new_id(ATTACHMENT_PREFIX)
        at = iso_utc(self._now())
        with att_store.blob_store(self._db).create() as w:
            while True:
                try:
                    chunk = stream.read(CHUNK_SIZE)
                except OSError as exc:
                    # Leaving the block removes the partial file; nothing was recorded.
                    raise FileAccessError.from_os(f"reading {filename} failed", exc) from None
                if not chunk:
                    break
                if w.size + len(chunk) > bundle.MAX_ATTACHMENT_SIZE:
                    # A bundle cannot carry it (HQ would refuse the bundle): say so now.
                    raise InvalidInput(f"{filename} is larger than a bundle can carry (1 TiB)")
                w.write(chunk)
                if progress is not None:
                    progress(w.size, max(total, w.size))
            digest = w.finish()
            row = AttachmentRow(
                id=att_id,
                record_id=rid,
                filename=filename,
                media_type=media_type,
                description=description,
                size=w.size,
                sha256=digest,
                added_at=at,
                blob_id=w.blob_id,
                blob_key=w.key,
            )
            with self._db.transaction():
                w.check_in_place()
                att_store.insert(self._db, row)
                history.append(
                    self._db,
                    at=at,
                    action="attachment.add",
                    subject=att_id,
                    version=1,
                    content_hash=history.attachment_meta_hash(row),
                )
                custody.attachment_added(self._db, att_id, digest, w.size, at)
            w.keep()
        return row

    def get(self, attachment_id: str) -> AttachmentRow:
        """By its full id or a unique prefix of at least 6 characters."""
        row = att_store.get(self._db, attachment_id)
        if row is None:
            full = ids.match_prefix(
                attachment_id, "attachment", self._ids_with_prefix, hint=_LIST_HINT
            )
            row = att_store.get(self._db, full)
        if row is None:
            raise NotFound(f"no attachment {attachment_id!r} in this vault", hint=_LIST_HINT)
        return row

    def _ids_with_prefix(self, prefix: str, limit: int) -> list[str]:
        return att_store.ids_with_prefix(self._db, prefix, limit=limit)

    def for_record(self, record_id: str) -> list[AttachmentRow]:
        return att_store.for_record(self._db, self._records.resolve(record_id))

    def describe(self, attachment_id: str, description: str) -> AttachmentRow:
        _check_text(description, "description", MAX_DESCRIPTION, multiline=True)
        row = self.get(attachment_id)
        at = iso_utc(self._now())
        with self._db.transaction():
            att_store.set_description(self._db, row.id, description)
            new = self.get(row.id)
            history.append(
                self._db,
                at=at,
                action="attachment.describe",
                subject=row.id,
                version=1,
                content_hash=history.attachment_meta_hash(new),
            )
        return new

    def remove(self, attachment_id: str) -> None:
        row = self.get(attachment_id)
        at = iso_utc(self._now())
        with self._db.transaction():
            delete_row(self._db, row, at)
            custody.forget(self._db, None, [row.id])
        # The row, and with it the file's key, is gone; now the ciphertext goes too.
        remove_files(self._db, [row])

    def extract(
        self,
        attachment_id: str,
        out: Path,
        *,
        overwrite: bool = False,
        progress: Progress | None = None,
    ) -> AttachmentRow:
        """Write a plaintext copy to `out`, only after its hash matches the record."""
        row = self.get(attachment_id)
        if out.exists() and not overwrite:
            raise FileAccessError(
                f"{out} already exists", hint="choose another path, or pass --force to replace it"
            )
        if not out.parent.is_dir():
            raise FileAccessError(f"folder {out.parent} does not exist")
        h = hashlib.sha256()
        done = 0
        try:
            with fsio.atomic_writer(out) as fh, BackgroundWriter(fh) as sink:
                for chunk in prefetched(att_store.content(self._db, row)):
                    h.update(chunk)
                    sink.write(chunk)  # written on another core
                    done += len(chunk)
                    if progress is not None:
                        progress(done, row.size)
                sink.close()  # every byte in the file before it is fsynced
                if h.digest() != row.sha256 or done != row.size:
                    # Raising inside the writer removes the temp file; `out` is untouched.
                    raise IntegrityError(f"attachment {row.id} does not match its recorded hash")
        except OSError as exc:
            raise FileAccessError.from_os(f"cannot write {out}", exc) from None
        return row


def delete_row(db: Database, row: AttachmentRow, at: str) -> None:
    """Inside the caller's transaction: drop the row (and with it the file's key) and
    log the removal. The file goes with remove_files once the transaction commits."""
    att_store.delete(db, row.id)
    history.append(
        db, at=at, action="attachment.remove", subject=row.id, version=1, content_hash=row.sha256
    )


def remove_files(db: Database, rows: list[AttachmentRow]) -> None:
    """After the rows' deletion has committed: unlink their files (best effort; a
    file left by a crash here has no key any more and is swept at the next unlock)."""
    with contextlib.suppress(OSError):
        att_store.blob_store(db).remove(r.blob_id for r in rows if r.blob_id is not None)


def tidy_storage(db: Database) -> None:
    """At unlock: move attachments of vaults older than schema 4 into their own
    files (one attachment per transaction), then sweep files a crash left unnamed."""
    blobs = att_store.blob_store(db)
    for att_id in att_store.legacy_ids(db):
        row = att_store.get(db, att_id)
        if row is None:
            continue
        # One damaged attachment must not lock the user out of the vault: it stays
        # where it is and `history verify` reports it.
        with contextlib.suppress(FieldkitError):
            _move_legacy(db, blobs, row)
    att_store.sweep_orphan_files(db, blobs)


def _move_legacy(db: Database, blobs: BlobStore, row: AttachmentRow) -> None:
    with blobs.create() as w:
        try:
            for chunk in att_store.legacy_chunks(db, row.id):
                w.write(chunk)
        except LookupError:
            raise IntegrityError(f"attachment {row.id} is missing stored chunks") from None
        if w.finish() != row.sha256 or w.size != row.size:
            raise IntegrityError(f"attachment {row.id} does not match its recorded hash")
        with db.transaction():
            w.check_in_place()
            att_store.move_to_blob(db, row.id, w.blob_id, w.key)
        w.keep()


def _check_text(value: str, what: str, limit: int, *, multiline: bool = False) -> None:
    """The rules HQ applies to a bundle's attachment entries (formats/bundle.py)."""
    if len(value) > limit:
        raise InvalidInput(f"the {what} is longer than {limit} characters")
    bad = text_rules.problem(value, multiline=multiline)
    if bad is not None:
        raise InvalidInput(f"the {what} {bad}")


def _guess_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"

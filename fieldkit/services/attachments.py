"""Attachments (audio, photos of documents): streamed into the vault in chunks.

Intake reads the source file one chunk at a time, hashing as it goes, and
stores every chunk and the metadata in one transaction: a crash leaves either
the whole attachment or none of it. A copy leaves the vault only through
`extract`, to a path the user names, written atomically and checked against the
recorded SHA-256 before it is put in place.
"""

from __future__ import annotations

import hashlib
import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from fieldkit.errors import FileAccessError, IntegrityError, InvalidInput, NotFound
from fieldkit.services import fsio, history, ids
from fieldkit.services.clock import iso_utc
from fieldkit.services.records import RecordService
from fieldkit.store import attachments as att_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.db import Database

CHUNK_SIZE = 512 * 1024
ATTACHMENT_PREFIX = "a"
MAX_DESCRIPTION = 2000
MAX_FILENAME = 255
Progress = Callable[[int, int], None]  # (bytes done, bytes total)


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
            raise FileAccessError(f"cannot read {source}: {exc.strerror}") from None
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
        _check_text(filename, "file name", MAX_FILENAME)
        _check_text(description, "description", MAX_DESCRIPTION)
        att_id = ids.new_id(ATTACHMENT_PREFIX)
        h = hashlib.sha256()
        size = 0
        idx = 0
        at = iso_utc(self._now())
        with self._db.transaction():
            while True:
                try:
                    chunk = stream.read(CHUNK_SIZE)
                except OSError as exc:
                    # Leaving the block rolls back every chunk stored so far.
                    raise FileAccessError(
                        f"reading {filename} failed: {exc.strerror or exc}"
                    ) from None
                if not chunk:
                    break
                h.update(chunk)
                size += len(chunk)
                att_store.insert_chunk(self._db, att_id, idx, chunk)
                idx += 1
                if progress is not None:
                    progress(size, max(total, size))
            row = AttachmentRow(
                id=att_id,
                record_id=rid,
                filename=filename,
                media_type=media_type,
                description=description,
                size=size,
                sha256=h.digest(),
                chunk_size=CHUNK_SIZE,
                chunk_count=idx,
                added_at=at,
            )
            att_store.insert_meta(self._db, row)
            history.append(
                self._db,
                at=at,
                action="attachment.add",
                subject=att_id,
                version=1,
                content_hash=history.attachment_meta_hash(row),
            )
        return row

    def get(self, attachment_id: str) -> AttachmentRow:
        row = att_store.get(self._db, attachment_id)
        if row is None:
            raise NotFound(
                f"no attachment {attachment_id!r} in this vault",
                hint="list a record's attachments with 'fieldkit record show ID'",
            )
        return row

    def for_record(self, record_id: str) -> list[AttachmentRow]:
        return att_store.for_record(self._db, self._records.resolve(record_id))

    def describe(self, attachment_id: str, description: str) -> AttachmentRow:
        _check_text(description, "description", MAX_DESCRIPTION)
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
            att_store.delete(self._db, row.id)
            history.append(
                self._db,
                at=at,
                action="attachment.remove",
                subject=row.id,
                version=1,
                content_hash=row.sha256,
            )

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
            with fsio.atomic_writer(out) as fh:
                for chunk in att_store.iter_chunks(self._db, row.id, row.chunk_count):
                    h.update(chunk)
                    fh.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, row.size)
                if h.digest() != row.sha256 or done != row.size:
                    # Raising inside the writer removes the temp file; `out` is untouched.
                    raise IntegrityError(f"attachment {row.id} does not match its recorded hash")
        except LookupError:
            raise IntegrityError(f"attachment {row.id} is missing stored chunks") from None
        except OSError as exc:
            raise FileAccessError(f"cannot write {out}: {exc.strerror}") from None
        return row


def _check_text(value: str, what: str, limit: int) -> None:
    if len(value) > limit or "\x00" in value:
        raise InvalidInput(f"the {what} is longer than {limit} characters or holds a NUL")


def _guess_type(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"

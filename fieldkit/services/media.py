"""Identifying metadata in attachments: what a photo, recording or video tells about the
person who made it, the place and the device, and working copies without it.

A fieldworker's photo can carry the GPS position where it was taken, the camera's serial
number and its owner's name; a recording the phone's model and the time. fieldkit shows
this at intake (the original stays in the vault as it is: it is the evidence), and HQ's
copies leave the vault stripped unless the analyst asks for the original (extraction.py).

Reading goes through well-kept parsers only: Pillow for images (media_image.py), mutagen
for audio and video (media_av.py). Both read from a seekable file object; an attachment
is given as one that decrypts a chunk at a time (store/blobs.py BlobRandomReader), so
nothing is written anywhere and memory stays at one chunk plus what the parser keeps,
whatever the file's size. Every file is hostile: anything the parser raises on a
damaged, truncated or crafted file (a decompression bomb, an absurd tag size) becomes
an UNREADABLE finding, never a crash; lengths and counts of what is kept are bounded
(media_found.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from fieldkit.errors import FieldkitError
from fieldkit.services import media_av, media_image
from fieldkit.services.media_found import (
    NOT_MEDIA,
    READ,
    UNREADABLE,
    Finding,
    Findings,
    Unsupported,
)
from fieldkit.store import attachments as att_store
from fieldkit.store.attachments import AttachmentRow
from fieldkit.store.db import Database

__all__ = [
    "NOT_MEDIA",
    "READ",
    "UNREADABLE",
    "Finding",
    "Findings",
    "Stripped",
    "inspect",
    "inspect_attachment",
    "strip",
]

HEAD = 16  # bytes that tell which library to ask


def inspect(fh: IO[bytes]) -> Findings:
    """What identifies a person, a place or a device in the file `fh` (readable,
    seekable). Never raises for bad content: a file a library refuses is UNREADABLE."""
    fh.seek(0)
    head = fh.read(HEAD)
    if media_image.is_image(head):
        return _guarded(media_image.inspect, fh, "image")
    if media_av.is_av(head):
        return _guarded(media_av.inspect, fh, "audio or video")
    return Findings(NOT_MEDIA)


def inspect_attachment(db: Database, row: AttachmentRow) -> Findings:
    """`inspect` over a stored attachment, decrypted a chunk at a time in memory.
    A stored file that fails authentication raises IntegrityError as everywhere."""
    with att_store.open_content(db, row) as fh:
        return inspect(fh)


def _guarded(read: Callable[[IO[bytes]], Findings | None], fh: IO[bytes], what: str) -> Findings:
    fh.seek(0)
    try:
        found = read(fh)
    except FieldkitError:
        raise  # the vault's own reader: a damaged stored file is not the media's fault
    except MemoryError:
        return Findings(UNREADABLE, problem=f"the {what} asks for more memory than allowed")
    except Exception as exc:  # hostile input to a third-party parser
        # The exception's type only: its message can quote bytes of the file.
        return Findings(UNREADABLE, problem=f"the {what} could not be read ({type(exc).__name__})")
    return Findings(NOT_MEDIA) if found is None else found


@dataclass(frozen=True)
class Stripped:
    sha256: bytes  # of the copy written
    size: int
    format: str  # what was written ("JPEG", "PNG", "MP3", ...)
    before: Findings  # what the original carried
    after: Findings  # what the copy carries (READ with no items, or strip refused it)


class NotStrippable(Exception):
    """The file's type is not one fieldkit can strip; `findings` says what it is."""

    def __init__(self, reason: str, findings: Findings) -> None:
        super().__init__(reason)
        self.reason = reason
        self.findings = findings


class MetadataLeft(Exception):
    """After stripping, the copy still carries `left` (the caller deletes the copy)."""

    def __init__(self, left: Findings) -> None:
        super().__init__("identifying metadata remains")
        self.left = left


def strip(src: IO[bytes], dst: IO[bytes]) -> Stripped:
    """Write into `dst` (empty, opened for reading and writing) a copy of `src` without
    its identifying metadata, then read the copy back as a stranger would.

    Raises NotStrippable for a type fieldkit cannot strip (nothing useful was written)
    and MetadataLeft if the copy still carries anything `inspect` finds. In both cases
    the caller must delete what is in `dst`.
    """
    before = inspect(src)
    if before.status != READ:
        reason = "type not supported" if before.status == NOT_MEDIA else before.problem
        raise NotStrippable(reason, before)
    src.seek(0)
    try:
        if before.kind == "image":
            fmt = media_image.strip(src, dst)
        else:
            _copy(src, dst)
            dst.flush()
            media_av.strip(dst)
            fmt = before.format
    except Unsupported as exc:
        raise NotStrippable(str(exc), before) from None
    except (FieldkitError, OSError):
        raise
    except Exception as exc:  # hostile input to a third-party writer
        # The exception's type only: its message can quote bytes of the file.
        raise NotStrippable(f"could not be rewritten ({type(exc).__name__})", before) from None
    dst.flush()
    after = inspect(dst)
    if after.status != READ or after.identifying:
        raise MetadataLeft(after)
    dst.seek(0)
    h = hashlib.sha256()
    size = 0
    while chunk := dst.read(1024 * 1024):
        h.update(chunk)
        size += len(chunk)
    return Stripped(h.digest(), size, fmt, before, after)


def _copy(src: IO[bytes], dst: IO[bytes]) -> None:
    src.seek(0)
    while chunk := src.read(1024 * 1024):
        dst.write(chunk)

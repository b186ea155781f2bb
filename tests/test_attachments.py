"""Attachments: streamed intake, hashes, extract, and constant memory."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from fieldkit.errors import FileAccessError, IntegrityError, NotFound
from fieldkit.formats import blob
from fieldkit.services import model
from fieldkit.services.attachments import CHUNK_SIZE, AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store


@pytest.fixture
def rid(vault: Vault) -> str:
    return RecordService(vault.db).add(model.template())


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE])
def test_intake_hash_and_extract(vault: Vault, rid: str, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "photo of passport.jpg"
    src.write_bytes(data)
    svc = AttachmentService(vault.db)
    seen: list[int] = []
    row = svc.add(
        rid,
        src,
        description="Expulsion order, page 1",
        progress=lambda done, total: seen.append(done),
    )
    assert row.sha256 == hashlib.sha256(data).digest()
    assert row.size == size
    assert row.media_type == "image/jpeg"
    assert row.filename == "photo of passport.jpg"
    stored = att_store.blob_store(vault.db).path(row.blob_id or b"")
    assert stored.stat().st_size == blob.file_size(size)
    assert (stored.stat().st_mode & 0o777) == 0o600
    assert (seen[-1] if seen else 0) == size
    out = tmp_path / "out.bin"
    svc.extract(row.id, out)
    assert out.read_bytes() == data
    assert (out.stat().st_mode & 0o777) == 0o600


def test_extract_refuses_to_overwrite(vault: Vault, rid: str, tmp_path: Path) -> None:
    svc = AttachmentService(vault.db)
    row = svc.add_stream(rid, io.BytesIO(b"abc"), filename="a.txt")
    out = tmp_path / "exists.txt"
    out.write_text("keep me")
    with pytest.raises(FileAccessError):
        svc.extract(row.id, out)
    assert out.read_text() == "keep me"
    svc.extract(row.id, out, overwrite=True)
    assert out.read_bytes() == b"abc"


def test_extract_checks_hash_before_writing(vault: Vault, rid: str, tmp_path: Path) -> None:
    svc = AttachmentService(vault.db)
    row = svc.add_stream(rid, io.BytesIO(b"original"), filename="a.txt")
    stored = att_store.blob_store(vault.db).path(row.blob_id or b"")
    data = bytearray(stored.read_bytes())
    data[blob.HEADER_SIZE] ^= 1
    stored.write_bytes(bytes(data))
    out = tmp_path / "out.txt"
    with pytest.raises(IntegrityError):
        svc.extract(row.id, out)
    assert not out.exists()
    assert list(tmp_path.glob(".out.txt.*")) == []


def test_describe_list_remove(vault: Vault, rid: str) -> None:
    svc = AttachmentService(vault.db)
    row = svc.add_stream(rid, io.BytesIO(b"x"), filename="rec.ogg", media_type="audio/ogg")
    assert svc.describe(row.id, "Interview audio, part 1").description == "Interview audio, part 1"
    assert [a.id for a in svc.for_record(rid)] == [row.id]
    stored = att_store.blob_store(vault.db).path(row.blob_id or b"")
    assert stored.exists()
    svc.remove(row.id)
    assert svc.for_record(rid) == []
    assert not stored.exists()
    with pytest.raises(NotFound):
        svc.get(row.id)


def test_failed_intake_leaves_nothing(vault: Vault, rid: str) -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.n = 0

        def readable(self) -> bool:
            return True

        def read(self, size: int = -1) -> bytes:
            self.n += 1
            if self.n > 3:
                raise OSError("device unplugged")
            return b"x" * CHUNK_SIZE

    with pytest.raises(FileAccessError, match=r"usb\.bin"):
        AttachmentService(vault.db).add_stream(rid, Broken(), filename="usb.bin")  # type: ignore[arg-type]
    assert list(att_store.blob_store(vault.db).folder.iterdir()) == []
    assert vault.db.scalar("SELECT count(*) FROM attachments") == 0


def test_unknown_record(vault: Vault) -> None:
    with pytest.raises(NotFound):
        AttachmentService(vault.db).add_stream("rnope00000", io.BytesIO(b"x"), filename="a")

"""Encrypted attachment files (formats/blob.py, store/blobs.py): layout, tampering,
padding, and the sweep of files a crash left behind."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fieldkit.errors import IntegrityError
from fieldkit.formats import blob
from fieldkit.formats.padding import padme
from fieldkit.services import model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.history import verify
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store
from fieldkit.store.blobs import BlobStore
from tests.conftest import PASSPHRASE, WEAK

C = blob.CHUNK_SIZE
VECTORS = Path(__file__).parent / "vectors" / "blob-v1" / "vectors.json"


def _store(store: BlobStore, data: bytes, piece: int = 100_003) -> tuple[bytes, bytes]:
    """Write `data` as a new blob in odd-sized pieces; (blob id, key)."""
    with store.create() as w:
        for i in range(0, len(data), piece):
            w.write(data[i : i + piece])
        assert w.finish() == hashlib.sha256(data).digest()
        w.keep()
        return w.blob_id, w.key


def _read(store: BlobStore, blob_id: bytes, key: bytes, size: int) -> bytes:
    return b"".join(store.read(blob_id, key, size))


@pytest.mark.parametrize("size", [0, 1, 2, C - 1, C, C + 1, 2 * C + 5, 3 * C])
def test_round_trip_and_exact_file_size(tmp_path: Path, size: int) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = os.urandom(size)
    blob_id, key = _store(store, data)
    path = store.path(blob_id)
    assert path.stat().st_size == blob.file_size(size)
    assert (path.stat().st_mode & 0o777) == 0o600
    assert _read(store, blob_id, key, size) == data
    assert all(len(c) <= C for c in store.read(blob_id, key, size))


def test_sizes_in_one_padme_bucket_give_one_file_size(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    size = 5_000_000
    assert padme(size) > size + 1000
    sizes = {store.path(_store(store, os.urandom(n))[0]).stat().st_size for n in (size, size + 999)}
    assert len(sizes) == 1


def test_no_plaintext_and_no_key_on_disk(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    marker = "Показания свидетеля қ ғ ӯ".encode() * 2000
    blob_id, key = _store(store, marker)
    raw = store.path(blob_id).read_bytes()
    assert marker[:40] not in raw
    assert key not in raw


@pytest.fixture
def vault_root(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    Vault.create(root, PASSPHRASE, kdf_params=WEAK)[0].lock()
    return root


# ---- tampering: every region, every kind ----------------------------------------

SIZE = 2 * C + 300_000  # two full chunks and a final one (with padding)


def _flip(offset: int) -> Callable[[bytearray], bytearray]:
    def f(b: bytearray) -> bytearray:
        b[offset if offset >= 0 else len(b) + offset] ^= 0x01
        return b

    return f


_E = blob.ENCRYPTED_CHUNK_SIZE
_H = blob.HEADER_SIZE
TAMPERS: dict[str, Callable[[bytearray], bytearray]] = {
    "magic": _flip(0),
    "version": _flip(8),
    "blob id": _flip(12),
    "first chunk": _flip(_H + 10),
    "first chunk tag": _flip(_H + _E - 1),
    "middle chunk": _flip(_H + _E + 500),
    "final chunk": _flip(_H + 2 * _E + 7),
    "final tag": _flip(-1),
    "truncated by one byte": lambda b: b[:-1],
    "truncated at a chunk boundary": lambda b: b[: _H + 2 * _E],
    "header only": lambda b: b[:_H],
    "empty file": lambda b: bytearray(),
    "one byte appended": lambda b: b + b"\x00",
    "chunk appended": lambda b: b + b[_H : _H + _E],
    "first two chunks swapped": lambda b: (
        b[:_H] + b[_H + _E : _H + 2 * _E] + b[_H : _H + _E] + b[_H + 2 * _E :]
    ),
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_tampering_is_refused(tmp_path: Path, name: str) -> None:
    store = BlobStore(tmp_path / "blobs")
    blob_id, key = _store(store, os.urandom(SIZE))
    path = store.path(blob_id)
    path.write_bytes(bytes(TAMPERS[name](bytearray(path.read_bytes()))))
    with pytest.raises(IntegrityError):
        _read(store, blob_id, key, SIZE)


def test_another_attachments_file_is_refused(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    a_id, a_key = _store(store, os.urandom(1000))
    b_id, _ = _store(store, os.urandom(1000))
    shutil.copyfile(store.path(b_id), store.path(a_id))
    with pytest.raises(IntegrityError):
        _read(store, a_id, a_key, 1000)


def test_wrong_key_wrong_size_missing_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    blob_id, key = _store(store, os.urandom(999) + b"\x01")  # the last byte is not zero
    with pytest.raises(IntegrityError):
        _read(store, blob_id, os.urandom(32), 1000)
    with pytest.raises(IntegrityError):
        _read(store, blob_id, key, 999)  # same Padmé size: the padding is not zero
    with pytest.raises(IntegrityError, match="wrong length"):
        _read(store, blob_id, key, 100_000)
    with pytest.raises(IntegrityError, match="missing"):
        _read(store, os.urandom(16), key, 1000)


def test_plaintext_is_released_only_chunk_by_authenticated_chunk(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = os.urandom(SIZE)
    blob_id, key = _store(store, data)
    TAMPERS["middle chunk"](raw := bytearray(store.path(blob_id).read_bytes()))
    store.path(blob_id).write_bytes(bytes(raw))
    got = store.read(blob_id, key, SIZE)
    assert next(got) == data[:C]
    with pytest.raises(IntegrityError):
        next(got)


# ---- the writer: failure, publication, sweep ------------------------------------


def test_a_writer_left_by_an_exception_removes_its_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    with pytest.raises(RuntimeError), store.create() as w:
        w.write(os.urandom(3 * C))
        raise RuntimeError("the source went away")
    assert list(store.folder.iterdir()) == []


def test_check_in_place_notices_a_vanished_file(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    with store.create() as w:
        w.write(b"abc")
        w.finish()
        w.path.unlink()
        with pytest.raises(IntegrityError, match="vanished"):
            w.check_in_place()


@pytest.mark.parametrize("kept", [True, False])
def test_a_released_writer_holds_no_file_open(tmp_path: Path, kept: bool) -> None:
    """HQ import releases each file inside its transaction: no descriptor or lock is
    left, and a file never kept is still removed when the writer is left."""
    store = BlobStore(tmp_path / "blobs")
    with store.create() as w:
        w.write(b"one of many scans")
        w.finish()
        w.check_in_place()
        w.release()
        with open(w.path, "rb") as other:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # nobody holds it now
        if kept:
            w.keep()
    assert w.path.exists() == kept


def test_sweep_removes_unnamed_files_only(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    kept, _ = _store(store, b"named by a row")
    orphan, _ = _store(store, b"left by a crash")
    (store.folder / "README").write_text("not ours")
    with store.create() as busy:
        busy.write(b"still being written by another process")
        assert store.sweep({kept}) == 1
        assert store.path(kept).exists()
        assert not store.path(orphan).exists()
        assert busy.path.exists()  # locked by its writer: left alone
        assert (store.folder / "README").exists()
    assert not busy.path.exists()  # never kept: its writer removed it


# ---- through the vault -----------------------------------------------------------


def test_unlock_sweeps_files_a_crash_left(vault_root: Path, tmp_path: Path) -> None:
    v = Vault.unlock(vault_root, PASSPHRASE)
    rid = RecordService(v.db).add(model.template())
    row = AttachmentService(v.db).add_stream(rid, io.BytesIO(b"kept"), filename="a.txt")
    store = att_store.blob_store(v.db)
    v.lock()
    orphan = store.path(os.urandom(16))
    orphan.write_bytes(os.urandom(5000))
    with Vault.unlock(vault_root, PASSPHRASE):
        pass
    assert not orphan.exists()
    assert [p.name for p in store.folder.iterdir()] == [(row.blob_id or b"").hex()]


def test_attachments_stored_in_the_database_move_to_files(vault_root: Path) -> None:
    """A vault from before schema 4 kept attachment bytes as chunks in SQLite."""
    data = os.urandom(700_000)
    v = Vault.unlock(vault_root, PASSPHRASE)
    rid = RecordService(v.db).add(model.template())
    svc = AttachmentService(v.db)
    good = svc.add_stream(rid, io.BytesIO(data), filename="old.jpg")
    bad = svc.add_stream(rid, io.BytesIO(b"damaged"), filename="bad.jpg")
    with v.db.transaction():  # make both look like schema-3 rows
        for row, chunks in ((good, [data[:524288], data[524288:]]), (bad, [b"dam", b"aged"])):
            v.db.execute(
                "UPDATE attachments SET blob_id=NULL, blob_key=NULL, chunk_size=524288,"
                " chunk_count=? WHERE id=?",
                (len(chunks), row.id),
            )
            for i, c in enumerate(chunks):
                v.db.execute(
                    "INSERT INTO attachment_chunks (attachment_id, idx, data) VALUES (?,?,?)",
                    (row.id, i, c),
                )
        v.db.execute("DELETE FROM attachment_chunks WHERE attachment_id=? AND idx=1", (bad.id,))
    v.lock()
    with Vault.unlock(vault_root, PASSPHRASE) as v2:
        moved = AttachmentService(v2.db).get(good.id)
        assert moved.blob_id is not None
        assert b"".join(att_store.content(v2.db, moved)) == data
        assert (
            v2.db.scalar("SELECT count(*) FROM attachment_chunks WHERE attachment_id=?", (good.id,))
            == 0
        )
        # The damaged one stays where it was, the vault still opens, verify reports it.
        assert AttachmentService(v2.db).get(bad.id).blob_id is None
        report = verify(v2.db, attachment_content=True)
        assert report.problems == [f"attachment {bad.id} has no stored file"]


def test_wipe_removes_the_attachment_files(vault_root: Path) -> None:
    from fieldkit.services.vault import wipe

    with Vault.unlock(vault_root, PASSPHRASE) as v:
        rid = RecordService(v.db).add(model.template())
        AttachmentService(v.db).add_stream(rid, io.BytesIO(b"x" * 5000), filename="a")
        folder = att_store.blob_store(v.db).folder
    assert any(folder.iterdir())
    wipe(vault_root)
    assert not folder.exists()
    assert not vault_root.exists()


# ---- the published vector ----------------------------------------------------------


def _independent_open(key: bytes, blob_id: bytes, file: bytes, size: int) -> bytes:
    """docs/vault-format.md, read by hand: header, then ChaCha20-Poly1305 chunks of
    1 MiB with nonce = 11-byte big-endian index || final flag, AD = header."""
    header = b"FK-BLOB\x00" + bytes([1]) + blob_id
    assert file[:25] == header
    aead = ChaCha20Poly1305(key)
    padded = padme(size)
    out, pos = b"", 25
    for i in range(padded // (1 << 20) + 1):
        final = i == padded // (1 << 20)
        n = (padded % (1 << 20) if final else 1 << 20) + 16
        nonce = i.to_bytes(11, "big") + (b"\x01" if final else b"\x00")
        out += aead.decrypt(nonce, file[pos : pos + n], header)
        pos += n
    assert pos == len(file)
    assert out[size:] == bytes(padded - size)
    return out[:size]


@pytest.mark.parametrize("vec", json.loads(VECTORS.read_text()), ids=lambda v: v["name"])
def test_vectors(tmp_path: Path, vec: dict[str, object]) -> None:
    """tests/vectors/blob-v1/vectors.json: written again through fieldkit, and opened
    with plain ChaCha20-Poly1305 following only the documented layout."""
    key, blob_id = bytes.fromhex(str(vec["key"])), bytes.fromhex(str(vec["blob_id"]))
    size = int(str(vec["size"]))
    plain = (
        bytes.fromhex(str(vec["plaintext"]))
        if "plaintext" in vec
        else bytes(i % 251 for i in range(size))
    )
    fixed = iter([blob_id, key])
    store = BlobStore(tmp_path / "blobs")
    with store.create(random_bytes=lambda n: next(fixed)) as w:
        w.write(plain)
        assert w.finish().hex() == vec["sha256"]
        w.keep()
    file = store.path(blob_id).read_bytes()
    assert len(file) == vec["file_size"] == blob.file_size(size)
    if "file" in vec:
        assert file.hex() == vec["file"]
    else:
        assert hashlib.sha256(file).hexdigest() == vec["file_sha256"]
    assert _independent_open(key, blob_id, file, size) == plain
    assert _read(store, blob_id, key, size) == plain


def test_sweep_waits_for_no_one(vault_root: Path) -> None:
    """With another connection writing, the sweep is skipped at once, not blocked."""
    with Vault.unlock(vault_root, PASSPHRASE) as v:
        store = att_store.blob_store(v.db)
        store.folder.mkdir()
        orphan = store.path(os.urandom(16))
        orphan.write_bytes(b"left by a crash")
        other = v.connect()
        try:
            with other.transaction():
                assert att_store.sweep_orphan_files(v.db, store) is None
                assert orphan.exists()
        finally:
            other.close()
        assert att_store.sweep_orphan_files(v.db, store) == 1
        assert not orphan.exists()


@pytest.mark.parametrize("size", [0, 1, C - 1, C, C + 1, 2 * C + 5])
def test_random_reader_reads_any_range(tmp_path: Path, size: int) -> None:
    """open_random (services/media.py reads attachments through it): seek and read any
    range, from the start, the current place or the end, as the plaintext has it."""
    store = BlobStore(tmp_path / "blobs")
    data = os.urandom(size)
    blob_id, key = _store(store, data)
    with store.open_random(blob_id, key, size) as fh:
        assert fh.read() == data
        for start, n in [(0, 10), (C - 3, 7), (size // 2, C + 9), (max(size - 4, 0), 100)]:
            fh.seek(start)
            assert fh.read(n) == data[start : start + n]
        fh.seek(-min(size, 5), io.SEEK_END)
        assert fh.read() == data[-min(size, 5) :] if size else fh.read() == b""
        fh.seek(size + 100)
        assert fh.read(10) == b""  # the padding is never shown


def test_random_reader_refuses_a_tampered_chunk(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = os.urandom(2 * C + 5)
    blob_id, key = _store(store, data)
    path = store.path(blob_id)
    raw = bytearray(path.read_bytes())
    raw[blob.HEADER_SIZE + blob.ENCRYPTED_CHUNK_SIZE + 10] ^= 1  # inside chunk 1
    path.write_bytes(bytes(raw))
    with store.open_random(blob_id, key, len(data)) as fh:
        assert fh.read(100) == data[:100]  # chunk 0 is intact
        fh.seek(C + 1)
        with pytest.raises(IntegrityError):
            fh.read(10)

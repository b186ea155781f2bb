"""Wipe leaves nothing, and a crash during `passphrase change` leaves no second key.

A child process stands in for the crash: it changes the passphrase and dies (os._exit)
at the rename, so the keyslot temp file is left exactly as a power cut leaves it."""

from __future__ import annotations

import fcntl
import io
import os
import textwrap
from pathlib import Path

import pytest

from fieldkit.errors import WipeIncomplete
from fieldkit.services import model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault, wipe
from fieldkit.services.wipe import temp_files
from tests.conftest import NEW_PASSPHRASE, PASSPHRASE, WEAK, child, cli
from tests.keyslot_helpers import master_key

CRASH = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from fieldkit.services.vault import Vault
    from tests.conftest import NEW_PASSPHRASE, PASSPHRASE

    v = Vault.unlock(Path(sys.argv[1]), PASSPHRASE)
    os.replace = lambda *a: os._exit(0)  # power cut at the rename
    v.change_passphrase(NEW_PASSPHRASE)
    """
)


def _crash_during_passphrase_change(root: Path) -> Path:
    proc = child(CRASH, str(root))
    assert proc.wait(timeout=120) == 0
    [tmp] = temp_files(root)
    assert tmp.name.startswith(".keyslots.") and tmp.name.endswith(".tmp")
    return tmp


def _opens_with_new_passphrase(data: bytes) -> bool:
    return master_key(data, NEW_PASSPHRASE.encode()) is not None


def _full_vault(root: Path) -> None:
    v, _ = Vault.create(root, PASSPHRASE, kdf_params=WEAK)
    with v:
        rid = RecordService(v.db).add(model.template())
        AttachmentService(v.db).add_stream(rid, io.BytesIO(b"scan" * 1000), filename="p.jpg")


def test_a_crash_leaves_a_temp_file_that_unlock_shreds(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _full_vault(root)
    tmp = _crash_during_passphrase_change(root)
    # The danger: the temp file opens the vault with the passphrase the user thinks failed.
    assert _opens_with_new_passphrase(tmp.read_bytes())
    outside = tmp_path / "same-inode"
    os.link(tmp, outside)  # sees what happens to the file's blocks, not only its name

    Vault.unlock(root, PASSPHRASE).lock()

    assert temp_files(root) == []
    assert outside.read_bytes() == bytes(outside.stat().st_size)  # overwritten, then unlinked
    assert not _opens_with_new_passphrase(outside.read_bytes())


def test_unlock_leaves_a_temp_file_that_is_being_written(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _full_vault(root)
    busy = root / f".keyslots.{'ab' * 8}.tmp"
    busy.write_bytes(b"half-written")
    with open(busy, "rb") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)  # as fsio.atomic_writer holds it
        Vault.unlock(root, PASSPHRASE).lock()
        assert busy.read_bytes() == b"half-written"
    Vault.unlock(root, PASSPHRASE).lock()
    assert not busy.exists()


def test_wipe_destroys_every_file_and_every_key_copy(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _full_vault(root)
    v = Vault.unlock(root, PASSPHRASE)  # open: a WAL and SHM exist
    RecordService(v.db).add(model.template())
    tmp = _crash_during_passphrase_change(root)
    keyslot_copy, tmp_copy = tmp_path / "keyslots-inode", tmp_path / "tmp-inode"
    os.link(root / "keyslots", keyslot_copy)
    os.link(tmp, tmp_copy)
    (root / "vault.lock").write_bytes(b"")
    (root / "notes.txt").write_text("the user's own file")
    assert {p.name for p in root.iterdir()} >= {"vault.db-wal", "vault.db-shm", "blobs"}

    r = cli(["wipe", "--yes", "--vault", str(root)])
    v.db.close()

    assert r.code == 0, r.err
    assert "cannot be opened again" in r.out
    assert not root.exists()
    for copy in (keyslot_copy, tmp_copy):  # overwritten in place before the unlink
        assert copy.read_bytes() == bytes(copy.stat().st_size)


def test_wipe_says_what_is_left_and_does_not_claim_success(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "vault"
    _full_vault(root)
    stuck = root / "held-by-another-program"
    stuck.write_bytes(b"x")
    real_unlink = os.unlink

    def unlink(path: object, *args: object, **kwargs: object) -> None:
        if Path(str(path)).name == stuck.name:
            raise PermissionError(13, "Permission denied")
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "unlink", unlink)
    r = cli(["wipe", "--yes", "--vault", str(root)])

    assert r.code == 9
    assert "cannot be opened again" not in r.out
    lines = r.err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("fieldkit: error: wipe of"), r.err
    assert "nothing opens the vault" in lines[0]
    assert str(stuck) in lines[0] and str(root) in lines[0]
    assert not (root / "keyslots").exists()
    assert sorted(p.name for p in root.iterdir()) == [stuck.name]


@pytest.mark.parametrize(
    ("removable", "says"),
    [(False, "may still open"), (True, "could not be overwritten before removal")],
)
def test_wipe_of_a_keyslot_it_cannot_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, removable: bool, says: str
) -> None:
    root = tmp_path / "vault"
    _full_vault(root)
    real_open, real_unlink = os.open, os.unlink

    def fake_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if Path(str(path)).name == "keyslots" and flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    def fake_unlink(path: object, *args: object, **kwargs: object) -> None:
        if Path(str(path)).name == "keyslots" and not removable:
            raise PermissionError(13, "Permission denied")
        real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "unlink", fake_unlink)
    with pytest.raises(WipeIncomplete, match=says):
        wipe(root)

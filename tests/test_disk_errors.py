"""A full USB stick, a read-only disk, a failing one: every command that writes a
large file says so in one line with a hint that fits, and keeps nothing half-written
(no bundle, no temp file, no attachment row or file, an unchanged HQ vault)."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fieldkit.errors import FileAccessError
from fieldkit.services import hq_import, inspect
from fieldkit.services.history import verify
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store
from tests.bundle_fixtures import Pair, make_pair
from tests.conftest import PASSPHRASE, CliResult, cli

FAILURES = {
    errno.ENOSPC: "disk is full",
    errno.EROFS: "read-only",
    errno.EIO: "failing or was unplugged",
}


@pytest.fixture
def pair_on_disk(tmp_path: Path) -> Pair:
    pair = make_pair(tmp_path)
    pair.add_testimony(attachment=os.urandom(3 * 1024 * 1024 + 5))
    pair.field.lock()
    pair.hq.lock()
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    return pair


def _opts(pair: Pair, side: str) -> list[str]:
    return ["--vault", str(pair.tmp / side), "--passphrase-file", str(pair.tmp / "pass")]


def _exported(pair: Pair) -> tuple[Path, tuple[dict[str, int], str]]:
    """Export the field vault's bundle; return it and the HQ vault's digest before import."""
    bundle = pair.tmp / "b.fkb"
    assert cli(["export", "--out", str(bundle), *_opts(pair, "field")]).code == 0
    pair.hq = Vault.unlock(pair.tmp / "hq", PASSPHRASE)
    before = pair.hq_digest()
    pair.hq.lock()
    return bundle, before


def _disk_fails(monkeypatch: pytest.MonkeyPatch, code: int) -> Callable[[], None]:
    """From now on every os.write/os.writev fails with `code`; returns the repair."""

    def failing(*_args: Any) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "write", failing)
    monkeypatch.setattr(os, "writev", failing)
    return monkeypatch.undo


def _one_clear_line(r: CliResult, code: int, names: str) -> None:
    assert r.code == 9, r.err
    lines = r.err.splitlines()
    assert len(lines) == 2 and "Traceback" not in r.err, r.err
    assert lines[0].startswith("fieldkit: error: ") and names in lines[0]
    assert os.strerror(code) in lines[0]
    assert lines[1].startswith("fieldkit: hint: ") and FAILURES[code] in lines[1]


@pytest.mark.parametrize("code", list(FAILURES), ids=errno.errorcode.get)
def test_export_to_a_failing_disk(
    pair_on_disk: Pair, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    usb = pair_on_disk.tmp / "usb"
    usb.mkdir()
    repair = _disk_fails(monkeypatch, code)
    r = cli(["export", "--out", str(usb / "b.fkb"), *_opts(pair_on_disk, "field")])
    repair()
    _one_clear_line(r, code, str(usb / "b.fkb"))
    assert list(usb.iterdir()) == []  # neither the bundle nor its temp file
    # The chain position was taken; the same bundle is written once the disk is fixed.
    again = cli(["export", "--out", str(usb / "b.fkb"), *_opts(pair_on_disk, "field")])
    assert again.code == 5 and "--resend 1" in again.err
    ok = cli(
        ["export", "--resend", "1", "--out", str(usb / "b.fkb"), *_opts(pair_on_disk, "field")]
    )
    assert ok.code == 0, ok.err


@pytest.mark.parametrize("code", list(FAILURES), ids=errno.errorcode.get)
def test_hq_import_onto_a_failing_disk(
    pair_on_disk: Pair, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    bundle, before = _exported(pair_on_disk)
    repair = _disk_fails(monkeypatch, code)
    r = cli(["hq", "import", str(bundle), *_opts(pair_on_disk, "hq")])
    repair()
    _one_clear_line(r, code, "attachment file")
    pair_on_disk.hq = Vault.unlock(pair_on_disk.tmp / "hq", PASSPHRASE)
    assert pair_on_disk.hq_digest() == before
    pair_on_disk.hq.lock()
    assert cli(["hq", "import", str(bundle), *_opts(pair_on_disk, "hq")]).code == 0


@pytest.mark.parametrize("code", list(FAILURES), ids=errno.errorcode.get)
def test_attach_and_extract_on_a_failing_disk(
    pair_on_disk: Pair, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    field = _opts(pair_on_disk, "field")
    v = Vault.unlock(pair_on_disk.tmp / "field", PASSPHRASE)
    (att,) = att_store.all_rows(v.db)
    rid = att.record_id
    v.lock()
    src = pair_on_disk.tmp / "audio.ogg"
    src.write_bytes(os.urandom(2 * 1024 * 1024))
    repair = _disk_fails(monkeypatch, code)
    added = cli(["attach", rid, str(src), *field])
    out = pair_on_disk.tmp / "out"
    out.mkdir()
    extracted = cli(["attachment", "extract", att.id, "--out", str(out / "scan.jpg"), *field])
    repair()
    _one_clear_line(added, code, "attachment file")
    _one_clear_line(extracted, code, str(out / "scan.jpg"))
    assert list(out.iterdir()) == []
    v = Vault.unlock(pair_on_disk.tmp / "field", PASSPHRASE)
    assert [a.id for a in att_store.all_rows(v.db)] == [att.id]  # no row for the failed one
    assert len(list(att_store.blob_store(v.db).folder.iterdir())) == 1  # nor a file
    v.lock()


def test_a_missing_bundle_or_stick(tmp_path: Path) -> None:
    pair = make_pair(tmp_path)
    pair.hq.lock()
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")
    for cmd in (
        ["hq", "import", str(tmp_path / "usb" / "b.fkb"), *_opts(pair, "hq")],
        ["inspect", str(tmp_path / "usb" / "b.fkb")],
    ):
        r = cli(cmd)
        assert r.code == 9 and len(r.err.splitlines()) == 2, r.err
        assert "No such file" in r.err and "not mounted" in r.err
    pair.field.lock()


def _unplugged_after(limit: int) -> Callable[[Any, str], io.BufferedReader]:
    """An `open` whose reads fail with EIO past `limit` bytes: a stick pulled out."""

    class Unplugged(io.FileIO):
        def readinto(self, b: Any) -> int:
            if self.tell() > limit:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return super().readinto(b)

    return lambda path, mode: io.BufferedReader(Unplugged(path))


def test_a_stick_unplugged_during_inspect(
    pair_on_disk: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = pair_on_disk.tmp / "b.fkb"
    assert cli(["export", "--out", str(bundle), *_opts(pair_on_disk, "field")]).code == 0
    monkeypatch.setattr(inspect, "open", _unplugged_after(2000), raising=False)
    r = cli(["inspect", str(bundle), "--with-vault", *_opts(pair_on_disk, "hq")])
    _one_clear_line(r, errno.EIO, str(bundle))


def test_a_stick_unplugged_during_hq_import(
    pair_on_disk: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle, before = _exported(pair_on_disk)

    monkeypatch.setattr(hq_import, "open", _unplugged_after(1024 * 1024), raising=False)
    r = cli(["hq", "import", str(bundle), *_opts(pair_on_disk, "hq")])
    _one_clear_line(r, errno.EIO, str(bundle))
    monkeypatch.undo()
    pair_on_disk.hq = Vault.unlock(pair_on_disk.tmp / "hq", PASSPHRASE)
    assert pair_on_disk.hq_digest() == before
    pair_on_disk.hq.lock()


def test_the_vault_disk_failing_under_an_export(
    pair_on_disk: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read error in the vault's own attachment file is named as such, not blamed
    on the bundle being written."""
    real_fdopen = os.fdopen

    class Failing(io.FileIO):
        def read(self, n: int = -1) -> bytes:
            if self.tell() > 1024 * 1024:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return super().read(n)

    def fdopen(fd: int, mode: str = "r", buffering: int = -1, **kw: Any) -> Any:
        if mode == "rb" and buffering == 0:  # how the store opens attachment files
            return Failing(fd, "rb")
        return real_fdopen(fd, mode, buffering, **kw)

    monkeypatch.setattr(os, "fdopen", fdopen)
    out = pair_on_disk.tmp / "b.fkb"
    r = cli(["export", "--out", str(out), *_opts(pair_on_disk, "field")])
    monkeypatch.undo()
    _one_clear_line(r, errno.EIO, "cannot read an attachment file")
    assert not out.exists()


def test_the_laptop_disk_full_while_saving(vault: Vault) -> None:
    """SQLite's 'database or disk is full' is the laptop's disk, not a bug: one clear
    error, the change rolled back, everything saved before intact, saving works again
    once there is room. (max_page_count stands in for a full disk: SQLite reports both
    as SQLITE_FULL.)"""
    rs = RecordService(vault.db)
    first = rs.add({"pseudonym": "P-1", "narrative": "saved before the disk filled"})
    pages = vault.db.scalar("PRAGMA page_count")
    vault.db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(FileAccessError, match="disk is full") as caught:
        rs.add({"pseudonym": "P-2", "narrative": "долгий рассказ " * 20_000})
    assert "nothing of this change was kept" in caught.value.hint
    assert [r.id for r in rs.list_records()] == [first]
    assert verify(vault.db).ok
    vault.db.execute("PRAGMA max_page_count = 1073741823")
    rs.add({"pseudonym": "P-2", "narrative": "room again"})
    assert len(rs.list_records()) == 2

"""SIGKILL in the middle of an export or an HQ import: no half bundle under the
bundle's name, no plaintext on the stick, no half import at HQ; both go through
afterwards (the export as the same bundle, the import as if nothing had happened)."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fieldkit.errors import InvalidInput
from fieldkit.services import export as export_svc
from fieldkit.services import hq_import
from fieldkit.services.history import verify
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store
from tests.bundle_fixtures import Pair, make_pair
from tests.conftest import PASSPHRASE, child

MIB = 1024 * 1024
NARRATIVE = "Задержан после мирного протеста у посольства"

# The child runs one export or import and stops for good once 8 MiB have passed.
STALLED = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from fieldkit.services import export, hq_import
    from fieldkit.services.vault import Vault
    from tests.conftest import PASSPHRASE

    def progress(done, total):
        if done > 8 * 1024 * 1024:
            print("midway", flush=True)
            time.sleep(3600)

    what, vault, path = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    v = Vault.unlock(vault, PASSPHRASE)
    if what == "export":
        export.export(v.db, path, progress=progress)
    else:
        hq_import.import_bundle(v.db, path, progress=progress)
    """
)


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    p = make_pair(tmp_path)
    p.add_testimony(NARRATIVE, attachment=os.urandom(24 * MIB))
    p.field.lock()
    p.hq.lock()
    return p


def _kill_midway(what: str, vault: Path, path: Path, written: Callable[[], list[Path]]) -> None:
    """Run the child until it stalls with bytes on disk, then SIGKILL it."""
    proc = child(STALLED, what, str(vault), str(path))
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "midway"
        deadline = time.monotonic() + 30  # the writer thread may still be on its way
        while not any(f.stat().st_size for f in written()) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert any(f.stat().st_size for f in written()), "nothing reached the disk"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)


def test_sigkill_during_export(pair: Pair, tmp_path: Path) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    out = usb / "bundle.fkb"
    _kill_midway("export", tmp_path / "field", out, lambda: list(usb.iterdir()))

    assert not out.exists()  # nothing under the bundle's name
    (partial,) = usb.iterdir()  # the temp file a killed process cannot remove
    assert partial.name.startswith(".bundle.fkb.") and partial.name.endswith(".tmp")
    data = partial.read_bytes()
    assert data.startswith(b"age-encryption.org/v1\n")
    assert NARRATIVE.encode() not in data

    field = Vault.unlock(tmp_path / "field", PASSPHRASE)
    assert export_svc.unwritten_seq(field.db) == 1  # the chain position was taken
    with pytest.raises(InvalidInput, match="never written"):
        export_svc.export(field.db, usb / "other.fkb")
    export_svc.resend(field.db, 1, out)
    field.lock()
    hq = Vault.unlock(tmp_path / "hq", PASSPHRASE)
    report = hq_import.import_bundle(hq.db, out)
    assert report.seq == 1 and not report.missing_before
    assert len(att_store.all_rows(hq.db)) == 1
    hq.lock()


def test_sigkill_during_hq_import(pair: Pair, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.fkb"
    field = Vault.unlock(tmp_path / "field", PASSPHRASE)
    export_svc.export(field.db, bundle)
    field.lock()
    pair.hq = Vault.unlock(tmp_path / "hq", PASSPHRASE)
    before = pair.hq_digest()
    pair.hq.lock()
    blobs = tmp_path / "hq" / "blobs"
    _kill_midway(
        "import", tmp_path / "hq", bundle, lambda: list(blobs.iterdir()) if blobs.is_dir() else []
    )
    assert any(blobs.iterdir())  # the half-written attachment file

    pair.hq = Vault.unlock(tmp_path / "hq", PASSPHRASE)  # sweeps what no row names
    assert pair.hq_digest() == before  # nothing of the bundle got in
    report = hq_import.import_bundle(pair.hq.db, bundle)
    assert not report.duplicate and report.seq == 1
    assert len(att_store.all_rows(pair.hq.db)) == 1
    check = verify(pair.hq.db, attachment_content=True)
    assert check.ok, check.problems
    pair.hq.lock()

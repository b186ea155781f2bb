"""SIGKILL in the middle of saving loses nothing that was committed and corrupts nothing."""

from __future__ import annotations

import hashlib
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest

from fieldkit.services.attachments import AttachmentService
from fieldkit.services.history import verify
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import attachments as att_store
from tests.conftest import PASSPHRASE, WEAK, child

# The child saves records and attachments as fast as it can and prints each id
# only after its transaction has committed.
WRITER = textwrap.dedent(
    """
    import io, sys
    from pathlib import Path
    from fieldkit.services.attachments import AttachmentService
    from fieldkit.services.records import RecordService
    from fieldkit.services.vault import Vault
    from tests.conftest import PASSPHRASE

    v = Vault.unlock(Path(sys.argv[1]), PASSPHRASE)
    rs, att = RecordService(v.db), AttachmentService(v.db)
    i = 0
    while True:
        i += 1
        rid = rs.add({"pseudonym": f"P-{i}", "narrative": f"Narrative number {i} " * 50})
        print(f"record {rid} {i}", flush=True)
        if i % 3 == 0:
            data = bytes([i % 256]) * (700_000 + i)
            a = att.add_stream(rid, io.BytesIO(data), filename=f"{i}.bin")
            print(f"attachment {a.id} {i}", flush=True)
    """
)


@pytest.mark.parametrize("kill_after", [1, 7, 20])
def test_sigkill_while_saving(tmp_path: Path, kill_after: int) -> None:
    """Killed once it has committed `kill_after` saves: it is then already in the next
    one (it never waits between them). Counting commits, not seconds, keeps a loaded
    machine from killing it before its first save."""
    root = tmp_path / "vault"
    Vault.create(root, PASSPHRASE, kdf_params=WEAK)[0].lock()
    proc = child(WRITER, str(root))
    assert proc.stdout is not None
    seen = [proc.stdout.readline() for _ in range(kill_after)]
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    committed = [line.split() for line in [*seen, *out.splitlines()] if line.strip()]
    records = [(c[1], int(c[2])) for c in committed if c[0] == "record"]
    attachments = [(c[1], int(c[2])) for c in committed if c[0] == "attachment"]
    assert len(committed) >= kill_after

    with Vault.unlock(root, PASSPHRASE) as v:
        assert v.db.integrity_problems() == []
        rs, att = RecordService(v.db), AttachmentService(v.db)
        for rid, i in records:
            doc = rs.get(rid).doc
            assert doc["pseudonym"] == f"P-{i}"
            assert doc["narrative"] == f"Narrative number {i} " * 50
        for aid, i in attachments:
            row = att.get(aid)
            assert row.sha256 == hashlib.sha256(bytes([i % 256]) * (700_000 + i)).digest()
        # At most one save was in flight; it either committed fully or left no trace.
        assert rs.count() in (len(records), len(records) + 1)
        report = verify(v.db, attachment_content=True)
        assert report.ok, report.problems
        # Every attachment file is named by a row; a half-written one was swept.
        named = {(a.blob_id or b"").hex() for a in att_store.all_rows(v.db)}
        folder = root / "blobs"
        on_disk = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
        assert on_disk == named


# The child stops half-way through an attachment (its source stalls) and says so.
STALLED = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from fieldkit.services.attachments import AttachmentService
    from fieldkit.services.records import RecordService
    from fieldkit.services.vault import Vault
    from tests.conftest import PASSPHRASE

    class Stalling:
        def __init__(self):
            self.calls = 0
        def read(self, n):
            self.calls += 1
            if self.calls > 5:
                print("midway", flush=True)
                time.sleep(3600)
            return b"\\x5a" * n

    v = Vault.unlock(Path(sys.argv[1]), PASSPHRASE)
    rid = RecordService(v.db).add({"pseudonym": "P-1"})
    AttachmentService(v.db).add_stream(rid, Stalling(), filename="interview.ogg")
    """
)


def test_sigkill_in_the_middle_of_an_attachment(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    Vault.create(root, PASSPHRASE, kdf_params=WEAK)[0].lock()
    proc = child(STALLED, str(root))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "midway"
    partial = list((root / "blobs").iterdir())
    assert len(partial) == 1
    deadline = time.monotonic() + 30  # the writer thread may still be on its way to disk
    while partial[0].stat().st_size == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert partial[0].stat().st_size > 0  # the half-written file
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    with Vault.unlock(root, PASSPHRASE) as v:
        assert v.db.scalar("SELECT count(*) FROM attachments") == 0
        assert list((root / "blobs").iterdir()) == []  # swept: no row named it
        report = verify(v.db, attachment_content=True)
        assert report.ok, report.problems

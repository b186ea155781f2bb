"""A 1 GiB attachment goes in and out with flat memory. Slow: run with `make test-slow`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GIB = 1024 * 1024 * 1024

CHILD = textwrap.dedent(
    """
    import hashlib, resource, sys
    from pathlib import Path
    from fieldkit.services.attachments import AttachmentService
    from fieldkit.services.records import RecordService
    from fieldkit.services.vault import Vault
    from tests.conftest import PASSPHRASE, WEAK

    tmp = Path(sys.argv[1])
    v, _ = Vault.create(tmp / "vault", PASSPHRASE, kdf_params=WEAK)
    rid = RecordService(v.db).add({"pseudonym": "big"})
    svc = AttachmentService(v.db)
    row = svc.add(rid, tmp / "big.bin")
    after_intake = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    svc.extract(row.id, tmp / "out.bin")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    v.lock()
    print(row.size, row.sha256.hex(), after_intake, peak)
    """
)


@pytest.mark.slow
def test_one_gib_attachment_with_flat_memory(tmp_path: Path) -> None:
    import hashlib

    src = tmp_path / "big.bin"
    h = hashlib.sha256()
    block = os.urandom(1024 * 1024)
    with open(src, "wb") as fh:
        for i in range(GIB // len(block)):
            chunk = block[:-4] + i.to_bytes(4, "big")
            h.update(chunk)
            fh.write(chunk)
    r = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    size, digest, rss_intake, rss_peak = r.stdout.split()
    assert int(size) == GIB
    assert digest == h.hexdigest()
    out_hash = hashlib.sha256()
    with open(tmp_path / "out.bin", "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            out_hash.update(chunk)
    assert out_hash.hexdigest() == digest
    # Memory must not grow with the file: a 1 GiB file in well under 1/5 of it.
    print(f"peak RSS after intake {rss_intake} MiB, after extract {rss_peak} MiB")
    assert int(rss_peak) < 200

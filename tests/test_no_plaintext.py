"""No testimony plaintext anywhere on disk: not in the vault directory, not in temp files."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from tests.conftest import child

MARKERS = ("ZQXJ-MARKER-7731-testimony", "Маркер-Қӯрғонтеппа-ҷ")

CHILD = textwrap.dedent(
    """
    import io, sys
    from pathlib import Path
    from fieldkit.services import model
    from fieldkit.services.attachments import AttachmentService
    from fieldkit.services.records import RecordService
    from fieldkit.services.vault import Vault
    from tests.conftest import PASSPHRASE, WEAK

    root, stage = Path(sys.argv[1]), sys.argv[2]
    markers = sys.argv[3:]
    v, _ = Vault.create(root, PASSPHRASE, kdf_params=WEAK)
    rs = RecordService(v.db)
    for i in range(50):
        d = model.template()
        d["narrative"] = f"{markers[0]} {markers[1]} {i}"
        d["persons"][0]["sensitive"]["real_name"] = markers[1]
        rid = rs.add(d)
        d["narrative"] += " edited"
        rs.edit(rid, d)
    blob = ((markers[0] + markers[1]) * 50_000).encode()
    AttachmentService(v.db).add_stream(rid, io.BytesIO(blob), filename=markers[0] + ".txt")
    assert rs.search(markers[0].split("-")[0])
    if stage == "open":
        # Leave the WAL as it is: the check runs while the vault is still unlocked.
        print("ready", flush=True)
        sys.stdin.readline()
    v.lock()
    """
)


def _find_markers(where: Path) -> list[str]:
    needles = [m.encode(enc) for m in MARKERS for enc in ("utf-8", "utf-16-le")]
    needles += [m.lower().encode() for m in MARKERS]
    hits = []
    for p in where.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            hits += [f"{p}: {n!r}" for n in needles if n in data]
    return hits


def _run(tmp_path: Path, stage: str) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    vault = tmp_path / "vault"
    proc = child(
        CHILD, str(vault), stage, *MARKERS, env={"TMPDIR": str(tmpdir)}, stdin=subprocess.PIPE
    )
    try:
        if stage == "open":
            assert proc.stdout is not None and proc.stdin is not None
            assert proc.stdout.readline().strip() == "ready"
            assert (vault / "vault.db-wal").exists()
            assert _find_markers(vault) == []
            assert _find_markers(tmpdir) == []
            proc.stdin.write("\n")
            proc.stdin.flush()
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()
    files = [p for p in vault.rglob("*") if p.is_file()]
    assert files, "the vault should hold files"
    assert _find_markers(vault) == []
    assert _find_markers(tmpdir) == []


def test_no_marker_on_disk_after_close(tmp_path: Path) -> None:
    _run(tmp_path, "closed")


def test_no_marker_on_disk_while_unlocked(tmp_path: Path) -> None:
    _run(tmp_path, "open")

"""Two processes on one vault: one holds a write transaction (as a long import does, 14.6 s
for a 1.5 GiB bundle), the other is a real `fieldkit` process.

Reproduced before: a second `hq import` failed with "internal error (OperationalError)"
and a "this is a bug" hint after the 10 s busy timeout and dropped the rest of its batch;
`search` and `hq devices` hung 10-13 s at exit, in the TRUNCATE checkpoint of close().
Now a writer waits (hq import: --wait seconds, saying so) and then exits 11 naming what
it did not import, and a reader exits without a checkpoint. No wall-clock figure is
asserted: which connections checkpoint at close is checked on the statements they run."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.services import export as export_svc
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests.bundle_fixtures import Pair, make_pair
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parent.parent

HOLDER = """
import sys
from pathlib import Path
from fieldkit.services.vault import Vault
v = Vault.unlock(Path(sys.argv[1]), sys.argv[2])
v.db.execute("BEGIN IMMEDIATE")
v.db.execute("UPDATE meta SET value = value WHERE key = 'none'")
print("holding", flush=True)
sys.stdin.readline()
v.db.execute("COMMIT")
v.lock()
print("released", flush=True)
"""


class Holder:
    """A second process holding the vault's write lock until release()."""

    def __init__(self, vault: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(vault), PASSPHRASE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "holding"

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None and self.proc.stdout is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
            assert self.proc.stdout.readline().strip() == "released"
            self.proc.wait(timeout=30)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Pair, list[str]]]:
    pair = make_pair(tmp_path)
    for i in range(2):
        pair.add_testimony(f"Задержан {i}")
        export_svc.export(pair.field.db, tmp_path / f"bundle-{i + 1}.age")
    pair.field.lock()
    pair.hq.lock()
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    yield pair, ["--vault", str(tmp_path / "hq"), "--passphrase-file", str(pf)]


def _fieldkit(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "fieldkit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def test_second_import_waits_then_says_busy_and_names_the_bundles(
    world: tuple[Pair, list[str]], tmp_path: Path
) -> None:
    pair, hq = world
    holder = Holder(tmp_path / "hq")
    try:
        b1, b2 = str(tmp_path / "bundle-1.age"), str(tmp_path / "bundle-2.age")
        proc = _fieldkit(["hq", "import", b1, b2, "--wait", "2", *hq])
        out, err = proc.communicate(timeout=120)
    finally:
        holder.release()
    assert proc.returncode == 11, err
    assert "Traceback" not in err and "internal error" not in err and "bug" not in err
    assert "waiting: another fieldkit process is writing to this vault" in err
    lines = [ln for ln in err.splitlines() if ln.startswith("fieldkit: error")]
    assert lines == [
        "fieldkit: error: the vault is busy: another fieldkit process is writing to it; "
        f"not imported: {b1}, {b2}"
    ]
    assert "run this one again" in err
    assert out == ""
    # Nothing was half-imported: the same command now imports both.
    proc = _fieldkit(["hq", "import", b1, b2, "--json", *hq])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    with Vault.unlock(tmp_path / "hq", PASSPHRASE) as h:
        assert RecordService(h.db).count() == 2
    del pair


def test_second_import_waits_for_the_first_to_finish(
    world: tuple[Pair, list[str]], tmp_path: Path
) -> None:
    _pair, hq = world
    holder = Holder(tmp_path / "hq")
    proc = _fieldkit(["hq", "import", str(tmp_path / "bundle-1.age"), "--wait", "600", *hq])
    try:
        assert proc.stderr is not None
        # It says it waits (every 10 s), and is still running: then the holder commits.
        first = proc.stderr.readline()
        assert "waiting: another fieldkit process is writing to this vault" in first
        assert proc.poll() is None
    finally:
        holder.release()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "verified and imported 1 new record version," in out


def _closing_statements(vault: Vault) -> list[str]:
    seen: list[str] = []
    vault.db._c().set_trace_callback(seen.append)
    vault.lock()
    return seen


def test_only_a_connection_that_wrote_checkpoints_at_close(tmp_path: Path) -> None:
    pair = make_pair(tmp_path)
    pair.add_testimony("Задержан")
    pair.field.lock()
    pair.hq.lock()
    reader = Vault.unlock(tmp_path / "field", PASSPHRASE)
    assert RecordService(reader.db).search("Задержан")
    assert not any("wal_checkpoint" in s for s in _closing_statements(reader))
    writer = Vault.unlock(tmp_path / "field", PASSPHRASE)
    RecordService(writer.db).add({"pseudonym": "B"})
    assert any("wal_checkpoint(TRUNCATE)" in s for s in _closing_statements(writer))
    wal = tmp_path / "field" / "vault.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0


@pytest.mark.parametrize(
    "command", [["search", "Задержан"], ["hq", "devices"], ["record", "list"]]
)
def test_readers_never_wait_for_a_writer(
    world: tuple[Pair, list[str]], tmp_path: Path, command: list[str]
) -> None:
    """While another process writes, a reader runs and exits; it does not wait on a
    checkpoint at close (the holder is released only after the reader exited)."""
    _pair, hq = world
    holder = Holder(tmp_path / "hq")
    try:
        proc = _fieldkit([*command, *hq])
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert proc.returncode == 0, err
        assert holder.proc.poll() is None  # the writer still held its lock throughout
    finally:
        holder.release()
    del out


def test_a_write_gets_vault_busy_not_an_internal_error(
    world: tuple[Pair, list[str]], tmp_path: Path
) -> None:
    """Any other write waits the busy timeout (10 s), then one line and exit 11."""
    _pair, hq = world
    holder = Holder(tmp_path / "hq")
    try:
        proc = _fieldkit(["hq", "revoke", "--name", "FW-03 laptop", *hq])
        out, err = proc.communicate(timeout=120)
    finally:
        holder.release()
    assert proc.returncode == 11, err
    assert err.splitlines()[0] == (
        "fieldkit: error: the vault is busy: another fieldkit process is writing to it"
    )
    assert err.splitlines()[1].startswith("fieldkit: hint: wait until the other")
    del out

"""The .deb's command wrapper (packaging/debian/fieldkit.sh): on Tails the vault goes to
the Persistent Storage, and the packaged Python runs isolated. Fast: a stand-in python3
beside a copy of the wrapper prints what it was given."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WRAPPER = ROOT / "packaging" / "debian" / "fieldkit.sh"


def _run(tmp_path: Path, *, tails: bool, persistent: bool, vault: str | None) -> tuple[str, str]:
    bin_dir = tmp_path / "opt" / "bin"
    bin_dir.mkdir(parents=True)
    marker = tmp_path / "amnesia-version"
    if tails:
        marker.write_text("6.0\n")
    script = WRAPPER.read_text("utf-8").replace("/etc/amnesia/version", str(marker))
    (bin_dir / "fieldkit").write_text(script, "utf-8")
    (bin_dir / "fieldkit").chmod(0o755)
    (bin_dir / "python3").write_text(
        '#!/bin/sh\necho "vault=${FIELDKIT_VAULT:-unset} args=$*"\n', "utf-8"
    )
    (bin_dir / "python3").chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    if persistent:
        (home / "Persistent").mkdir()
    link = tmp_path / "usr-bin-fieldkit"
    link.symlink_to(bin_dir / "fieldkit")
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    if vault is not None:
        env["FIELDKIT_VAULT"] = vault
    done = subprocess.run(
        [str(link), "record", "list"], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip(), done.stderr.strip()


def test_on_tails_the_vault_goes_to_the_persistent_storage(tmp_path: Path) -> None:
    out, err = _run(tmp_path, tails=True, persistent=True, vault=None)
    assert out == f"vault={tmp_path}/home/Persistent/vault args=-I -m fieldkit record list"
    assert err == ""


def test_on_tails_without_persistent_storage_it_warns(tmp_path: Path) -> None:
    out, err = _run(tmp_path, tails=True, persistent=False, vault=None)
    assert out == "vault=unset args=-I -m fieldkit record list"
    assert "lost at shutdown" in err


@pytest.mark.parametrize("tails", [True, False])
def test_a_vault_given_by_the_person_wins_and_debian_keeps_the_default(
    tmp_path: Path, tails: bool
) -> None:
    out, err = _run(tmp_path, tails=tails, persistent=True, vault="/media/x/vault")
    assert out.startswith("vault=/media/x/vault ") and err == ""
    if not tails:
        default, _ = _run(tmp_path / "deb", tails=False, persistent=True, vault=None)
        assert default.startswith("vault=unset ")

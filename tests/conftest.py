"""Shared fixtures. Tests pass a weak Argon2id profile explicitly (never via the environment)."""

from __future__ import annotations

import atexit
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# Tests read English whatever the machine's locale, and never the user's saved app
# language: set before fieldkit is imported (fieldkit/i18n.py reads both at import).
# Tests of other languages set LANGUAGE/LANG or pass --lang themselves.
os.environ["LANGUAGE"] = "en"
os.environ["FIELDKIT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="fieldkit-config-")

from fieldkit import i18n
from fieldkit.cli.main import run
from fieldkit.crypto.kdf import Argon2Params
from fieldkit.services.vault import Vault

pytest_plugins = ["tests.bundle_fixtures"]

# Fast, and far below the production floor: only ever passed in by tests.
WEAK = Argon2Params(time_cost=1, memory_kib=8 * 1024, parallelism=1)
PASSPHRASE = "correct horse battery staple mountain"
NEW_PASSPHRASE = "another long passphrase for the field 2026"


ROOT = Path(__file__).resolve().parent.parent


def child(script: str, *args: str, env: dict[str, str] | None = None, **popen: Any) -> Any:
    """Start `script` in a fresh Python that imports this checkout, stdout piped as
    text; for the tests that kill or watch a process. Extra Popen options pass on."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=subprocess.PIPE,
        text=True,
        **popen,
    )


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """A test that switched the language (a CLI run with --lang, a Russian snapshot)
    leaves English behind for the next one."""
    yield
    i18n.set_language("en")


@pytest.fixture
def vault_dir(tmp_path: Path) -> Path:
    return tmp_path / "vault"


@functools.cache
def _vault_template() -> Path:
    """One field vault made per test process (PASSPHRASE, WEAK), locked; the `vault` and
    `cli_vault` fixtures copy it, several times cheaper than making one. Tests about
    making a vault, or that need vaults with different keys, call Vault.create or init."""
    root = Path(tempfile.mkdtemp(prefix="fk-vault-template-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    Vault.create(root / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    return root / "vault"


@pytest.fixture(scope="session")
def _vault_template_made() -> None:
    """The template is made before any test's own fixtures run (none of them patches it)."""
    _vault_template()


def copied_vault(root: Path) -> Path:
    """A new field vault at `root`, locked, as `fieldkit init` leaves it: a copy of the
    template."""
    shutil.copytree(_vault_template(), root)
    return root


@pytest.fixture
def vault(vault_dir: Path, _vault_template_made: None) -> Iterator[Vault]:
    v = Vault.unlock(copied_vault(vault_dir), PASSPHRASE)
    yield v
    if not v.is_locked:
        v.lock()


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def cli(argv: list[str], *, stdin: str = "", tty: bool = False) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    code = run(
        argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, kdf_params=WEAK, tty_available=tty
    )
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def pass_file(tmp_path: Path) -> Path:
    p = tmp_path / "pass.txt"
    p.write_text(PASSPHRASE + "\n", encoding="utf-8")
    return p


@pytest.fixture
def cli_vault(vault_dir: Path, pass_file: Path, _vault_template_made: None) -> list[str]:
    """A created vault (as `init` makes it: a copy of the template); returns the global
    options that address it."""
    copied_vault(vault_dir)
    return ["--vault", str(vault_dir), "--passphrase-file", str(pass_file)]

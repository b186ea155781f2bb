"""Hiding the tool on disk (issue 11): the default vault path does not say "fieldkit",
an older vault at the old default is still found, and the app opens a vault given by path."""

from __future__ import annotations

import io
from pathlib import Path

import platformdirs
import pytest

from fieldkit import locations
from fieldkit.cli.main import run
from fieldkit.services.vault import Vault
from tests.conftest import PASSPHRASE, WEAK


@pytest.fixture
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "share"

    def user_data_dir(appname: str | None = None, appauthor: object = None) -> str:
        return str(home / appname) if appname else str(home)

    monkeypatch.setattr(platformdirs, "user_data_dir", user_data_dir)
    monkeypatch.delenv(locations.ENV_VAULT, raising=False)
    return home


def test_the_default_vault_path_does_not_name_the_tool(data_home: Path) -> None:
    path = locations.default_vault_dir()
    assert path == data_home / "vault"
    assert "fieldkit" not in str(path.relative_to(data_home.parent))
    v, _ = Vault.create(path, PASSPHRASE, kdf_params=WEAK)
    v.lock()
    names = [p.name for p in path.rglob("*")]
    assert names and not [n for n in names if "fieldkit" in n.lower()]


def test_a_vault_at_the_old_default_is_still_found(data_home: Path) -> None:
    old = data_home / "fieldkit" / "vault"
    assert locations.legacy_vault_dir() == old
    Vault.create(old, PASSPHRASE, kdf_params=WEAK)[0].lock()
    assert locations.default_vault_dir() == old
    # Once a vault exists at the new place, the new place wins.
    Vault.create(data_home / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    assert locations.default_vault_dir() == data_home / "vault"


def test_the_environment_variable_still_wins(
    data_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(locations.ENV_VAULT, str(tmp_path / "stick"))
    assert locations.default_vault_dir() == tmp_path / "stick"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("argv", [["tui", "--vault"], ["--vault"]])
def test_the_app_opens_the_vault_given_at_start(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fieldkit.ui.app import FieldkitApp

    opened: list[Path] = []
    monkeypatch.setattr(FieldkitApp, "run", lambda self: opened.append(self.ctx.vault_dir))
    stick = tmp_path / "usb" / "notes"
    code = run([*argv, str(stick)], stdout=_Tty(), stderr=io.StringIO())
    assert code == 0
    assert opened == [stick]

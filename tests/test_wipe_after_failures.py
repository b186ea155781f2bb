"""Wipe after N failed unlocks (issue 11, part 1): off by default; 5, 10 or 20; counted on
disk before Argon2id runs, so neither a restart nor a kill during an attempt loses a
failure; the wipe is `fieldkit wipe`'s and the error stays "wrong passphrase"."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.widgets import Select

from fieldkit.errors import AuthenticationFailed, MalformedData
from fieldkit.formats import attempts as fmt
from fieldkit.formats.attempts import Attempts
from fieldkit.locations import VaultPaths
from fieldkit.services import attempts
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.dialogs import PassphraseCheckScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from fieldkit.ui.screens.setup import SetupScreen
from fieldkit.ui.screens.unlock import UnlockScreen
from tests.conftest import PASSPHRASE, WEAK, child, cli
from tests.ui_helpers import make_app, screen_text, type_into, wait_for

WRONG = "not the passphrase at all, sorry"


def _state(root: Path) -> Attempts:
    return fmt.parse((root / "attempts").read_bytes())


def _fail(root: Path, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationFailed, match="wrong passphrase"):
            Vault.unlock(root, WRONG)


# ---- the file format -------------------------------------------------------------
def test_vector() -> None:
    data = fmt.serialise(Attempts(10, 3))
    assert data.hex() == "464b2d5452494553" "01" "0a" "00000003"
    assert fmt.parse(data) == Attempts(10, 3)


@given(st.binary(max_size=30))
def test_any_bytes_parse_or_are_rejected_cleanly(data: bytes) -> None:
    try:
        got = fmt.parse(data)
    except MalformedData:
        return
    assert fmt.serialise(got) == data


@pytest.mark.parametrize(
    "bad",
    [
        fmt.serialise(Attempts(5, 1))[:-1],
        b"FK-TRIEZ" + fmt.serialise(Attempts())[8:],
        fmt.serialise(Attempts())[:8] + b"\x02" + fmt.serialise(Attempts())[9:],
        fmt.serialise(Attempts())[:9] + b"\x07" + fmt.serialise(Attempts())[10:],
    ],
)
def test_malformed_files_are_rejected(bad: bytes) -> None:
    with pytest.raises(MalformedData):
        fmt.parse(bad)


# ---- the service -----------------------------------------------------------------
def test_off_by_default_and_counting_anyway(vault_dir: Path) -> None:
    Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)[0].lock()
    assert _state(vault_dir) == Attempts(0, 0)
    _fail(vault_dir, 25)
    assert _state(vault_dir) == Attempts(0, 25)  # the file looks the same on or off
    with Vault.unlock(vault_dir, PASSPHRASE) as v:
        assert v.wipe_after_failures() == 0
    assert _state(vault_dir) == Attempts(0, 0)


def test_a_success_resets_the_count(vault_dir: Path) -> None:
    v, _ = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    v.set_wipe_after_failures(5)
    v.lock()
    _fail(vault_dir, 4)
    Vault.unlock(vault_dir, PASSPHRASE).lock()
    _fail(vault_dir, 4)
    assert vault_dir.exists() and _state(vault_dir) == Attempts(5, 4)


def test_recovery_code_failures_count_too(vault_dir: Path) -> None:
    v, code = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    v.set_wipe_after_failures(5)
    v.lock()
    wrong = ("0000-" * 8)[:-1]
    assert wrong != code
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            Vault.unlock_with_recovery_code(vault_dir, wrong)
    _fail(vault_dir, 1)
    assert not vault_dir.exists()


def test_a_limit_switched_off_on_disk_comes_back_at_the_next_unlock(vault_dir: Path) -> None:
    v, _ = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    v.set_wipe_after_failures(10)
    v.lock()
    (vault_dir / "attempts").write_bytes(fmt.serialise(Attempts(0, 0)))  # the tamper
    Vault.unlock(vault_dir, PASSPHRASE).lock()
    assert _state(vault_dir) == Attempts(10, 0)
    (vault_dir / "attempts").write_bytes(b"garbage")  # damaged: counts from zero, off
    _fail(vault_dir, 1)
    assert _state(vault_dir) == Attempts(0, 1)
    Vault.unlock(vault_dir, PASSPHRASE).lock()
    assert _state(vault_dir) == Attempts(10, 0)


KILLED = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from fieldkit.services import keyring
    from fieldkit.services.vault import Vault

    def killed(*args, **kwargs):
        os._exit(0)  # power cut while Argon2id runs: the result was never seen

    keyring.derive = killed
    Vault.unlock(Path(sys.argv[1]), "any guess at all, it does not matter")
    """
)


def test_killing_the_process_during_an_attempt_still_counts_it(vault_dir: Path) -> None:
    v, _ = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    v.set_wipe_after_failures(5)
    v.lock()
    _fail(vault_dir, 3)
    proc = child(KILLED, str(vault_dir))
    assert proc.wait(timeout=120) == 0
    assert _state(vault_dir) == Attempts(5, 4)
    _fail(vault_dir, 1)  # the fifth
    assert not vault_dir.exists()


def test_limits_other_than_5_10_20_are_refused(vault_dir: Path) -> None:
    with Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)[0] as v:
        for bad in (1, 3, 100, -1):
            with pytest.raises(Exception, match="not offered"):
                v.set_wipe_after_failures(bad)
        assert v.wipe_after_failures() == 0


# ---- the CLI ---------------------------------------------------------------------
def test_cli_sets_it_with_the_passphrase_and_the_fifth_failure_wipes(
    cli_vault: list[str], vault_dir: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.txt"
    wrong.write_text(WRONG + "\n")
    vault_only = cli_vault[:2]

    refused = cli(["wipe-after", "5", *vault_only, "--passphrase-file", str(wrong)])
    assert refused.code == 4
    assert _state(vault_dir) == Attempts(0, 1)  # a failure like any other, still off

    r = cli(["wipe-after", "5", *cli_vault])
    assert r.code == 0, r.err
    assert "after 5 failed unlocks" in r.out and "SECURITY.md" in r.out
    shown = cli(["--json", "wipe-after", *cli_vault])
    assert shown.json() == {"wipe_after_failures": 5}

    for _ in range(4):  # each run is a fresh start: the count is on disk
        assert cli(["record", "list", *vault_only, "--passphrase-file", str(wrong)]).code == 4
    assert vault_dir.exists()
    fifth = cli(["record", "list", *vault_only, "--passphrase-file", str(wrong)])
    assert fifth.code == 4
    assert "wrong passphrase" in fifth.err and "wipe" not in fifth.err.lower()
    assert not vault_dir.exists()
    assert cli(["record", "list", *cli_vault]).code == 3  # no vault

    off = cli(["init", *cli_vault])
    assert off.code == 0
    r = cli(["wipe-after", "off", *cli_vault])
    assert r.code == 0 and "never" in r.out


def test_cli_rejects_other_limits(cli_vault: list[str]) -> None:
    r = cli(["wipe-after", "7", *cli_vault])
    assert r.code == 2


# ---- the app ---------------------------------------------------------------------
async def test_app_wrong_passphrases_reach_the_limit_and_show_the_first_run_screen(
    tmp_path: Path,
) -> None:
    root = tmp_path / "vault"
    fresh = make_app(root, tmp_path)
    async with fresh.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(fresh.screen, SetupScreen))
        await pilot.pause()
        expected = screen_text(fresh)
    v, _ = Vault.create(root, PASSPHRASE, kdf_params=WEAK)
    v.set_wipe_after_failures(5)
    v.lock()
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        for n in range(5):
            await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
            field = app.screen.query_one("#passphrase")
            await wait_for(pilot, lambda f=field: not f.disabled)
            await type_into(pilot, "#passphrase", WRONG)
            await pilot.press("enter")
            if n < 4:
                await wait_for(pilot, lambda n=n: _state(root).failures == n + 1)
                await wait_for(pilot, lambda: "Wrong passphrase" in screen_text(app))
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        await pilot.pause()
        assert screen_text(app) == expected
    assert not root.exists()


async def test_app_settings_sets_the_limit_after_the_passphrase(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    Vault.create(root, PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(root, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#wipe-after", Select).value = 10
        help_text = str(app.screen.query_one("#wipe-after-help").render())
        assert "copy of the disk" in help_text and "reset the count" in help_text
        app.screen.query_one("#save-wipe-after").press()
        await wait_for(pilot, lambda: isinstance(app.screen, PassphraseCheckScreen))
        await pilot.pause()
        await type_into(pilot, "#reauth", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        vault = app.vault
        assert vault is not None
        await wait_for(pilot, lambda: vault.wipe_after_failures() == 10)
    assert _state(root) == Attempts(10, 0)
    assert attempts.read(VaultPaths(root)) == Attempts(10, 0)


def test_a_vault_without_the_counter_file_gets_one_at_its_next_unlock(vault_dir: Path) -> None:
    """Vaults made before this release, or whose file was deleted (SECURITY.md: a reset)."""
    v, _ = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    v.set_wipe_after_failures(5)
    v.lock()
    (vault_dir / "attempts").unlink()
    _fail(vault_dir, 6)
    assert vault_dir.exists() and not (vault_dir / "attempts").exists()
    Vault.unlock(vault_dir, PASSPHRASE).lock()
    assert _state(vault_dir) == Attempts(5, 0)
    _fail(vault_dir, 5)
    assert not vault_dir.exists()

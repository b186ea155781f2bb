"""Locking, by hand or by the idle timer: nothing keyed stays open, nothing copied stays
on the clipboard, and a worker cannot hold the lock off (issue 9, section 5)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fieldkit.services.vault import Vault
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.unlock import UnlockScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import FakeClock, make_app, type_into, wait_for


async def test_autolock_fires_while_a_worker_runs_and_closes_every_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    clock = FakeClock()
    app = make_app(tmp_path / "vault", tmp_path, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        vault = app.vault
        assert vault is not None
        # A long worker with its own keyed connection, as export, import and attach use.
        conn = vault.connect()
        release = threading.Event()
        worker = app.run_worker(lambda: release.wait(30), thread=True)
        await wait_for(pilot, lambda: worker.is_running)
        app.copy_to_clipboard("Гулноза Раҳимова")  # something copied from a field
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        monkeypatch.setattr(driver, "write", written.append)
        clock.advance(app.autolock_seconds + 1)
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        assert worker.is_running  # the lock did not wait for it
        assert app.vault is None and vault.is_locked and not conn.is_open
        assert all(b == 0 for b in vault._master_key)
        assert app.clipboard == ""
        assert "\x1b]52;c;\a" in written  # the terminal's clipboard is emptied too
        release.set()
        await pilot.pause()  # let the new screen's header mount before the app exits

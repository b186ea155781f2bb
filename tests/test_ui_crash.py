"""SIGKILL the app while a draft is being typed: on reopening, the draft is there, minus
at most the last autosave interval."""

from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path

from fieldkit.services.drafts import DraftService
from fieldkit.services.vault import Vault
from tests.conftest import PASSPHRASE, WEAK, child

AUTOSAVE = 0.5

CHILD = textwrap.dedent(
    f"""
    import asyncio, sys, time
    from pathlib import Path
    from fieldkit.ui.app import FieldkitApp
    from fieldkit.ui.context import AppContext
    from fieldkit.ui.screens.editor import EditorScreen
    from fieldkit.ui.screens.records import RecordsScreen
    from tests.conftest import PASSPHRASE, WEAK

    async def main() -> None:
        app = FieldkitApp(AppContext(Path(sys.argv[1]), kdf_params=WEAK,
                                     autosave_seconds={AUTOSAVE}))
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#passphrase").value = PASSPHRASE
            await pilot.press("enter")
            while not isinstance(app.screen, RecordsScreen):
                await pilot.pause(0.05)
            await pilot.press("ctrl+n")
            while not isinstance(app.screen, EditorScreen):
                await pilot.pause(0.05)
            app.screen.query_one("#tabs").active = "tab-narrative"
            await pilot.pause()
            area = app.screen.query_one("#f-narrative")
            area.focus()
            n = 0
            while True:
                n += 1
                await pilot.press(*"слово{{n}}".format(n=n), "space")
                print(f"typed {{len(area.text)}} {{time.monotonic()}}", flush=True)
                await pilot.pause(0.02)

    asyncio.run(main())
    """
)


def test_sigkill_while_typing_keeps_the_draft(tmp_path: Path) -> None:
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    proc = child(CHILD, str(tmp_path / "vault"), stderr=subprocess.PIPE)
    assert proc.stdout is not None
    typed: list[tuple[int, float]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        _, length, at = line.split()
        typed.append((int(length), float(at)))
        if typed[-1][1] - typed[0][1] > 3 * AUTOSAVE + 1:
            break
    kill_at = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert typed, proc.stderr.read() if proc.stderr else "no output"

    with Vault.unlock(tmp_path / "vault", PASSPHRASE) as v:
        drafts = DraftService(v.db).all()
        assert v.db.integrity_problems() == []
    assert len(drafts) == 1
    saved = drafts[0].doc["narrative"]
    # Everything typed more than one autosave interval (plus scheduling slack) before the
    # kill is in the draft.
    must_have = max((n for n, at in typed if at <= kill_at - AUTOSAVE - 0.5), default=0)
    assert len(saved) >= must_have > 0, (len(saved), must_have, typed[-1])
    assert saved.startswith("слово1 слово2")

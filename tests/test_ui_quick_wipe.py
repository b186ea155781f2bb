"""Quick wipe from inside the app (issue 11, part 1): Ctrl+\\ from any screen, a five-step
countdown that Escape cancels, then the same crypto-shred as `fieldkit wipe`, and the app
looks exactly like one started on a machine that never had a vault."""

from __future__ import annotations

import io
import os
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets._header import HeaderTitle

from fieldkit.services import model
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.editor import EditorScreen
from fieldkit.ui.screens.quick_wipe import COUNTDOWN_SECONDS, QuickWipeScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from fieldkit.ui.screens.setup import SetupScreen
from fieldkit.ui.screens.unlock import UnlockScreen, hand_over
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, screen_text, type_into, wait_for

SIZE = (80, 24)
MARKER = "Zarina-Q7-marker"


def _filled_vault(root: Path) -> None:
    v, _ = Vault.create(root, PASSPHRASE, kdf_params=WEAK)
    with v:
        rec = model.template()
        rec["narrative"] = MARKER
        rid = RecordService(v.db).add(rec)
        AttachmentService(v.db).add_stream(
            rid, io.BytesIO(MARKER.encode() * 500), filename=f"{MARKER}.jpg"
        )


async def _first_run_text(tmp_path: Path, root: Path) -> str:
    """What a person sees when the app starts where no vault was ever made."""
    assert not root.exists()
    app = make_app(root, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled_first_run(pilot, app)
        return screen_text(app)


async def _settled_first_run(pilot: Pilot[None], app: FieldkitApp) -> None:
    """Wait for the first-run screen and its header (a header still mounting when the
    app exits fails inside Textual)."""
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    await wait_for(pilot, lambda: bool(app.screen.query(HeaderTitle)))
    await pilot.pause()
    await pilot.pause()


async def _unlock(pilot: Pilot[None], app: FieldkitApp) -> None:
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))


def _links_outside(root: Path, outside: Path) -> dict[str, Path]:
    """Hard links to the key and database files: they show what happened to the blocks,
    not only to the names."""
    outside.mkdir()
    links = {}
    for name in ("keyslots", "vault.db"):
        links[name] = outside / name
        os.link(root / name, links[name])
    return links


def _assert_shredded(root: Path, links: dict[str, Path], tmp_path: Path) -> None:
    assert not root.exists()
    keyslot_bytes = links["keyslots"].read_bytes()
    assert keyslot_bytes == bytes(len(keyslot_bytes))  # overwritten before the unlink
    with open(links["vault.db"], "rb") as fh:
        head = fh.read(1024 * 1024)
    assert head == bytes(len(head))  # the salt and first pages are gone
    # Nothing anywhere under the test folder holds the testimony in the clear.
    for folder, _dirs, files in os.walk(tmp_path):
        for name in files:
            assert MARKER.encode() not in (Path(folder) / name).read_bytes(), name
            assert MARKER not in name


async def test_quick_wipe_from_the_editor_leaves_the_first_run_screen(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    expected = await _first_run_text(tmp_path, root)
    _filled_vault(root)
    links = _links_outside(root, tmp_path / "inodes")
    app = make_app(root, tmp_path)
    app.ctx.wipe_tick_seconds = 0.5  # slow enough to look at the countdown
    async with app.run_test(size=SIZE) as pilot:
        await _unlock(pilot, app)
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        app.copy_to_clipboard(MARKER)
        await pilot.press("ctrl+backslash")
        await wait_for(pilot, lambda: isinstance(app.screen, QuickWipeScreen))
        assert COUNTDOWN_SECONDS == 5
        left = app.screen.left
        assert 1 <= left <= 5  # a slow machine may have ticked already
        assert f"Wiping in {left} s. Press Esc to cancel." in screen_text(app)
        # Someone else pressing Enter or typing does not stop it (only Escape does).
        await pilot.press("enter", "space", "x", "tab", "enter")
        await _settled_first_run(pilot, app)
        assert app.vault is None
        assert app.clipboard == ""
        assert [type(s).__name__ for s in app.screen_stack[1:]] == ["SetupScreen"]
        assert screen_text(app) == expected  # nothing on screen says a wipe happened
    _assert_shredded(root, links, tmp_path)


async def test_quick_wipe_from_the_unlock_screen(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    expected = await _first_run_text(tmp_path, root)
    _filled_vault(root)
    links = _links_outside(root, tmp_path / "inodes")
    app = make_app(root, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        await type_into(pilot, "#passphrase", "half typed")
        await pilot.press("ctrl+backslash")
        await _settled_first_run(pilot, app)
        assert screen_text(app) == expected
    _assert_shredded(root, links, tmp_path)


async def test_escape_cancels_the_countdown_and_nothing_changes(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _filled_vault(root)
    before = {p.name: p.read_bytes() for p in (root / "keyslots", root / "vault.db")}
    app = make_app(root, tmp_path)
    # A slow countdown, so Escape certainly comes before its end.
    app.ctx.wipe_tick_seconds = 5.0
    async with app.run_test(size=SIZE) as pilot:
        await _unlock(pilot, app)
        await pilot.press("ctrl+o")  # settings
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await pilot.press("ctrl+backslash")
        await wait_for(pilot, lambda: isinstance(app.screen, QuickWipeScreen))
        await pilot.press("ctrl+backslash")  # pressed twice: still one countdown
        assert sum(isinstance(s, QuickWipeScreen) for s in app.screen_stack) == 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert app.vault is not None and not app.vault.is_locked
    assert (root / "keyslots").read_bytes() == before["keyslots"]
    Vault.unlock(root, PASSPHRASE).lock()  # still opens


async def test_an_unlock_finishing_after_the_wipe_opens_nothing(tmp_path: Path) -> None:
    """The countdown outlasts Argon2id in practice; if not, the late result is dropped."""
    root = tmp_path / "vault"
    _filled_vault(root)
    app = make_app(root, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        await pilot.pause()
        unlock_screen = app.screen
        late = Vault.unlock(root, PASSPHRASE)  # as if the worker finished just now
        app.wipe_now()
        await _settled_first_run(pilot, app)
        hand_over(unlock_screen, late)  # type: ignore[arg-type]
        await pilot.pause()
        assert app.vault is None and late.is_locked
        assert isinstance(app.screen, SetupScreen)
    assert not root.exists()


async def test_an_unlock_finishing_during_the_countdown_does_not_stop_it(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    _filled_vault(root)
    app = make_app(root, tmp_path)
    app.ctx.wipe_tick_seconds = 0.5
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        await pilot.pause()
        unlock_screen = app.screen
        await pilot.press("ctrl+backslash")
        await wait_for(pilot, lambda: isinstance(app.screen, QuickWipeScreen))
        hand_over(unlock_screen, Vault.unlock(root, PASSPHRASE))  # type: ignore[arg-type]
        assert isinstance(app.screen, QuickWipeScreen)  # still counting down
        await _settled_first_run(pilot, app)
        assert app.vault is None
    assert not root.exists()


async def test_a_vault_whose_creation_ends_after_the_wipe_is_wiped_too(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    app = make_app(root, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled_first_run(pilot, app)
        setup = app.screen
        assert isinstance(setup, SetupScreen)
        app.wipe_now()  # nothing to wipe yet: the screen is reset all the same
        await _settled_first_run(pilot, app)
        assert app.screen is not setup
        made, _code = Vault.create(root, PASSPHRASE, kdf_params=WEAK)  # the late worker
        setup._made(made, _code, WEAK)
        await pilot.pause()
        assert made.is_locked and not root.exists()
        assert isinstance(app.screen, SetupScreen)

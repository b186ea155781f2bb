"""The recovery code a person is shown at first run opens the vault when the passphrase
is lost: taken from what `fieldkit init` prints and from the app's setup dialog, typed
back in through `fieldkit recover` and the app's recover screen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Static

from fieldkit.errors import AuthenticationFailed
from fieldkit.services import model
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.screens.dialogs import SecretOnceScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.setup import SetupScreen
from fieldkit.ui.screens.unlock import RecoverScreen, UnlockScreen
from tests.conftest import NEW_PASSPHRASE, PASSPHRASE, cli
from tests.ui_helpers import make_app, wait_for


def _code_in_init_output(out: str) -> str:
    """The first line under 'Recovery code (shown once; ...):', as a person copies it."""
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Recovery code"))
    return next(line.strip() for line in lines[at + 1 :] if line.strip())


def test_code_printed_by_init_recovers_the_vault(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    init = cli(["init", "--vault", str(vault), "--passphrase-file", str(pf)])
    assert init.code == 0, init.err
    code = _code_in_init_output(init.out)
    opts = ["--vault", str(vault), "--passphrase-file", str(pf)]
    rid = cli(["record", "add", "--json", "-", *opts], stdin=json.dumps(model.template())).out
    # The passphrase is lost; the code from paper (typed in lower case) and a new one.
    paper = tmp_path / "paper"
    paper.write_text(code.lower() + "\n")
    new = tmp_path / "new"
    new.write_text(NEW_PASSPHRASE + "\n")
    recover = ["recover", "--vault", str(vault), "--recovery-code-file", str(paper)]
    r = cli([*recover, "--new-passphrase-file", str(new)])
    assert r.code == 0, r.err
    new_opts = ["--vault", str(vault), "--passphrase-file", str(new)]
    shown = cli(["record", "show", rid.strip(), *new_opts])
    assert shown.code == 0, shown.err
    assert cli(["record", "list", *opts]).code == 4  # the old passphrase no longer opens it
    # The code itself still works (recover does not replace it; `recovery-code new` does).
    with Vault.unlock_with_recovery_code(vault, code):
        pass


async def _settle(pilot: Pilot[None]) -> None:
    """Wait until every header on the screen stack has mounted its title: leaving the
    app before that races Textual's Header (NoMatches 'HeaderTitle' on a loaded machine)."""

    def mounted() -> bool:
        headers = [h for s in pilot.app.screen_stack for h in s.query("Header")]
        return all(h.query("HeaderTitle") for h in headers)

    await wait_for(pilot, mounted)
    await pilot.pause()


async def _click(pilot: Pilot[None], selector: str) -> None:
    """Click a widget once the screen has laid it out (a new screen may not have yet)."""
    screen = pilot.app.screen
    await wait_for(pilot, lambda: any(w.region.area for w in screen.query(selector)))
    await pilot.pause()
    await pilot.click(selector)


async def _type(pilot: Pilot[None], selector: str, text: str) -> None:
    """Key presses, one character at a time, into the widget a person would click."""
    await _click(pilot, selector)
    await pilot.press(*text)


async def _paste(pilot: Pilot[None], selector: str, text: str) -> None:
    """A paste from the terminal (a password manager), cheaper than typing."""
    await _click(pilot, selector)
    pilot.app.screen.query_one(selector).post_message(events.Paste(text))
    await pilot.pause()


async def test_code_shown_by_app_setup_recovers_the_vault_in_the_app(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    app = make_app(vault, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        assert isinstance(app.screen, SetupScreen)
        await _click(pilot, "#to-passphrase")
        await _paste(pilot, "#pass1", PASSPHRASE)
        await _paste(pilot, "#pass2", PASSPHRASE)
        await _click(pilot, "#create")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretOnceScreen))
        await wait_for(pilot, lambda: bool(app.screen.query("#secret")))
        # What the dialog shows is what the person writes down.
        code = str(app.screen.query_one("#secret", Static).render()).strip()
        await _click(pilot, "#ack")
        await wait_for(pilot, lambda: not app.screen.query_one("#continue").disabled)
        await _click(pilot, "#continue")
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await _click(pilot, "#skip")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        assert app.vault is not None
        rid = RecordService(app.vault.db).add(model.template())
        await _settle(pilot)

    app = make_app(vault, tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        assert isinstance(app.screen, UnlockScreen)
        await _click(pilot, "#recover")
        await wait_for(pilot, lambda: isinstance(app.screen, RecoverScreen))
        await _type(pilot, "#code", code)
        await _type(pilot, "#new", NEW_PASSPHRASE)
        await _paste(pilot, "#again", NEW_PASSPHRASE)
        await _click(pilot, "#go")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        assert app.vault is not None
        assert RecordService(app.vault.db).get(rid).version == 1
        await _settle(pilot)

    with Vault.unlock(vault, NEW_PASSPHRASE) as v:
        assert RecordService(v.db).get(rid)
    with pytest.raises(AuthenticationFailed):
        Vault.unlock(vault, PASSPHRASE)

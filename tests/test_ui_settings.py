"""Settings that weaken or move trust ask for the passphrase again: a wrong one changes
nothing, the right one changes it (issue 9, section 2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from fieldkit.services import identity, settings, trust
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.dialogs import (
    CardCheckScreen,
    ConfirmScreen,
    PassphraseCheckScreen,
    SecretOnceScreen,
)
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, type_into, wait_for

NEW_PASSPHRASE = "another long passphrase for the vault"


async def _settings(pilot: Pilot[None], app: FieldkitApp) -> None:
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))


async def _answer(pilot: Pilot[None], app: FieldkitApp, passphrase: str) -> None:
    """Answer the passphrase dialog; a wrong answer is shown, then cancelled."""
    await wait_for(pilot, lambda: isinstance(app.screen, PassphraseCheckScreen))
    await pilot.pause()
    await type_into(pilot, "#reauth", passphrase)
    await pilot.press("enter")
    if passphrase == PASSPHRASE:
        await wait_for(pilot, lambda: not isinstance(app.screen, PassphraseCheckScreen))
        return
    message = app.screen.query_one("#reauth-message")
    try:
        await wait_for(pilot, lambda: "Wrong" in str(message.render()))
    except AssertionError:
        from tests.ui_helpers import screen_text
        print(screen_text(app), str(message.render()))
        raise
    await pilot.press("escape")
    await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))


Start = Callable[[Pilot[None], FieldkitApp], Awaitable[None]]


async def _autolock(pilot: Pilot[None], app: FieldkitApp) -> None:
    await type_into(pilot, "#autolock", "600")
    await pilot.click("#save-autolock")


async def _passphrase(pilot: Pilot[None], app: FieldkitApp) -> None:
    await type_into(pilot, "#new", NEW_PASSPHRASE)
    await type_into(pilot, "#again", NEW_PASSPHRASE)
    await pilot.click("#change")


async def _recovery_code(pilot: Pilot[None], app: FieldkitApp) -> None:
    await pilot.click("#new-code")
    await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    await pilot.click("#yes")


async def _trust(pilot: Pilot[None], app: FieldkitApp) -> None:
    await type_into(pilot, "#card", str(Path(app.ctx.start_dir) / "hq2.card"))
    await pilot.click("#trust")
    await wait_for(pilot, lambda: isinstance(app.screen, CardCheckScreen))
    await pilot.click("#yes")


async def _untrust(pilot: Pilot[None], app: FieldkitApp) -> None:
    table = app.screen.query_one("#hq-cards")
    table.focus()
    await pilot.pause()
    await pilot.click("#untrust")



async def _duress(pilot: Pilot[None], app: FieldkitApp) -> None:
    for name in ("#duress-new", "#duress-again"):
        app.screen.query_one(name).scroll_visible(animate=False)
        await pilot.pause()
        await type_into(pilot, name, DURESS_PASSPHRASE)
    app.screen.query_one("#duress-set").scroll_visible(animate=False)
    await pilot.pause()
    await pilot.click("#duress-set")


DURESS_PASSPHRASE = "violet anchor drifting quietly seventeen"


@pytest.mark.parametrize(
    "start",
    [_autolock, _passphrase, _recovery_code, _trust, _untrust, _duress],
    ids=lambda f: f.__name__,
)
async def test_security_settings_ask_for_the_passphrase(tmp_path: Path, start: Start) -> None:
    field, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)
    for n in (1, 2):
        hq, _ = Vault.create(tmp_path / f"hq{n}", PASSPHRASE, kdf_params=WEAK, kind="hq")
        (tmp_path / f"hq{n}.card").write_text(identity.hq(hq.db).card_text())
        hq.lock()
    trust.trust_hq(field.db, (tmp_path / "hq1.card").read_text())
    keyslot_path = field.paths.keyslots
    field.lock()
    before = keyslot_path.read_bytes()
    attempts_path = field.paths.attempts
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await _settings(pilot, app)
        await start(pilot, app)
        counted = attempts_path.read_bytes()  # after the unlock
        await _answer(pilot, app, "a wrong passphrase, long enough")
        assert app.vault is not None
        assert keyslot_path.read_bytes() == before
        assert attempts_path.read_bytes() == counted  # a check is not a failed unlock
        assert settings.autolock_seconds(app.vault.db) == settings.DEFAULT_AUTOLOCK
        assert app.autolock_seconds == settings.DEFAULT_AUTOLOCK
        assert len(trust.trusted_hq_cards(app.vault.db)) == 1
        await start(pilot, app)
        await _answer(pilot, app, PASSPHRASE)
        name = start.__name__
        if name == "_duress":
            result = app.screen.query_one("#duress-result")
            await wait_for(pilot, lambda: "set" in str(result.render()))
            assert app.vault.has_duress_passphrase()
            assert "A duress" in str(app.screen.query_one("#duress-state").render())
        if name in ("_passphrase", "_recovery_code", "_duress"):
            await wait_for(pilot, lambda: keyslot_path.read_bytes() != before)
        if name == "_recovery_code":
            await wait_for(pilot, lambda: isinstance(app.screen, SecretOnceScreen))
        if name == "_passphrase":
            result = app.screen.query_one("#pass-result")
            await wait_for(pilot, lambda: "changed" in str(result.render()))
            assert app.vault.check_passphrase(NEW_PASSPHRASE)
        if name == "_autolock":
            assert settings.autolock_seconds(app.vault.db) == 600 == app.autolock_seconds
        if name in ("_trust", "_untrust"):
            n = len(trust.trusted_hq_cards(app.vault.db))
            assert n == (2 if name == "_trust" else 0)
        await pilot.pause()


@pytest.mark.parametrize(
    "ids",
    [
        ("#new", "#again", "#change", "#pass-result"),
        ("#duress-new", "#duress-again", "#duress-set", "#duress-result"),
    ],
    ids=["passphrase", "duress"],
)
@pytest.mark.parametrize(
    "typed,said",
    [
        ((DURESS_PASSPHRASE, DURESS_PASSPHRASE + "x"), "The two passphrases differ."),
        (("short", "short"), "Passphrase refused: "),
    ],
    ids=["differ", "weak"],
)
async def test_a_new_passphrase_is_refused_before_anything_is_asked(
    tmp_path: Path, ids: tuple[str, str, str, str], typed: tuple[str, str], said: str
) -> None:
    """The passphrase and the duress passphrase are checked the same way: typed twice
    alike and strong enough, else the section says why and asks nothing."""
    new, again, button, result = ids
    field, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)
    field.lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        await _settings(pilot, app)
        screen = app.screen
        for name, value in zip((new, again), typed, strict=True):
            screen.query_one(name).scroll_visible(animate=False)
            await pilot.pause()
            await type_into(pilot, name, value)
        screen.query_one(button).scroll_visible(animate=False)
        await pilot.pause()
        await pilot.click(button)
        await pilot.pause()
        assert app.screen is screen  # no passphrase dialog
        shown = str(screen.query_one(result).render())
        assert shown.startswith(said), shown

"""The main screens in Russian (and two in Tajik) at 80x24: Russian strings are longer,
and nothing may be cut off or pushed off screen. Same fixtures as test_ui_snapshots.py;
update with --snapshot-update on this file and read each SVG's text before accepting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fieldkit import i18n
from fieldkit.ui.screens.dialogs import ConfirmScreen
from tests.conftest import PASSPHRASE
from tests.test_ui_snapshots import (
    SIZE,
    _app,
    _field_vault,
    _fresh,
    _unlock,
    fixed_ids,  # noqa: F401 - the autouse fixture of the English snapshots
)
from tests.ui_helpers import wait_for

SnapCompare = Callable[..., bool]


@pytest.fixture(autouse=True)
def russian() -> None:
    i18n.set_language("ru")  # conftest sets English back after each test


def test_setup_welcome_ru(snap_compare: SnapCompare) -> None:
    root = _fresh("ru-setup-welcome")
    assert snap_compare(_app(root), terminal_size=SIZE)


def test_setup_passphrase_ru(snap_compare: SnapCompare) -> None:
    root = _fresh("ru-setup-passphrase")

    async def before(pilot: Any) -> None:
        await pilot.click("#to-passphrase")
        pilot.app.screen.query_one("#pass1").value = "short"
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_unlock_wrong_passphrase_ru(snap_compare: SnapCompare) -> None:
    root = _fresh("ru-unlock-wrong")
    _field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        pilot.app.screen.query_one("#passphrase").value = "a wrong passphrase here"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "Неверный" in str(pilot.app.screen.query_one("#message").render())
        )

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_recover_screen_ru(snap_compare: SnapCompare) -> None:
    root = _fresh("ru-recover")
    _field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        await pilot.click("#recover")
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_records_list_ru(snap_compare: SnapCompare) -> None:
    root = _fresh("ru-records")
    _field_vault(root)
    assert snap_compare(_app(root), terminal_size=SIZE, run_before=_unlock)


@pytest.mark.parametrize("tab", ["interview", "persons", "incidents", "consent", "attachments"])
def test_editor_ru(snap_compare: SnapCompare, tab: str) -> None:
    root = _fresh(f"ru-editor-{tab}")
    _field_vault(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        table = pilot.app.screen.query_one("#table")
        table.focus()
        table.move_cursor(row=2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "EditorScreen")
        await wait_for(pilot, lambda: getattr(pilot.app.focused, "id", "") == "f-pseudonym")
        await pilot.pause()
        pilot.app.screen.query_one("#tabs").active = f"tab-{tab}"
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize(
    "key,name", [("ctrl+t", "export"), ("ctrl+r", "receipts"), ("ctrl+o", "settings")]
)
def test_field_screens_ru(snap_compare: SnapCompare, key: str, name: str) -> None:
    root = _fresh(f"ru-field-{name}")
    _field_vault(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        await pilot.press(key)
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize("tab", ["import", "devices", "testimony", "export"])
def test_hq_screens_ru(snap_compare: SnapCompare, tab: str) -> None:
    root = _fresh(f"ru-hq-{tab}")
    _field_vault(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        pilot.app.screen.query_one("#tabs").active = f"tab-{tab}"
        await pilot.pause()

    assert snap_compare(_app(root, "hq"), terminal_size=SIZE, run_before=before)


def test_records_list_tg(snap_compare: SnapCompare) -> None:
    i18n.set_language("tg")
    root = _fresh("tg-records")
    _field_vault(root)
    assert snap_compare(_app(root), terminal_size=SIZE, run_before=_unlock)


def test_setup_welcome_tg(snap_compare: SnapCompare) -> None:
    i18n.set_language("tg")
    root = _fresh("tg-setup-welcome")
    assert snap_compare(_app(root), terminal_size=SIZE)


@pytest.mark.parametrize("tab", ["persons", "incidents"])
def test_editor_tg(snap_compare: SnapCompare, tab: str) -> None:
    i18n.set_language("tg")
    root = _fresh(f"tg-editor-{tab}")
    _field_vault(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        table = pilot.app.screen.query_one("#table")
        table.focus()
        table.move_cursor(row=2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "EditorScreen")
        await wait_for(pilot, lambda: getattr(pilot.app.focused, "id", "") == "f-pseudonym")
        await pilot.pause()
        pilot.app.screen.query_one("#tabs").active = f"tab-{tab}"
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_recovery_code_dialog_ru(snap_compare: SnapCompare) -> None:
    root = _fresh("ru-recovery-code")

    async def before(pilot: Any) -> None:
        await pilot.click("#to-passphrase")
        pilot.app.screen.query_one("#pass1").value = PASSPHRASE
        pilot.app.screen.query_one("#pass2").value = PASSPHRASE
        await pilot.click("#create")
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "SecretOnceScreen")
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_purge_confirm_dialog_ru(snap_compare: SnapCompare) -> None:
    root = _fresh("ru-confirm")
    _field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        question = i18n._(
            "Remove {n} delivered record(s) and their attachments from this laptop? HQ keeps them."
        ).format(n=2)
        pilot.app.push_screen(ConfirmScreen(question, yes=i18n._("Purge")))
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)

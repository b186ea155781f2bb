"""Snapshot tests (pytest-textual-snapshot): every screen at 80x24.

The scenes (vault, app, what the pilot does first) live in tests/ui_scenes.py, shared with
the Russian and Tajik snapshots (tests/test_ui_snapshots_ru.py). Update after an intended
change with: .venv/bin/python -m pytest tests/test_ui_snapshots.py --snapshot-update, then
look at the SVGs in tests/__snapshots__.
"""

from __future__ import annotations

from typing import Any

import pytest

from fieldkit.services import identity
from fieldkit.services.vault import Vault
from tests import ui_scenes as scenes
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import FakeClock, deterministic_random, wait_for
from tests.ui_scenes import (
    SIZE,
    SnapCompare,
    fixed_ids,  # noqa: F401 - autouse: ids from a counter, steady cursors
    take,
)

_app = scenes.make_app
_fresh = scenes.fresh
_field_vault = scenes.field_vault
_unlock = scenes.unlock
_at_hq = scenes.at_hq


def test_setup_welcome(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.setup_welcome("setup-welcome"))


def test_setup_passphrase(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.setup_passphrase("setup-passphrase"))


def test_unlock(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.unlock_screen("unlock"))


def test_unlock_wrong_passphrase(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.unlock_wrong("unlock-wrong"))


def test_records_list(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.records("records"))


@pytest.mark.parametrize(
    "tab", ["interview", "persons", "incidents", "consent", "narrative", "attachments", "history"]
)
def test_editor(snap_compare: SnapCompare, tab: str) -> None:
    assert take(snap_compare, scenes.editor(f"editor-{tab}", tab))


@pytest.mark.parametrize(
    "key,name", [("ctrl+t", "export"), ("ctrl+r", "receipts"), ("ctrl+o", "settings")]
)
def test_field_screens(snap_compare: SnapCompare, key: str, name: str) -> None:
    assert take(snap_compare, scenes.field_screen(f"field-{name}", key))


@pytest.mark.parametrize("tab", ["import", "devices", "testimony", "export", "counts"])
def test_hq_screens(snap_compare: SnapCompare, tab: str) -> None:
    assert take(snap_compare, scenes.hq_tab(f"hq-{tab}", tab))


def test_confirm_dialog(snap_compare: SnapCompare) -> None:
    question = "Remove 2 delivered record(s) from this laptop?"
    assert take(snap_compare, scenes.confirm("confirm", question, "Purge"))


def test_recovery_code_dialog(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.recovery_code("recovery-code"))


def test_records_list_light_theme(snap_compare: SnapCompare) -> None:
    root = _fresh("records-light")
    _field_vault(root)
    app = _app(root)
    app.theme = "textual-light"
    assert snap_compare(app, terminal_size=SIZE, run_before=_unlock)


def test_records_list_large_terminal(snap_compare: SnapCompare) -> None:
    root = _fresh("records-large")
    _field_vault(root)
    assert snap_compare(_app(root), terminal_size=(140, 40), run_before=_unlock)


def test_recover_screen(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.recover("recover"))


def test_file_picker(snap_compare: SnapCompare) -> None:
    root = _fresh("picker")
    _field_vault(root, with_hq=False)
    (root / "start" / "interview-audio.ogg").write_bytes(b"OggS")
    (root / "start" / "hq.card").write_text("card")

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.dialogs import FilePickerScreen

        await _unlock(pilot)
        pilot.app.push_screen(FilePickerScreen(root / "start", "Add a file"))
        await pilot.pause(0.5)

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_hq_record_view(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.hq_record_view("hq-view"))


def test_hq_custody_view(snap_compare: SnapCompare) -> None:
    """Ctrl+K on a received record: its custody report, the device's signed capture and
    export, then HQ's import (docs/custody.md)."""
    root = _fresh("hq-custody")
    rid = _at_hq(root)

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.hq import RecordViewScreen

        await _unlock(pilot)
        pilot.app.push_screen(RecordViewScreen(rid))
        await pilot.pause()
        await pilot.press("ctrl+k")
        await pilot.pause()
        text = pilot.app.screen.shown_text()
        assert "captured (hashed at intake)" in text and "imported at HQ" in text
        assert "Verified: every entry's signature and chain link checks." in text

    assert snap_compare(_app(root, "hq"), terminal_size=SIZE, run_before=before)


def test_hq_extract_dialog(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.hq_extract("hq-extract"))


def test_hq_counts(snap_compare: SnapCompare) -> None:
    assert take(snap_compare, scenes.hq_counts("hq-counts-drawn"))


def test_hq_import_report(snap_compare: SnapCompare) -> None:
    """Each bundle's verdict first, the report wrapped at 80 columns."""
    assert take(snap_compare, scenes.hq_import_report("hq-import-report"))


def test_card_check_dialog(snap_compare: SnapCompare) -> None:
    root = _fresh("card-check")
    _field_vault(root, with_hq=False)
    hq, _ = Vault.create(
        root / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ [b]Almaty[/b]",
        random_bytes=deterministic_random(), now=FakeClock(),  # type: ignore[arg-type]
    )
    card = identity.hq(hq.db).card
    hq.lock()

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.dialogs import CardCheckScreen

        await _unlock(pilot)
        pilot.app.push_screen(
            CardCheckScreen("HQ card: {name}", card, "Does it match what HQ reads to you?")
        )
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_passphrase_check_dialog(snap_compare: SnapCompare) -> None:
    root = _fresh("passphrase-check")
    _field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.dialogs import PassphraseCheckScreen

        await _unlock(pilot)
        pilot.app.push_screen(PassphraseCheckScreen("Auto-lock after 600 seconds."))
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_export_without_consent_dialog(snap_compare: SnapCompare) -> None:
    """Export asks about records lacking consent; holding them back is the focused default."""
    root = _fresh("export-consent")
    _field_vault(root)

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.export import WithoutConsentScreen

        await _unlock(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()
        await pilot.click("#go")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, WithoutConsentScreen))
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_metadata_found_after_attaching_a_photo(snap_compare: SnapCompare) -> None:
    """What a fieldworker sees after attaching a photo with GPS, serial and author
    (services/media.py): the findings with their values, and what happens to them."""
    from fieldkit.services import media
    from fieldkit.services import media_found as mf
    from fieldkit.ui.screens.media_found import MetadataFoundScreen

    root = _fresh("metadata-found")
    _field_vault(root, with_hq=False)
    found = media.Findings(
        media.READ,
        "image",
        "JPEG",
        (
            mf.Finding(mf.GPS, "55.7558, 37.6173"),
            mf.Finding(mf.SERIAL, "SN-4242"),
            mf.Finding(mf.DEVICE, "Canon"),
            mf.Finding(mf.DEVICE, "EOS 5D"),
            mf.Finding(mf.AUTHOR, "\x1b[31mIvan\x1b[0m [b]Petrov[/b]"),
            mf.Finding(mf.CREATED, "2026:04:02 10:15:00"),
            mf.Finding(mf.SOFTWARE, "Firmware 1.0.3"),
        ),
    )

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        pilot.app.push_screen(MetadataFoundScreen(found))
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MetadataFoundScreen))
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)

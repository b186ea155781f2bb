"""Snapshot tests (pytest-textual-snapshot): every screen at 80x24.

Everything that varies between runs is fixed: the vault lives in a fixed folder, time is
a fixed clock, ids and keys come from a counter, and the data is made by the services.
Update after an intended change with: .venv/bin/python -m pytest tests/test_ui_snapshots.py
--snapshot-update, then look at the SVGs in tests/__snapshots__.
"""

from __future__ import annotations

import io
import itertools
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TextArea

from fieldkit.services import identity, ids, model, trust
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.context import AppContext
from fieldkit.ui.screens.dialogs import ConfirmScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import FakeClock, deterministic_random, wait_for

BASE = Path("/tmp/fieldkit-snapshots")
SIZE = (80, 24)


@pytest.fixture(autouse=True)
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    counter = itertools.count(1)
    monkeypatch.setattr(
        ids, "new_id", lambda prefix, random_bytes=None: f"{prefix}{next(counter):026d}"
    )
    # A blinking cursor is on or off depending on when the picture is taken.
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)
    yield


def _fresh(name: str) -> Path:
    root = BASE / name
    shutil.rmtree(root, ignore_errors=True)
    (root / "start").mkdir(parents=True)
    return root


def _app(root: Path, vault: str = "vault") -> FieldkitApp:
    clock = FakeClock()
    return FieldkitApp(
        AppContext(
            root / vault,
            kdf_params=WEAK,
            now=clock,
            monotonic=clock,
            random_bytes=deterministic_random(),  # type: ignore[arg-type]
            start_dir=root / "start",
            removable_root=root / "no-drives",
            autosave_seconds=3600,
            idle_check_seconds=3600,
        )
    )


def _field_vault(root: Path, *, with_hq: bool = True) -> str:
    clock = FakeClock()
    rb: Any = deterministic_random()
    v, _ = Vault.create(
        root / "vault", PASSPHRASE, kdf_params=WEAK, name="FW-03 laptop", random_bytes=rb, now=clock
    )
    if with_hq:
        hq, _ = Vault.create(
            root / "hq",
            PASSPHRASE,
            kdf_params=WEAK,
            kind="hq",
            name="HQ Almaty",
            random_bytes=rb,
            now=clock,
        )
        trust.trust_hq(v.db, identity.hq(hq.db).card_text(), now=clock)
        trust.enroll(hq.db, identity.device(v.db).card_text(), now=clock)
        hq.lock()
    rs = RecordService(v.db, now=clock)
    doc = model.template()
    rid = rs.add(doc)
    for i, (name, risk, itype) in enumerate(
        [("Witness A-2", "low", "surveillance"), ("Witness B-5", "critical", "expulsion_order")]
    ):
        d = model.template()
        d.update(pseudonym=name, risk=risk, narrative=f"Показания {i}")
        d["incidents"] = [dict(d["incidents"][0], type=itype)]
        if i == 0:  # consent not recorded: marked in the list, asked about at export
            d["consent"].update(obtained=None, method="", obtained_on=None, obtained_by="")
        rs.add(d)
    AttachmentService(v.db, now=clock).add_stream(
        rid,
        io.BytesIO(b"\xff\xd8" + bytes(5000)),
        filename="expulsion-order.jpg",
        media_type="image/jpeg",
        description="Expulsion order, page 1",
    )
    v.lock()
    return rid


async def _unlock(pilot: Any) -> None:
    pilot.app.screen.query_one("#passphrase").value = PASSPHRASE
    await pilot.press("enter")
    await wait_for(
        pilot,
        lambda: (
            pilot.app.vault is not None
            and len(pilot.app.screen_stack) == 2
            and pilot.app.screen.__class__.__name__ in ("RecordsScreen", "HqScreen")
        ),
    )
    await pilot.pause()


SnapCompare = Callable[..., bool]


def test_setup_welcome(snap_compare: SnapCompare) -> None:
    root = _fresh("setup-welcome")
    assert snap_compare(_app(root), terminal_size=SIZE)


def test_setup_passphrase(snap_compare: SnapCompare) -> None:
    root = _fresh("setup-passphrase")

    async def before(pilot: Any) -> None:
        await pilot.click("#to-passphrase")
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False  # a steady cursor
        pilot.app.screen.query_one("#pass1").value = "short"
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_unlock(snap_compare: SnapCompare) -> None:
    root = _fresh("unlock")
    _field_vault(root, with_hq=False)
    assert snap_compare(_app(root), terminal_size=SIZE)


def test_unlock_wrong_passphrase(snap_compare: SnapCompare) -> None:
    root = _fresh("unlock-wrong")
    _field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        pilot.app.screen.query_one("#passphrase").value = "a wrong passphrase here"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "Wrong" in str(pilot.app.screen.query_one("#message").render())
        )

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_records_list(snap_compare: SnapCompare) -> None:
    root = _fresh("records")
    _field_vault(root)
    assert snap_compare(_app(root), terminal_size=SIZE, run_before=_unlock)


@pytest.mark.parametrize(
    "tab", ["interview", "persons", "incidents", "consent", "narrative", "attachments", "history"]
)
def test_editor(snap_compare: SnapCompare, tab: str) -> None:
    root = _fresh(f"editor-{tab}")
    _field_vault(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        table = pilot.app.screen.query_one("#table")
        table.focus()
        table.move_cursor(row=2)
        await pilot.press("enter")
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "EditorScreen")
        # The editor focuses the pseudonym once mounted, which shows its tab: wait for it.
        await wait_for(pilot, lambda: getattr(pilot.app.focused, "id", "") == "f-pseudonym")
        await pilot.pause()
        pilot.app.screen.query_one("#tabs").active = f"tab-{tab}"
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize(
    "key,name", [("ctrl+t", "export"), ("ctrl+r", "receipts"), ("ctrl+o", "settings")]
)
def test_field_screens(snap_compare: SnapCompare, key: str, name: str) -> None:
    root = _fresh(f"field-{name}")
    _field_vault(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        await pilot.press(key)
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize("tab", ["import", "devices", "testimony", "export", "counts"])
def test_hq_screens(snap_compare: SnapCompare, tab: str) -> None:
    root = _fresh(f"hq-{tab}")
    _field_vault(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        pilot.app.screen.query_one("#tabs").active = f"tab-{tab}"
        await pilot.pause()

    assert snap_compare(_app(root, "hq"), terminal_size=SIZE, run_before=before)


def test_confirm_dialog(snap_compare: SnapCompare) -> None:
    root = _fresh("confirm")
    _field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        pilot.app.push_screen(
            ConfirmScreen("Remove 2 delivered record(s) from this laptop?", yes="Purge")
        )
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


def test_recovery_code_dialog(snap_compare: SnapCompare) -> None:
    root = _fresh("recovery-code")

    async def before(pilot: Any) -> None:
        await pilot.click("#to-passphrase")
        pilot.app.screen.query_one("#pass1").value = PASSPHRASE
        pilot.app.screen.query_one("#pass2").value = PASSPHRASE
        await pilot.click("#create")
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "SecretOnceScreen")
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


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
    root = _fresh("recover")
    _field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        await pilot.click("#recover")
        await pilot.pause()

    assert snap_compare(_app(root), terminal_size=SIZE, run_before=before)


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


def _bundle(root: Path) -> Path:
    """The field vault's testimony as a bundle, made the way it travels."""
    from fieldkit.services import export as export_svc

    field = Vault.unlock(root / "vault", PASSPHRASE)
    out = root / "start" / "3f9a2c1e.age"
    export_svc.export(
        field.db,
        out,
        include_without_consent=True,  # as a fieldworker who confirmed
        now=FakeClock(),
        random_bytes=deterministic_random(),  # type: ignore[arg-type]
    )
    field.lock()
    return out


def _at_hq(root: Path) -> str:
    """A field vault whose testimony HQ has imported; the first record's id."""
    from fieldkit.services import hq_import

    rid = _field_vault(root)
    bundle = _bundle(root)
    hq = Vault.unlock(root / "hq", PASSPHRASE)
    hq_import.import_bundle(hq.db, bundle, now=FakeClock())
    hq.lock()
    return rid


def test_hq_record_view(snap_compare: SnapCompare) -> None:
    root = _fresh("hq-view")
    rid = _at_hq(root)

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.hq import RecordViewScreen

        await _unlock(pilot)
        pilot.app.push_screen(RecordViewScreen(rid))
        await pilot.pause()

    assert snap_compare(_app(root, "hq"), terminal_size=SIZE, run_before=before)


def test_hq_extract_dialog(snap_compare: SnapCompare) -> None:
    root = _fresh("hq-extract")
    rid = _at_hq(root)

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.hq import RecordViewScreen

        await _unlock(pilot)
        pilot.app.push_screen(RecordViewScreen(rid))
        await pilot.pause()
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "ExtractScreen")
        await pilot.pause()

    assert snap_compare(_app(root, "hq"), terminal_size=SIZE, run_before=before)


def test_hq_counts(snap_compare: SnapCompare) -> None:
    root = _fresh("hq-counts-drawn")
    _at_hq(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        screen = pilot.app.screen
        screen.query_one("#tabs").active = "tab-counts"
        await pilot.pause()
        await pilot.click("#count")
        await wait_for(pilot, lambda: screen.counts is not None)
        await pilot.pause()

    assert snap_compare(_app(root, "hq"), terminal_size=SIZE, run_before=before)


def test_hq_import_report(snap_compare: SnapCompare) -> None:
    """Each bundle's verdict first, the report wrapped at 80 columns."""
    root = _fresh("hq-import-report")
    _field_vault(root)
    bundle = _bundle(root)

    async def before(pilot: Any) -> None:
        await _unlock(pilot)
        screen = pilot.app.screen
        for path in (bundle, root / "start" / "missing.age"):
            screen.query_one("#bundle-path").value = str(path)
            await pilot.click("#add-bundle")
        await pilot.click("#import")
        await wait_for(pilot, lambda: len(screen.report_lines) >= 2)
        pilot.app.set_focus(None)
        await pilot.pause()

    assert snap_compare(_app(root, "hq"), terminal_size=SIZE, run_before=before)


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

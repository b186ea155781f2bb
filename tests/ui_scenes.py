"""The screens the snapshot tests take, each as a scene: a vault made by the services in a
fixed folder, an app on it, and what the pilot does before the picture is taken. English
(tests/test_ui_snapshots.py) and Russian/Tajik (tests/test_ui_snapshots_ru.py) take the
same scenes; only the language and the folder name differ.

Everything that varies between runs is fixed: the vault lives in a fixed folder, time is
a fixed clock, ids and keys come from a counter (`fixed_ids`, which both test modules use
as an autouse fixture), and the data is made by the services.
"""

from __future__ import annotations

import io
import itertools
import shutil
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, TextArea

from fieldkit import i18n
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

Before = Callable[[Any], Awaitable[None]]
SnapCompare = Callable[..., bool]


@dataclass(frozen=True)
class Scene:
    app: FieldkitApp
    before: Before | None = None


def take(snap_compare: SnapCompare, scene: Scene, size: tuple[int, int] = SIZE) -> bool:
    return snap_compare(scene.app, terminal_size=size, run_before=scene.before)


@pytest.fixture(autouse=True)  # in every module that imports it
def fixed_ids(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    counter = itertools.count(1)
    monkeypatch.setattr(
        ids, "new_id", lambda prefix, random_bytes=None: f"{prefix}{next(counter):026d}"
    )
    # A blinking cursor is on or off depending on when the picture is taken.
    monkeypatch.setattr(Input, "cursor_blink", False)
    monkeypatch.setattr(TextArea, "cursor_blink", False)
    yield


# ---- vaults ---------------------------------------------------------------------------


def fresh(name: str) -> Path:
    root = BASE / name
    shutil.rmtree(root, ignore_errors=True)
    (root / "start").mkdir(parents=True)
    return root


def make_app(root: Path, vault: str = "vault") -> FieldkitApp:
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


def field_vault(root: Path, *, with_hq: bool = True) -> str:
    """A field vault with three records and an attachment (and an HQ vault that trusts
    it both ways); the first record's id."""
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


def bundle(root: Path) -> Path:
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


def at_hq(root: Path) -> str:
    """A field vault whose testimony HQ has imported; the first record's id."""
    from fieldkit.services import hq_import

    rid = field_vault(root)
    made = bundle(root)
    hq = Vault.unlock(root / "hq", PASSPHRASE)
    hq_import.import_bundle(hq.db, made, now=FakeClock())
    hq.lock()
    return rid


async def unlock(pilot: Any) -> None:
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


# ---- scenes ---------------------------------------------------------------------------


def setup_welcome(name: str) -> Scene:
    return Scene(make_app(fresh(name)))


def setup_passphrase(name: str) -> Scene:
    async def before(pilot: Any) -> None:
        await pilot.click("#to-passphrase")
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False  # a steady cursor
        pilot.app.screen.query_one("#pass1").value = "short"
        await pilot.pause()

    return Scene(make_app(fresh(name)), before)


def unlock_screen(name: str) -> Scene:
    root = fresh(name)
    field_vault(root, with_hq=False)
    return Scene(make_app(root))


def unlock_wrong(name: str) -> Scene:
    root = fresh(name)
    field_vault(root, with_hq=False)
    wrong = i18n._("Wrong passphrase. Check the keyboard layout and Caps Lock, then try again.")

    async def before(pilot: Any) -> None:
        pilot.app.screen.query_one("#passphrase").value = "a wrong passphrase here"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: wrong[:12] in str(pilot.app.screen.query_one("#message").render())
        )

    return Scene(make_app(root), before)


def recover(name: str) -> Scene:
    root = fresh(name)
    field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        await pilot.click("#recover")
        await pilot.pause()

    return Scene(make_app(root), before)


def records(name: str) -> Scene:
    root = fresh(name)
    field_vault(root)
    return Scene(make_app(root), unlock)


def editor(name: str, tab: str) -> Scene:
    """The third record (Witness B-5) open in the editor, `tab` shown."""
    root = fresh(name)
    field_vault(root)

    async def before(pilot: Any) -> None:
        await unlock(pilot)
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

    return Scene(make_app(root), before)


def field_screen(name: str, key: str) -> Scene:
    """A screen of the records list's keys (export, receipts, settings)."""
    root = fresh(name)
    field_vault(root)

    async def before(pilot: Any) -> None:
        await unlock(pilot)
        await pilot.press(key)
        await pilot.pause()

    return Scene(make_app(root), before)


def hq_tab(name: str, tab: str) -> Scene:
    root = fresh(name)
    field_vault(root)

    async def before(pilot: Any) -> None:
        await unlock(pilot)
        pilot.app.screen.query_one("#tabs").active = f"tab-{tab}"
        await pilot.pause()

    return Scene(make_app(root, "hq"), before)


def confirm(name: str, question: str, yes: str) -> Scene:
    root = fresh(name)
    field_vault(root, with_hq=False)

    async def before(pilot: Any) -> None:
        await unlock(pilot)
        pilot.app.push_screen(ConfirmScreen(question, yes=yes))
        await pilot.pause()

    return Scene(make_app(root), before)


def recovery_code(name: str) -> Scene:
    async def before(pilot: Any) -> None:
        await pilot.click("#to-passphrase")
        pilot.app.screen.query_one("#pass1").value = PASSPHRASE
        pilot.app.screen.query_one("#pass2").value = PASSPHRASE
        await pilot.click("#create")
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "SecretOnceScreen")
        await pilot.pause()

    return Scene(make_app(fresh(name)), before)


def hq_record_view(name: str) -> Scene:
    root = fresh(name)
    rid = at_hq(root)

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.hq import RecordViewScreen

        await unlock(pilot)
        pilot.app.push_screen(RecordViewScreen(rid))
        await pilot.pause()

    return Scene(make_app(root, "hq"), before)


def hq_extract(name: str) -> Scene:
    """The record view's extract dialog (Ctrl+E), asking for the reason."""
    root = fresh(name)
    rid = at_hq(root)

    async def before(pilot: Any) -> None:
        from fieldkit.ui.screens.hq import RecordViewScreen

        await unlock(pilot)
        pilot.app.push_screen(RecordViewScreen(rid))
        await pilot.pause()
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: pilot.app.screen.__class__.__name__ == "ExtractScreen")
        await pilot.pause()

    return Scene(make_app(root, "hq"), before)


def hq_counts(name: str) -> Scene:
    """The Counts tab after Count: the bar charts drawn."""
    root = fresh(name)
    at_hq(root)

    async def before(pilot: Any) -> None:
        await unlock(pilot)
        screen = pilot.app.screen
        screen.query_one("#tabs").active = "tab-counts"
        await pilot.pause()
        await pilot.click("#count")
        await wait_for(pilot, lambda: screen.counts is not None)
        await pilot.pause()

    return Scene(make_app(root, "hq"), before)


def hq_import_report(name: str) -> Scene:
    """Two bundles imported, one good and one missing: each verdict, wrapped at 80."""
    root = fresh(name)
    field_vault(root)
    made = bundle(root)

    async def before(pilot: Any) -> None:
        await unlock(pilot)
        screen = pilot.app.screen
        for path in (made, root / "start" / "missing.age"):
            screen.query_one("#bundle-path").value = str(path)
            await pilot.click("#add-bundle")
        await pilot.click("#import")
        await wait_for(pilot, lambda: len(screen.report_lines) >= 2)
        pilot.app.set_focus(None)
        await pilot.pause()

    return Scene(make_app(root, "hq"), before)

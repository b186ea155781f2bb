"""Hostile text in the app: names, pseudonyms, file names and the rest are data, never
markup, and no control character reaches the terminal (issue 9, section 2)."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, TabbedContent

from fieldkit.services import export as export_svc
from fieldkit.services import identity, model, trust
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.dialogs import ConfirmScreen
from fieldkit.ui.screens.editor import EditorScreen
from fieldkit.ui.screens.export import ExportScreen
from fieldkit.ui.screens.hq import HqScreen, RecordViewScreen
from fieldkit.ui.screens.receipts import ReceiptsScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.settings import SettingsScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, screen_text, type_into, wait_for


async def _unlock(pilot: Pilot[None], app: FieldkitApp, screen_type: type) -> None:
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, screen_type))


def _impostor_name(real_code: str) -> str:
    """A name that, as markup, would paint everything after it (the impostor's own code)
    in the background colour. (A name holding the real card's code is refused outright:
    tests/test_init_names.py.)"""
    del real_code
    return "HQ Almaty [#000000 on #000000]"


async def test_hq_card_dialog_shows_the_name_literally_and_the_cards_own_code(
    tmp_path: Path,
) -> None:
    real, _ = Vault.create(tmp_path / "real", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ")
    real_code = identity.hq(real.db).card.short_code
    real.lock()
    name = _impostor_name(real_code)
    fake, _ = Vault.create(tmp_path / "fake", PASSPHRASE, kdf_params=WEAK, kind="hq", name=name)
    fake_code = identity.hq(fake.db).card.short_code
    (tmp_path / "hq.card").write_text(identity.hq(fake.db).card_text())
    fake.lock()
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _unlock(pilot, app, RecordsScreen)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, SettingsScreen))
        await type_into(pilot, "#card", str(tmp_path / "hq.card"))
        await pilot.click("#trust")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        shown = screen_text(app)
        assert name in _joined(shown)
        assert fake_code in shown
        await pilot.click("#no")
        await pilot.pause()
        assert app.vault is not None and trust.trusted_hq_cards(app.vault.db) == []


async def test_device_card_dialog_at_hq_shows_the_cards_own_code(tmp_path: Path) -> None:
    real, _ = Vault.create(tmp_path / "real", PASSPHRASE, kdf_params=WEAK, name="FW-03")
    real_code = identity.device(real.db).card.short_code
    real.lock()
    name = _impostor_name(real_code)
    fake, _ = Vault.create(tmp_path / "fake", PASSPHRASE, kdf_params=WEAK, name=name)
    fake_code = identity.device(fake.db).card.short_code
    (tmp_path / "fw.card").write_text(identity.device(fake.db).card_text())
    fake.lock()
    Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq")[0].lock()
    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _unlock(pilot, app, HqScreen)
        app.screen.query_one("#tabs").active = "tab-devices"  # type: ignore[attr-defined]
        await pilot.pause()
        await type_into(pilot, "#device-card", str(tmp_path / "fw.card"))
        await pilot.click("#enroll")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        shown = screen_text(app)
        assert name in _joined(shown)
        assert fake_code in shown
        await pilot.click("#no")
        await pilot.pause()
        assert app.vault is not None and trust.devices(app.vault.db) == []


def _joined(shown: str) -> str:
    """The screen's lines with the dialog's borders and wrapping taken out."""
    import re

    parts = [re.sub(r"^[\s▊▎│┃█▀▄]+|[\s▊▎│┃█▀▄]+$", "", line) for line in shown.split("\n")]
    return " ".join(p for p in parts if p)


# ---- every screen, with hostile text in every field ---------------------------------------
TAIL = "[b][link=https://evil.example]L[/link][@click=app.quit]Q[/]\x1b[2J\x1b]52;c;ZXZpbA==\x07\x9b\u202e"
KEEP = {"schema", "status", "risk", "role", "type", "actor_type", "scope", "id", "related_to"}
KEEP |= {"earliest", "latest", "withdrawn_on", "victims", "languages", "roles", "method"}
KEEP |= {"obtained_on"}


def hostile(mark: str, *, controls: bool = True) -> str:
    """`[/b]` first: as markup it is an error (the records list crashed at every start)."""
    return f"[/b]{mark}" + (TAIL if controls else TAIL.split("\x1b")[0])


def hostile_doc(prefix: str, *, controls: bool = True) -> tuple[dict[str, Any], dict[str, str]]:
    """The template record with every free-text field hostile; returns it and each
    field's marker (short, so it is visible in a narrow column)."""
    doc = model.template()
    doc["incidents"][0]["type"] = "other"
    marks: dict[str, str] = {}
    counter = iter(range(1000))

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {k: v if k in KEEP else walk(v, f"{path}.{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str):
            mark = f"{prefix}{next(counter):02d}"
            marks[path.lstrip(".")] = mark
            return hostile(mark, controls=controls)
        return node

    out = walk(doc, "")
    out["interview"]["date"] = "2026-05-14"
    return out, marks


def shows(app: FieldkitApp, *texts: str) -> None:
    """Each text is on the screen, literally (and nothing there is a control char)."""
    seen = _joined(screen_text(app))
    for text in texts:
        assert text in seen, (text, seen)


async def test_every_screen_shows_hostile_text_literally(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The services may refuse some of this at intake; the app must not depend on it.
    monkeypatch.setattr(model, "validate", lambda doc: copy.deepcopy(doc))
    device_name = "[/b]DEV[b][@click=app.quit]x"
    hq_name = "[/b]HQN[b][link=https://evil.example]y"
    field, _ = Vault.create(tmp_path / "field", PASSPHRASE, kdf_params=WEAK, name=device_name)
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name=hq_name)
    trust.trust_hq(field.db, identity.hq(hq.db).card_text())
    trust.enroll(hq.db, identity.device(field.db).card_text())
    # A record that travels to HQ (markup only), and one that stays with controls too.
    sent, _ = hostile_doc("S", controls=False)
    RecordService(field.db).add(sent)
    bundle = tmp_path / "bundle[b]x[@click=app.quit]\x1b[2J.fkb"
    export_svc.export(field.db, bundle)
    doc, marks = hostile_doc("F")
    rs = RecordService(field.db)
    rid = rs.add(doc)
    rs.edit(rid, doc | {"risk": "critical"})
    att = AttachmentService(field.db).add_stream(rid, io.BytesIO(b"x" * 10), filename="a.jpg")
    with field.db.transaction():
        field.db.execute(
            "UPDATE attachments SET filename=?, media_type=?, description=? WHERE id=?",
            (hostile("FN"), hostile("MT"), hostile("DS"), att.id),
        )
    RecordService(hq.db).add(hostile_doc("H")[0])
    field.lock()
    hq.lock()
    p = marks["persons[0].pseudonym"]

    app = make_app(tmp_path / "field", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock(pilot, app, RecordsScreen)
        shows(app, "[/b]" + marks["pseudonym"], "[/b]S")
        table = app.screen.query_one("#table", DataTable)
        table.focus()
        table.move_cursor(row=[r.value for r in table.rows].index(rid))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        editor = app.screen
        shows(app, "[/b]" + marks["pseudonym"] + "[b][link=", "␛[2J")  # the field, and the title
        for tab in ("persons", "incidents", "consent", "narrative", "attachments", "history"):
            editor.query_one("#tabs", TabbedContent).active = f"tab-{tab}"
            await pilot.pause()
            screen_text(app)
        editor.query_one("#tabs", TabbedContent).active = "tab-persons"
        await pilot.pause()
        # The side list wraps the entry beside the Roles tick list: read it from the list,
        # and see its start drawn literally.
        entry = str(editor.query_one("#persons", OptionList).get_option_at_index(0).prompt)
        assert entry.startswith(f"p1: [/b]{p}[b][link=")
        shows(app, "p1:", f"[/b]{p}[b][link=ht", "[/b]" + marks["persons[0].sensitive.real_name"])
        editor.query_one("#tabs", TabbedContent).active = "tab-incidents"
        await pilot.pause()
        shows(app, "[/b]" + marks["incidents[0].type_other"])
        editor.query_one("#tabs", TabbedContent).active = "tab-narrative"
        await pilot.pause()
        shows(app, "[/b]" + marks["narrative"] + "[b][link=")
        editor.query_one("#tabs", TabbedContent).active = "tab-attachments"
        await pilot.pause()
        shows(app, "[/b]FN[b]", "[/b]MT[b]", "[/b]DS[b]")
        editor.query_one("#tabs", TabbedContent).active = "tab-history"
        await pilot.pause()
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        for key, screen_type in (
            ("ctrl+t", ExportScreen),
            ("ctrl+r", ReceiptsScreen),
            ("ctrl+o", SettingsScreen),
        ):
            await pilot.press(key)
            await wait_for(pilot, lambda: isinstance(app.screen, screen_type))  # noqa: B023
            await pilot.pause()
            if screen_type is SettingsScreen:
                # Settings starts with this device's card; the trusted HQ cards follow.
                app.screen.query_one("#hq-cards").scroll_visible(animate=False)
                await pilot.pause()
            if screen_type is not ReceiptsScreen:
                shows(app, hq_name)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        assert app.is_running

    app = make_app(tmp_path / "hq", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock(pilot, app, HqScreen)
        screen = app.screen
        missing = tmp_path / "missing[b]\x1b]0;title\x07.fkb"
        for path in (bundle, missing):
            screen.query_one("#bundle-path", Input).value = str(path)
            await pilot.click("#add-bundle")
        await pilot.pause()
        shows(app, "bundle[b]x[@click=app.quit]\\x1b[2J.fkb", "missing[b]\\x1b]0;title\\x07.fkb")
        await pilot.click("#import")
        await wait_for(pilot, lambda: len(screen.report_lines) >= 2)
        await pilot.pause()
        shows(app, device_name, "bundle[b]x[@click=app.quit]\\x1b[2J.fkb")
        shows(app, "missing[b]\\x1b]0;title\\x07")
        app.set_focus(None)  # else the focused button takes its tab back
        screen.query_one("#tabs", TabbedContent).active = "tab-devices"
        await pilot.pause()
        shows(app, device_name)
        screen.query_one("#tabs", TabbedContent).active = "tab-testimony"
        await pilot.pause()
        shows(app, "[/b]S", "[/b]H")
        await pilot.click("#device-filter")
        await pilot.pause()
        shows(app, "[/b]DEV[b][@click=app.qu")
        await pilot.press("escape")
        table = screen.query_one("#hq-table", DataTable)
        table.focus()
        for row in range(table.row_count):
            table.move_cursor(row=row)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RecordViewScreen))
            await pilot.pause()
            shows(app, "Record Id: ")
            view = app.screen.shown_text()
            assert "Narrative" in view and "[/b]" in view and "\x1b" not in view
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen)
        shows(app, "[/b]H")
        # Counts and the export's filters: labels from bundles, shown literally.
        app.set_focus(None)
        screen.query_one("#tabs", TabbedContent).active = "tab-counts"
        await pilot.pause()
        await pilot.click("#count")
        await wait_for(pilot, lambda: screen.counts is not None)
        await pilot.pause()
        shows(app, "incidents in 2 records", "[/b]H")
        app.set_focus(None)
        screen.query_one("#tabs", TabbedContent).active = "tab-export"
        await pilot.pause()
        screen.query_one("#f-device").expanded = True
        await pilot.pause()
        shows(app, "[/b]DEV[b][@click=app.qu")
        screen.query_one("#f-device").expanded = False
        assert app.is_running

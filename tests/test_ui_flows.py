"""Pilot tests: complete flows through the app, as a fieldworker and HQ would use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, TextArea

from fieldkit.services import identity, trust
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.dialogs import SecretOnceScreen
from fieldkit.ui.screens.editor import EditorScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.screens.setup import SetupScreen
from fieldkit.ui.screens.unlock import UnlockScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import FakeClock, make_app, type_into, wait_for


async def _unlock_and_new_record(pilot: Pilot[None], app: FieldkitApp) -> None:
    await type_into(pilot, "#passphrase", PASSPHRASE)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))


async def test_first_run_setup(tmp_path: Path) -> None:
    hq, _ = Vault.create(tmp_path / "hq", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ A")
    (tmp_path / "hq.card").write_text(identity.hq(hq.db).card_text())
    hq.lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        assert isinstance(app.screen, SetupScreen)
        await type_into(pilot, "#name", "FW-03 laptop")
        await pilot.click("#to-passphrase")
        await type_into(pilot, "#pass1", "short")
        assert "too weak" in str(app.screen.query_one("#strength").render())
        await type_into(pilot, "#pass1", PASSPHRASE)
        await type_into(pilot, "#pass2", PASSPHRASE)
        await pilot.click("#create")
        # The screen is pushed before it is composed: wait for its content.
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, SecretOnceScreen) and app.screen.query("#secret"),
        )
        code = str(app.screen.query_one("#secret").render())
        assert len(code.replace("-", "").strip()) == 32
        assert app.screen.query_one("#continue").disabled
        app.screen.query_one("#ack", Checkbox).value = True
        await pilot.pause()
        await pilot.click("#continue")
        await pilot.pause()
        await type_into(pilot, "#card-path", str(tmp_path / "hq.card"))
        await pilot.click("#import-card")
        await pilot.pause()
        await pilot.click("#yes")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.pause()  # let the new screen finish mounting before the app exits
        assert app.vault is not None
        assert [c.name for c in trust.trusted_hq_cards(app.vault.db)] == ["HQ A"]
        await pilot.pause()  # let the new screen's header mount before the app exits


async def test_unlock_wrong_passphrase_then_right(tmp_path: Path) -> None:
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, UnlockScreen)
        await type_into(pilot, "#passphrase", "not the passphrase at all")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "Wrong passphrase" in str(app.screen.query_one("#message").render())
        )
        assert app.vault is None
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))


async def test_add_testimony_and_search(tmp_path: Path) -> None:
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    (tmp_path / "order.jpg").write_bytes(b"\xff\xd8" + bytes(200_000))
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock_and_new_record(pilot, app)
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        await type_into(pilot, "#f-pseudonym", "Witness K-9")
        await type_into(pilot, "#f-date", "2026-05-14")
        await type_into(pilot, "#f-languages", "tg, ru")
        # a relative
        editor.query_one("#tabs").active = "tab-persons"
        await pilot.pause()
        await pilot.click("#add-person")
        await type_into(pilot, "#p-pseudonym", "K-9")
        editor.query_one("#p-roles").select("informant")
        await pilot.click("#add-person")
        editor.query_one("#p-roles").deselect("victim").select("relative")
        await pilot.pause()
        await type_into(pilot, "#p-relationship", "mother")
        editor.query_one("#p-related").value = "p1"
        await type_into(pilot, "#p-real-name", "Гулноза Раҳимова")
        # two incidents
        editor.query_one("#tabs").active = "tab-incidents"
        await pilot.pause()
        await pilot.click("#add-incident")
        editor.query_one("#i-victims").select("p1")
        await type_into(pilot, "#i-date", "2026-04-02")
        await type_into(pilot, "#i-date-text", "2 April")
        await type_into(pilot, "#i-fine-amount", "15000")
        await type_into(pilot, "#i-fine-currency", "RUB")
        await pilot.click("#add-incident")
        editor.query_one("#i-type").value = "family_pressure"
        await pilot.pause()
        editor.query_one("#i-victims").select("p2")
        await type_into(pilot, "#i-date", "2026-04-01..2026-04-10")
        await type_into(pilot, "#i-date-text", "early April")
        # narrative in Cyrillic and Tajik
        editor.query_one("#tabs").active = "tab-narrative"
        await pilot.pause()
        editor.query_one("#f-narrative", TextArea).text = "Маро 2 апрел дастгир карданд. Қодир"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: editor.record_id is not None)
        rid = editor.record_id
        assert rid is not None
        # attachment
        editor.query_one("#tabs").active = "tab-attachments"
        await pilot.pause()
        await pilot.click("#add-attachment")
        await pilot.pause()
        await type_into(pilot, "#path", str(tmp_path / "order.jpg"))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "SHA-256" in str(editor.query_one("#att-result").render()))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        assert app.vault is not None
        rec = RecordService(app.vault.db).get(rid).doc
        assert rec["interview"]["languages"] == ["tg", "ru"]
        assert [p["roles"] for p in rec["persons"]] == [["victim", "informant"], ["relative"]]
        assert rec["persons"][1]["relationship"] == "mother"
        assert rec["persons"][1]["sensitive"]["real_name"] == "Гулноза Раҳимова"
        assert rec["persons"][1]["related_to"] == "p1"
        assert [i["type"] for i in rec["incidents"]] == ["arbitrary_detention", "family_pressure"]
        assert [i["victims"] for i in rec["incidents"]] == [["p1"], ["p2"]]
        assert rec["incidents"][1]["date"] == {
            "earliest": "2026-04-01",
            "latest": "2026-04-10",
            "text": "early April",
        }
        # search as you type
        await type_into(pilot, "#search", "кодир")
        await pilot.pause(0.3)
        table = app.screen.query_one("#table")
        assert table.row_count == 1
        await type_into(pilot, "#search", "nothing-like-this")
        await pilot.pause(0.3)
        assert table.row_count == 0


async def test_validation_shows_next_to_field(tmp_path: Path) -> None:
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock_and_new_record(pilot, app)
        await type_into(pilot, "#f-date", "14/05/2026")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "required" in str(app.screen.query_one("#e-pseudonym").render())
        assert "YYYY-MM-DD" in str(app.screen.query_one("#e-interview-date").render())
        assert app.screen.record_id is None  # type: ignore[attr-defined]


async def test_autolock_and_unlock_again(tmp_path: Path) -> None:
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    clock = FakeClock()
    app = make_app(tmp_path / "vault", tmp_path, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await _unlock_and_new_record(pilot, app)
        await type_into(pilot, "#f-pseudonym", "typed before the lock")
        vault = app.vault
        assert vault is not None
        clock.advance(app.autolock_seconds + 1)
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        assert app.vault is None and vault.is_locked
        assert all(b == 0 for b in vault._master_key)
        assert len(app.screen_stack) == 2  # nothing of the editor is left behind
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        # The draft typed before the lock comes back.
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        assert app.screen.query_one("#f-pseudonym", Input).value == "typed before the lock"


async def test_lock_key(tmp_path: Path) -> None:
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, UnlockScreen))
        assert app.vault is None


async def test_long_list_loads_more_as_you_scroll(tmp_path: Path) -> None:
    v, _ = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)
    RecordService(v.db).add_many([{"pseudonym": f"W-{i:03d}"} for i in range(250)])
    v.lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
        from fieldkit.ui.screens.records import SHOWN

        table = app.screen.query_one("#table")
        assert table.row_count == SHOWN
        assert "more below" in str(app.screen.query_one("#count").render())
        table.focus()
        while table.row_count < 250:
            before = table.row_count
            table.move_cursor(row=before - 1)
            await pilot.pause()
            assert table.row_count == min(250, before + SHOWN)
        assert "250 shown of 250" in str(app.screen.query_one("#count").render())


async def test_disk_full_while_saving_keeps_the_editor_and_what_was_typed(tmp_path: Path) -> None:
    """The laptop's disk fills up: autosave and Save say so and the app stays open with
    everything typed still on screen; once there is room, Save works."""
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _unlock_and_new_record(pilot, app)
        editor = app.screen
        assert isinstance(editor, EditorScreen) and app.vault is not None
        db = app.vault.db
        db.execute(f"PRAGMA max_page_count = {db.scalar('PRAGMA page_count')}")  # full
        await type_into(pilot, "#f-pseudonym", "Witness K-9")
        editor.query_one("#f-narrative", TextArea).text = "Рассказ " * 30_000  # > any free pages
        await pilot.pause()  # the form's change events reach the document
        assert editor.dirty and not editor.autosave()  # what the timer does: refused
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.is_running and app.screen is editor
        assert any("disk is full" in str(n.message) for n in app._notifications)
        assert editor.query_one("#f-pseudonym", Input).value == "Witness K-9"
        await pilot.press("escape")  # leaving would lose it: the first Escape stays
        await pilot.pause()
        assert app.screen is editor
        db.execute("PRAGMA max_page_count = 1073741823")  # room again
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: RecordService(db).list_records() != [])


async def test_a_crash_prints_no_testimony_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Textual's own crash report is a traceback with every local variable: testimony,
    passphrases. fieldkit's prints one line with the exception's type, like the CLI."""
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    secret = "Гулноза Раҳимова, улица Ленина 5"

    def broken() -> None:
        narrative = secret  # a local, as testimony is in the editor's frames
        raise ValueError(f"boom {narrative}")

    with pytest.raises(ValueError):
        async with app.run_test(size=(100, 30)) as pilot:
            await type_into(pilot, "#passphrase", PASSPHRASE)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
            app.call_later(broken)
            await pilot.pause()
    assert app.return_code == 1
    shown = capsys.readouterr()
    assert "internal error (ValueError)" in shown.err
    for text in (shown.out, shown.err):
        assert secret not in text and PASSPHRASE not in text and "Traceback" not in text


async def test_escape_in_a_dialog_closes_only_the_dialog(tmp_path: Path) -> None:
    """Escape answered the dialog and then went on to the screen under it: 'Discard
    draft?' then Escape closed the editor too."""
    from fieldkit.ui.screens.dialogs import ConfirmScreen

    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await _unlock_and_new_record(pilot, app)
        editor = app.screen
        await pilot.press("f8")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await pilot.pause()
        await pilot.pause()
        assert app.screen is editor

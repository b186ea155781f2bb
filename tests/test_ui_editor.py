"""The record editor at 80x24 as a fieldworker uses it (issue 10, part 2): victims and
relatives are chosen from the record's persons, side lists follow what is typed."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import (
    Checkbox,
    DataTable,
    Input,
    Label,
    OptionList,
    RadioButton,
    Select,
    TabbedContent,
    Tabs,
)

from fieldkit.services import model
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.ui.app import FieldkitApp
from fieldkit.ui.screens.dialogs import ConfirmScreen, FilePickerScreen
from fieldkit.ui.screens.editor import EditorScreen
from fieldkit.ui.screens.records import RecordsScreen
from fieldkit.ui.widgets import MarkedSelectionList
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import locked_vault, make_app, screen_text, type_into, unlock, wait_for


async def new_record(pilot: Pilot[None], app: FieldkitApp) -> EditorScreen:
    await unlock(pilot, app)
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
    await pilot.pause()
    assert isinstance(app.screen, EditorScreen)
    return app.screen


async def two_persons(pilot: Pilot[None], editor: EditorScreen) -> None:
    await show_tab(pilot, "alt+2")
    await pilot.click("#add-person")
    await type_into(pilot, "#p-pseudonym", "K-9")
    await pilot.click("#add-person")
    await type_into(pilot, "#p-pseudonym", "K-9 brother")


async def show_tab(pilot: Pilot[None], key: str) -> None:
    """Alt+digit: show that tab of the editor."""
    await pilot.press(key)
    await pilot.pause()


async def add_incident(pilot: Pilot[None]) -> None:
    await show_tab(pilot, "alt+3")
    await pilot.click("#add-incident")
    await pilot.pause()


def option_texts(editor: EditorScreen, selector: str) -> list[str]:
    ol = editor.query_one(selector, OptionList)
    return [str(ol.get_option_at_index(i).prompt) for i in range(ol.option_count)]


async def test_victims_are_ticked_from_the_persons_and_save(tmp_path: Path) -> None:
    app = make_app(locked_vault(tmp_path / "vault"), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_record(pilot, app)
        await type_into(pilot, "#f-pseudonym", "Witness K-9")
        # Before there is a person, the incident says where victims come from.
        await add_incident(pilot)
        assert "[]" not in screen_text(app)
        assert "Add the persons on the Persons tab" in screen_text(app)
        await two_persons(pilot, editor)
        await show_tab(pilot, "alt+3")
        victims = editor.query_one("#i-victims", MarkedSelectionList)
        assert [str(victims.get_option_at_index(i).prompt) for i in range(2)] == [
            "p1: K-9 (victim)",
            "p2: K-9 brother (victim)",
        ]
        # Keyboard only: focus the list, move to the second person, tick it.
        victims.focus()
        await pilot.pause()
        await pilot.press("down", "space")
        await pilot.pause()
        assert victims.selected == ["p2"]
        assert editor.doc["incidents"][0]["victims"] == ["p2"]
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: editor.record_id is not None)
        assert app.vault is not None and editor.record_id is not None
        saved = RecordService(app.vault.db).get(editor.record_id).doc
        assert saved["incidents"][0]["victims"] == ["p2"]


async def test_removing_a_person_unlinks_it(tmp_path: Path) -> None:
    app = make_app(locked_vault(tmp_path / "vault"), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_record(pilot, app)
        await two_persons(pilot, editor)
        editor.query_one("#p-related", Select).value = "p1"
        editor.query_one("#p-roles", MarkedSelectionList).select("relative")
        await type_into(pilot, "#p-relationship", "brother")
        assert editor.doc["persons"][1]["related_to"] == "p1"
        await add_incident(pilot)
        editor.query_one("#i-victims", MarkedSelectionList).select("p1")
        await pilot.pause()
        assert editor.doc["incidents"][0]["victims"] == ["p1"]
        await show_tab(pilot, "alt+2")
        editor.query_one("#persons", OptionList).highlighted = 0
        await pilot.pause()
        await pilot.click("#remove-person")
        await pilot.pause()
        assert editor.doc["incidents"][0]["victims"] == []
        assert editor.doc["persons"][0]["related_to"] is None


async def test_side_lists_follow_role_name_and_type(tmp_path: Path) -> None:
    app = make_app(locked_vault(tmp_path / "vault"), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_record(pilot, app)
        await two_persons(pilot, editor)
        assert option_texts(editor, "#persons")[1] == "p2: K-9 brother (victim)"
        # A second role ticked from the keyboard: the side list names both, main first.
        roles = editor.query_one("#p-roles", MarkedSelectionList)
        roles.focus()
        await pilot.pause()
        await pilot.press("home", "down", "down", "down", "space")
        await pilot.pause()
        assert editor.doc["persons"][1]["roles"] == ["victim", "witness"]
        await type_into(pilot, "#p-pseudonym", "B-1")
        assert option_texts(editor, "#persons") == [
            "p1: K-9 (victim)",
            "p2: B-1 (victim, witness)",
        ]
        # The side list is 20 columns wide: the entry wraps after the pseudonym.
        assert "p2: B-1 (victim," in screen_text(app)
        await add_incident(pilot)
        assert option_texts(editor, "#incidents") == ["i1: Arbitrary arrest or detention"]
        editor.query_one("#i-type", Select).value = "surveillance"
        await pilot.pause()
        assert option_texts(editor, "#incidents") == ["i1: Surveillance"]
        # The victims chooser names persons as they are now.
        victims = editor.query_one("#i-victims", MarkedSelectionList)
        assert str(victims.get_option_at_index(1).prompt) == "p2: B-1 (victim, witness)"


async def test_state_and_focus_read_without_colour(tmp_path: Path) -> None:
    """A ticked box shows X and an unticked one a blank; the focused field's label is
    reversed; Tab does not stop on the tab bar, and Alt+digits reach every tab."""
    app = make_app(locked_vault(tmp_path / "vault"), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_record(pilot, app)
        await show_tab(pilot, "alt+4")
        contact = editor.query_one("#f-contact", Checkbox)
        assert "▐ ▌ Contact allowed" in screen_text(app)
        contact.value = True
        await pilot.pause()
        assert "▐X▌ Contact allowed" in screen_text(app)
        # Alt+4 put the cursor on the Consent tab's first field; its label is reversed.
        await show_tab(pilot, "alt+1")
        assert app.focused is editor.query_one("#f-pseudonym")
        label = editor.query_one("#f-pseudonym").parent.query_one(Label)  # type: ignore[union-attr]
        assert label.rich_style.reverse
        status_label = editor.query_one("#f-status").parent.query_one(Label)  # type: ignore[union-attr]
        assert not status_label.rich_style.reverse
        # Tab walks the fields of the shown tab and never lands on the tab bar.
        seen = []
        for _ in range(12):
            await pilot.press("tab")
            await pilot.pause()
            assert app.focused is not None
            seen.append(app.focused)
            assert not isinstance(app.focused, Tabs)
        assert all(editor.query_one("#tab-interview") in w.ancestors for w in seen)
        for key, pane in (("alt+2", "tab-persons"), ("alt+7", "tab-history")):
            await pilot.press(key)
            await pilot.pause()
            await wait_for(
                pilot,
                lambda: editor.query_one("#tabs", TabbedContent).active == pane,  # noqa: B023
            )
        # Quick presses land on the last tab pressed (the first tab's focus comes too late
        # to pull the view back).
        await pilot.press("alt+3", "alt+6")
        for _ in range(5):
            await pilot.pause()
        assert editor.query_one("#tabs", TabbedContent).active == "tab-attachments"


async def test_radio_buttons_show_the_choice_without_colour(tmp_path: Path) -> None:
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = screen_text(app)
        assert "▐●▌ fieldwork" in shown and "▐ ▌ HQ" in shown
        app.screen.query_one("#kind-hq", RadioButton).value = True
        await pilot.pause()
        shown = screen_text(app)
        assert "▐ ▌ fieldwork" in shown and "▐●▌ HQ" in shown


async def test_attachments_before_the_first_save_offer_to_save(tmp_path: Path) -> None:
    locked_vault(tmp_path / "vault")
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8" + bytes(100))
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8" + bytes(200))
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_record(pilot, app)
        await type_into(pilot, "#f-pseudonym", "Witness K-9")
        await show_tab(pilot, "alt+6")
        assert "Save this one now?" in screen_text(app)
        assert await pilot.click("#att-save")
        await wait_for(pilot, lambda: editor.record_id is not None)
        await pilot.pause()
        assert "Save this one now?" not in screen_text(app)
        assert editor.query_one("#att-unsaved").display is False

        async def attach(name: str) -> None:
            await pilot.click("#add-attachment")
            await wait_for(pilot, lambda: isinstance(app.screen, FilePickerScreen))
            await type_into(pilot, "#path", str(tmp_path / name))
            await pilot.press("enter")
            await wait_for(pilot, lambda: name in str(editor.query_one("#att-result").render()))
            await pilot.pause()

        await attach("a.jpg")
        await type_into(pilot, "#att-description", "Expulsion order, page 1")
        await pilot.click("#describe-attachment")
        await pilot.pause()
        await attach("b.jpg")
        # The new file's description box starts empty, not with the last file's text.
        assert editor.query_one("#att-description", Input).value == ""
        table = editor.query_one("#attachments", DataTable)
        assert str(table.get_row_at(table.cursor_row)[0]) == "b.jpg"


async def test_add_file_on_an_unsaved_record_asks_to_save(tmp_path: Path) -> None:
    app = make_app(locked_vault(tmp_path / "vault"), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_record(pilot, app)
        await type_into(pilot, "#f-pseudonym", "Witness K-9")
        await show_tab(pilot, "alt+6")
        await pilot.click("#add-attachment")
        # The dialog's buttons, not only the dialog: a loaded machine composes it later.
        await wait_for(
            pilot, lambda: isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#yes"))
        )
        await pilot.click("#yes")
        await wait_for(pilot, lambda: isinstance(app.screen, FilePickerScreen))
        assert editor.record_id is not None


async def test_opening_a_record_changes_nothing_in_it(tmp_path: Path) -> None:
    """Reproduced: opening a record whose first person is an informant made them a victim
    (the Role select's default posted a Changed message after the form was filled), so the
    next autosave or save changed testimony nobody touched. Every tab is shown, then the
    editor's record must equal the stored one, and closing saves no new version."""
    v = Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0]
    doc = model.template()
    assert doc["persons"][0]["roles"] == ["informant", "victim"]
    rid = RecordService(v.db).add(doc)
    stored = RecordService(v.db).get(rid).doc
    v.lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, app)
        app.screen.query_one("#table").focus()
        await pilot.pause()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        for key in ("alt+1", "alt+2", "alt+3", "alt+4", "alt+5", "alt+6", "alt+7"):
            await pilot.press(key)
            await pilot.pause()
        assert editor.doc == stored
        assert not editor.dirty
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, RecordsScreen))
    with Vault.unlock(tmp_path / "vault", PASSPHRASE) as v2:
        assert RecordService(v2.db).get(rid).version == 1
        assert RecordService(v2.db).get(rid).doc == stored


async def test_consent_is_recorded_with_how_when_and_by_whom(tmp_path: Path) -> None:
    """Consent obtained (yes/no/not recorded), its method, day and taker, from the keyboard's
    reach at 80x24; 'yes' without a method is refused on the Method line, and one without
    a day or a taker is saved with a recommendation on their lines."""
    Vault.create(tmp_path / "vault", PASSPHRASE, kdf_params=WEAK)[0].lock()
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_record(pilot, app)
        await type_into(pilot, "#f-pseudonym", "Witness K-9")
        await pilot.press("alt+4")
        await pilot.pause()
        shown = screen_text(app)
        for label in ("Obtained", "not recorded", "Method", "Obtained on", "Obtained by"):
            assert label in shown, label
        assert editor.doc["consent"]["obtained"] is None
        editor.query_one("#f-obtained", Select).value = "yes"
        await pilot.pause()
        assert editor.doc["consent"]["obtained"] is True
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "oral or written" in str(editor.query_one("#e-consent-method").render())
        assert editor.record_id is None
        assert "say when" not in screen_text(app)
        editor.query_one("#f-method", Select).value = "oral"
        await pilot.pause()
        # When and by whom are recommended: the record saves, and their lines say so.
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: editor.record_id is not None)
        await pilot.pause()
        assert "say when" in str(editor.query_one("#e-consent-obtained-on").render())
        assert "say who" in str(editor.query_one("#e-consent-obtained-by").render())
        await type_into(pilot, "#f-obtained-on", "2026-05-14")
        await type_into(pilot, "#f-obtained-by", "FW-03")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not editor.query_one("#e-consent-obtained-on").has_class("shown")
        assert app.vault is not None and editor.record_id is not None
        consent = RecordService(app.vault.db).get(editor.record_id).doc["consent"]
        assert (consent["obtained"], consent["method"]) == (True, "oral")
        assert (consent["obtained_on"], consent["obtained_by"]) == ("2026-05-14", "FW-03")
        assert not model.lacks_consent({"consent": consent})
        editor.query_one("#f-obtained", Select).value = "no"
        await pilot.pause()
        assert editor.doc["consent"]["obtained"] is False

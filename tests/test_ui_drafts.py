"""Pilot: a draft whose record is gone (purged or deleted before fieldkit removed drafts
with their record) must not crash the app at every unlock."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from fieldkit.services import model
from fieldkit.services.drafts import DraftService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import records as rec_store
from fieldkit.ui.screens.editor import EditorScreen
from tests.conftest import PASSPHRASE, WEAK
from tests.ui_helpers import make_app, type_into, wait_for


def _vault_with_orphan_draft(root: Path) -> str:
    v, _ = Vault.create(root, PASSPHRASE, kdf_params=WEAK)
    with v:
        rid = RecordService(v.db).add(model.template())
        doc = dict(model.template(), pseudonym="Left behind")
        DraftService(v.db).save(DraftService(v.db).new_id(), rid, doc)
        with v.db.transaction():  # what purge did before it removed drafts too
            rec_store.delete_record(v.db, rid)
    return rid


async def test_unlock_with_a_draft_of_a_deleted_record(tmp_path: Path) -> None:
    _vault_with_orphan_draft(tmp_path / "vault")
    app = make_app(tmp_path / "vault", tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await type_into(pilot, "#passphrase", PASSPHRASE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, EditorScreen))
        editor = app.screen
        assert isinstance(editor, EditorScreen)
        assert editor.record_id is None  # offered as a new record, nothing lost
        assert editor.query_one("#f-pseudonym", Input).value == "Left behind"
        await pilot.pause()
    assert app.return_code in (None, 0)

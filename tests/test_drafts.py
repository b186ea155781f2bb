"""Drafts: saved unvalidated, committed atomically with the record."""

from __future__ import annotations

import pytest

from fieldkit.errors import InvalidInput
from fieldkit.services import model, settings
from fieldkit.services.drafts import DraftService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests.conftest import PASSPHRASE


def test_draft_save_resume_commit(vault: Vault, vault_dir) -> None:  # type: ignore[no-untyped-def]
    ds = DraftService(vault.db)
    did = ds.new_id()
    ds.save(did, None, {"pseudonym": "", "narrative": "half-typed Қодир"})
    vault.lock()
    with Vault.unlock(vault_dir, PASSPHRASE) as v:
        ds = DraftService(v.db)
        [d] = ds.all()
        assert d.doc["narrative"] == "half-typed Қодир"
        with pytest.raises(InvalidInput):
            ds.commit(d.id, None, d.doc)  # pseudonym missing
        assert ds.get(d.id) is not None  # kept
        doc = dict(model.template(), narrative=d.doc["narrative"])
        rid = ds.commit(d.id, None, doc)
        assert ds.all() == []
        assert RecordService(v.db).get(rid).doc["narrative"] == "half-typed Қодир"


def test_autolock_setting(vault: Vault) -> None:
    assert settings.autolock_seconds(vault.db) == settings.DEFAULT_AUTOLOCK
    settings.set_autolock_seconds(vault.db, 60)
    assert settings.autolock_seconds(vault.db) == 60
    with pytest.raises(InvalidInput):
        settings.set_autolock_seconds(vault.db, 1)

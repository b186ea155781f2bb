"""`record delete`, `draft list` and `draft discard` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from fieldkit.services import model
from fieldkit.services.drafts import DraftService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.store import records as rec_store
from tests.conftest import PASSPHRASE, cli


def _one_error_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("fieldkit: error: "), err
    assert lines[1].startswith("fieldkit: hint: ")


def _add(opts: list[str], tmp_path: Path, pseudonym: str = "Witness K-7") -> str:
    src = tmp_path / f"{pseudonym}.json"
    src.write_text(json.dumps(dict(model.template(), pseudonym=pseudonym)), encoding="utf-8")
    r = cli(["record", "add", "--json", str(src), *opts])
    assert r.code == 0, r.err
    return r.out.strip()


def test_record_delete_asks_then_deletes(
    cli_vault: list[str], vault_dir: Path, tmp_path: Path
) -> None:
    rid = _add(cli_vault, tmp_path)
    kept = _add(cli_vault, tmp_path, "Stays")
    refused = cli(["record", "delete", rid, *cli_vault])
    assert refused.code == 2
    _one_error_line(refused.err)
    assert cli(["record", "show", rid, *cli_vault]).code == 0

    done = cli(["record", "delete", rid[:8], "--yes", "--json", *cli_vault])
    assert done.code == 0, done.err
    assert done.json() == {"id": rid, "attachments": 0, "drafts": 0}
    gone = cli(["record", "show", rid, *cli_vault])
    assert gone.code == 6
    _one_error_line(gone.err)
    assert [r["id"] for r in cli(["record", "list", "--json", *cli_vault]).json()] == [kept]
    assert cli(["history", "verify", *cli_vault]).code == 0
    unknown = cli(["record", "delete", "r-nothing-like-it", "--yes", *cli_vault])
    assert unknown.code == 6
    _one_error_line(unknown.err)


def test_draft_list_and_discard(cli_vault: list[str], vault_dir: Path) -> None:
    with Vault.unlock(vault_dir, PASSPHRASE) as v:
        rid = RecordService(v.db).add(model.template())
        ds = DraftService(v.db)
        new_id, orphan_id = ds.new_id(), ds.new_id()
        ds.save(new_id, None, {"pseudonym": "half \x1b]0;typed"})
        ds.save(orphan_id, rid, {"pseudonym": "left"})
        with v.db.transaction():  # a draft left by a purge before drafts went with it
            rec_store.delete_record(v.db, rid)

    listed = cli(["draft", "list", *cli_vault])
    assert listed.code == 0, listed.err
    assert "\x1b" not in listed.out and "half \\x1b]0;typed" in listed.out
    assert f"edit of deleted record {rid}" in listed.out
    as_json = {d["id"]: d for d in cli(["draft", "list", "--json", *cli_vault]).json()}
    assert as_json[orphan_id]["deleted_record_id"] == rid
    assert as_json[orphan_id]["record_id"] is None
    assert as_json[new_id]["record_id"] is None

    assert cli(["draft", "discard", orphan_id[:8], *cli_vault]).code == 0
    assert [d["id"] for d in cli(["draft", "list", "--json", *cli_vault]).json()] == [new_id]
    again = cli(["draft", "discard", orphan_id, *cli_vault])
    assert again.code == 6
    _one_error_line(again.err)

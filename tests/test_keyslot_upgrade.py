"""Keyslot file version 1 -> 2 at the first successful unlock, from vaults written by an
old release (tests/fixtures/vaults/v6, whose keyslot files are version 1): either secret
still opens afterwards, a crash at any point leaves a vault that opens, and once upgraded
every unlock attempt is one Argon2id run whichever slot matches."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from fieldkit.crypto import kdf
from fieldkit.errors import AuthenticationFailed
from fieldkit.formats import keyslots
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from fieldkit.services.wipe import temp_files
from tests.conftest import NEW_PASSPHRASE, PASSPHRASE, child

FIXTURE = Path(__file__).parent / "fixtures" / "vaults" / "v6"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text())


@pytest.fixture
def old_vault(tmp_path: Path) -> Path:
    dest = tmp_path / "field"
    shutil.copytree(FIXTURE / "field", dest)
    dest.chmod(0o700)
    assert keyslots.version_of((dest / "keyslots").read_bytes()) == 1
    return dest


def _version(root: Path) -> int:
    return keyslots.version_of((root / "keyslots").read_bytes())


def _record_ids(v: Vault) -> set[str]:
    return {s.id for s in RecordService(v.db).list_records()}


CODE = EXPECTED["field"]["recovery_code"]


def test_a_passphrase_unlock_upgrades_and_both_secrets_still_open(old_vault: Path) -> None:
    with Vault.unlock(old_vault, PASSPHRASE) as v:
        ids = _record_ids(v)
        assert ids == set(EXPECTED["field"]["records"])
    data = (old_vault / "keyslots").read_bytes()
    assert _version(old_vault) == 2 and len(data) == keyslots.FILE_SIZE
    with Vault.unlock_with_recovery_code(old_vault, CODE) as v:  # carried over, legacy form
        assert _record_ids(v) == ids
    with Vault.unlock(old_vault, PASSPHRASE) as v:
        assert _record_ids(v) == ids
    assert (old_vault / "keyslots").read_bytes() == data  # upgraded once, not again
    with pytest.raises(AuthenticationFailed):
        Vault.unlock(old_vault, NEW_PASSPHRASE)


def test_a_recovery_code_unlock_upgrades_too(old_vault: Path) -> None:
    with Vault.unlock_with_recovery_code(old_vault, CODE):
        pass
    assert _version(old_vault) == 2
    with Vault.unlock(old_vault, PASSPHRASE):  # the passphrase slot, in legacy form
        pass
    with Vault.unlock_with_recovery_code(old_vault, CODE) as v:
        v.change_passphrase(NEW_PASSPHRASE)  # what `fieldkit recover` does next
    with Vault.unlock(old_vault, NEW_PASSPHRASE) as v:
        assert _record_ids(v) == set(EXPECTED["field"]["records"])
    with pytest.raises(AuthenticationFailed):
        Vault.unlock(old_vault, PASSPHRASE)
    with Vault.unlock_with_recovery_code(old_vault, CODE):
        pass


def test_a_wrong_passphrase_leaves_a_v1_file_as_it_was(old_vault: Path) -> None:
    before = (old_vault / "keyslots").read_bytes()
    with pytest.raises(AuthenticationFailed):
        Vault.unlock(old_vault, NEW_PASSPHRASE)
    assert (old_vault / "keyslots").read_bytes() == before


CRASH = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from fieldkit.services.vault import Vault
    from tests.conftest import PASSPHRASE

    real_replace = os.replace
    def crash(src, dst, *a, **k):
        if not str(dst).endswith("keyslots"):
            return real_replace(src, dst, *a, **k)
        if sys.argv[2] == "after":
            real_replace(src, dst, *a, **k)
        os._exit(0)  # power cut just before, or just after, the rename
    os.replace = crash
    Vault.unlock(Path(sys.argv[1]), PASSPHRASE)
    """
)


@pytest.mark.parametrize(("when", "version"), [("before", 1), ("after", 2)])
def test_a_crash_during_the_upgrade_leaves_a_vault_that_opens(
    old_vault: Path, when: str, version: int
) -> None:
    proc = child(CRASH, str(old_vault), when)
    assert proc.wait(timeout=120) == 0
    assert _version(old_vault) == version
    assert len(temp_files(old_vault)) == (1 if when == "before" else 0)
    with Vault.unlock(old_vault, PASSPHRASE) as v:
        assert _record_ids(v) == set(EXPECTED["field"]["records"])
    assert _version(old_vault) == 2
    assert temp_files(old_vault) == []  # the leftover temp file was shredded
    with Vault.unlock_with_recovery_code(old_vault, CODE):
        pass


@pytest.fixture
def argon2_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    runs: list[int] = []
    real = kdf.hash_secret_raw

    def counting(**kwargs: Any) -> bytes:
        runs.append(1)
        return real(**kwargs)

    monkeypatch.setattr(kdf, "hash_secret_raw", counting)
    return runs


def test_once_upgraded_every_attempt_is_one_argon2_run(
    old_vault: Path, argon2_runs: list[int]
) -> None:
    with Vault.unlock(old_vault, PASSPHRASE) as v:  # the upgrade: one extra run, once
        v.set_duress_passphrase(NEW_PASSPHRASE)
    argon2_runs.clear()
    attempts = (
        (PASSPHRASE, False),
        (CODE, True),
        ("not the passphrase, nor the duress one", False),
        (NEW_PASSPHRASE, False),  # the duress passphrase: shred, make a new vault
    )
    for secret, is_code in attempts:
        try:
            if is_code:
                Vault.unlock_with_recovery_code(old_vault, secret).lock()
            else:
                Vault.unlock(old_vault, secret).lock()
        except AuthenticationFailed:
            assert secret.startswith("not the")
        assert len(argon2_runs) == 1, secret
        argon2_runs.clear()


def test_an_upgraded_file_keeps_both_secrets_and_every_flip_fails_cleanly() -> None:
    """In memory, from a v1 file made as old releases made it: after the upgrade one
    derivation per secret opens its slot (the carried-over one in legacy form), and a
    flipped bit anywhere in a used slot or the header stops that slot from opening."""
    from fieldkit.formats import keyslots_v1
    from fieldkit.formats.keyslots import SlotKind
    from fieldkit.services import keyring, keyslot_upgrade
    from tests.conftest import WEAK

    vault_id, mk = bytes(range(16)), bytes(range(32, 64))
    old = keyslots_v1.KeyslotFile(
        vault_id,
        (
            keyring.make_slot_v1(keyslots_v1.SlotKind.PASSPHRASE, b"pass", mk, vault_id, WEAK),
            keyring.make_slot_v1(keyslots_v1.SlotKind.RECOVERY, b"code", mk, vault_id, WEAK),
        ),
    )
    new = keyslot_upgrade.upgrade(old, SlotKind.PASSPHRASE, b"pass", mk)
    rec = old.slot(keyslots_v1.SlotKind.RECOVERY)
    assert rec is not None and (new.salt, new.params) == (rec.salt, rec.params)
    ks = {
        SlotKind.PASSPHRASE: keyring.derive(b"pass", new),
        SlotKind.RECOVERY: keyring.derive(b"code", new),
    }
    for kind, k in ks.items():
        assert [(o.kind, bytes(o.plaintext)) for o in keyring.open_all(new, k)] == [(kind, mk)]
    data = keyslots.serialise(new)
    for i in range(keyslots.HEADER_SIZE + 2 * keyslots.SLOT_SIZE):
        for bit in (0, 7):
            mutated = bytearray(data)
            mutated[i] ^= 1 << bit
            try:
                parsed = keyslots.parse(bytes(mutated))
            except Exception:  # noqa: S112  # refused by the parser: fine
                continue
            hit = None if i < keyslots.HEADER_SIZE else (i - keyslots.HEADER_SIZE) // 76
            for kind, k in ks.items():
                opened = [o.kind for o in keyring.open_all(parsed, k)]
                legacy_salt = kind == SlotKind.RECOVERY and hit == 1 and (i - 52 - 76) < 16
                if legacy_salt:  # a legacy slot's slot_salt is unused, not authenticated
                    continue
                expect = [] if hit in (None, keyslots.index_of(kind)) else [kind]
                assert opened == expect, (i, bit, kind)

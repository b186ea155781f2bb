"""Vault at rest: create, unlock, lock, wrong passphrase, change, recovery, wipe, pragmas."""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

import pytest

from fieldkit.crypto import kdf
from fieldkit.errors import (
    AuthenticationFailed,
    CorruptVault,
    InvalidInput,
    VaultExists,
    VaultNotFound,
    WeakPassphrase,
)
from fieldkit.formats import attempts as fmt_attempts
from fieldkit.formats import keyslots
from fieldkit.formats.keyslots import SlotKind
from fieldkit.services import model
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault, wipe
from fieldkit.store import schema
from tests.conftest import NEW_PASSPHRASE, PASSPHRASE, WEAK


def _digest_tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_create_unlock_lock(vault_dir: Path) -> None:
    v, code = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    rid = RecordService(v.db).add(model.template())
    v.lock()
    assert v.is_locked
    assert all(b == 0 for b in v._master_key)
    with Vault.unlock(vault_dir, PASSPHRASE) as v2:
        assert RecordService(v2.db).get(rid).doc["pseudonym"] == "Witness K-7"
        assert v2.kind == "field"
    assert len(code.replace("-", "")) == 32


def test_permissions(vault: Vault, vault_dir: Path) -> None:
    assert stat.S_IMODE(vault_dir.stat().st_mode) == 0o700
    for p in vault_dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p.name


def test_pragmas(vault: Vault) -> None:
    # Off on purpose: see fieldkit/store/db.py and docs/performance.md.
    assert vault.db.pragma("cipher_memory_security") in ("0", 0)
    assert int(vault.db.pragma("secure_delete")) == 1
    assert int(vault.db.pragma("temp_store")) == 2  # MEMORY
    assert vault.db.pragma("journal_mode") == "wal"
    assert int(vault.db.pragma("foreign_keys")) == 1
    assert int(vault.db.pragma("synchronous")) == 2  # FULL
    assert int(vault.db.pragma("user_version")) == schema.CURRENT_VERSION


def test_database_is_not_plain_sqlite(vault: Vault, vault_dir: Path) -> None:
    vault.lock()
    head = (vault_dir / "vault.db").read_bytes()[:16]
    assert not head.startswith(b"SQLite format 3")


def test_wrong_passphrase_leaves_every_file_byte_identical(vault: Vault, vault_dir: Path) -> None:
    RecordService(vault.db).add(model.template())
    vault.lock()
    before = _digest_tree(vault_dir)
    mtimes = {p.name: p.stat().st_mtime_ns for p in vault_dir.iterdir()}
    for wrong in ("wrong passphrase entirely here", PASSPHRASE + " ", PASSPHRASE.upper()):
        with pytest.raises(AuthenticationFailed, match="wrong passphrase"):
            Vault.unlock(vault_dir, wrong)
    # Only the failed-unlock counter moves (SECURITY.md guarantees 5 and 25).
    assert fmt_attempts.parse((vault_dir / "attempts").read_bytes()).failures == 3
    before.pop("attempts"), mtimes.pop("attempts")
    after = _digest_tree(vault_dir)
    after.pop("attempts")
    assert after == before
    assert {p.name: p.stat().st_mtime_ns for p in vault_dir.iterdir() if p.name != "attempts"} == (
        mtimes
    )


def test_passphrase_change_rewraps_only(vault: Vault, vault_dir: Path) -> None:
    rid = RecordService(vault.db).add(model.template())
    old_file = (vault_dir / "keyslots").read_bytes()
    vault.change_passphrase(NEW_PASSPHRASE)
    vault.lock()
    new_file = (vault_dir / "keyslots").read_bytes()
    old, new = keyslots.parse(old_file), keyslots.parse(new_file)
    assert old.vault_id == new.vault_id
    assert old.slot(SlotKind.RECOVERY) == new.slot(SlotKind.RECOVERY)
    assert old.slot(SlotKind.PASSPHRASE) != new.slot(SlotKind.PASSPHRASE)
    with pytest.raises(AuthenticationFailed):
        Vault.unlock(vault_dir, PASSPHRASE)
    with Vault.unlock(vault_dir, NEW_PASSPHRASE) as v:
        assert RecordService(v.db).get(rid).version == 1


def test_recovery_code_unlocks_and_sets_new_passphrase(vault_dir: Path) -> None:
    v, code = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    rid = RecordService(v.db).add(model.template())
    v.lock()
    typed = code.lower().replace("-", " ")  # forgiving input
    with Vault.unlock_with_recovery_code(vault_dir, typed) as r:
        assert RecordService(r.db).get(rid)
        r.change_passphrase(NEW_PASSPHRASE)
    with Vault.unlock(vault_dir, NEW_PASSPHRASE):
        pass
    with pytest.raises(AuthenticationFailed, match="wrong recovery code"):
        Vault.unlock_with_recovery_code(vault_dir, "0" * 32)
    with pytest.raises(InvalidInput):
        Vault.unlock_with_recovery_code(vault_dir, "too short")


def test_new_recovery_code_replaces_old(vault_dir: Path) -> None:
    v, code = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    new_code = v.new_recovery_code()
    v.lock()
    with pytest.raises(AuthenticationFailed):
        Vault.unlock_with_recovery_code(vault_dir, code)
    Vault.unlock_with_recovery_code(vault_dir, new_code).lock()


def test_wipe_makes_everything_unopenable(vault_dir: Path, tmp_path: Path) -> None:
    v, code = Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)
    RecordService(v.db).add(model.template())
    v.lock()
    # An attacker who copied the database before the wipe still has it; what
    # matters is that no key to it survives.
    db_copy = (vault_dir / "vault.db").read_bytes()
    wipe(vault_dir)
    assert not (vault_dir / "keyslots").exists()
    assert not (vault_dir / "vault.db").exists()
    with pytest.raises(VaultNotFound):
        Vault.unlock(vault_dir, PASSPHRASE)
    with pytest.raises(VaultNotFound):
        Vault.unlock_with_recovery_code(vault_dir, code)
    assert db_copy  # and without the keyslot file it is only ciphertext


def test_weak_passphrases_refused_with_reason(vault_dir: Path) -> None:
    for weak, reason in (
        ("short", "it has 5"),
        ("aaaaaaaaaaaaaaaa", "repeats"),
        ("abcabcabcabcabc", "repeats"),
        ("123456789012", "common"),
        ("qwertyuiopasdfgh", "common"),
        ("пароль123456", "common"),
    ):
        with pytest.raises(WeakPassphrase, match=reason) as e:
            Vault.create(vault_dir, weak, kdf_params=WEAK)
        assert "words" in e.value.hint
    assert not vault_dir.exists() or not any(vault_dir.iterdir())


def test_accepts_good_passphrases(vault_dir: Path, tmp_path: Path) -> None:
    Vault.create(tmp_path / "a", "violet harbour seven lanterns", kdf_params=WEAK)[0].lock()
    Vault.create(tmp_path / "b", "Ҷавоб ғалаба қуллаи кӯҳ", kdf_params=WEAK)[0].lock()


def test_refuses_to_overwrite(vault: Vault, vault_dir: Path) -> None:
    with pytest.raises(VaultExists):
        Vault.create(vault_dir, PASSPHRASE, kdf_params=WEAK)


def test_passphrase_is_nfc_normalised(tmp_path: Path) -> None:
    composed = "ӣ ӯ passphrase ҷ words"  # precomposed letters
    import unicodedata

    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    Vault.create(tmp_path / "v", composed, kdf_params=WEAK)[0].lock()
    Vault.unlock(tmp_path / "v", decomposed).lock()


def test_corrupt_keyslot_file_is_reported(vault: Vault, vault_dir: Path) -> None:
    vault.lock()
    (vault_dir / "keyslots").write_bytes(b"garbage")
    with pytest.raises(CorruptVault):
        Vault.unlock(vault_dir, PASSPHRASE)


def test_keyslots_from_another_vault_rejected(tmp_path: Path) -> None:
    a, _ = Vault.create(tmp_path / "a", PASSPHRASE, kdf_params=WEAK)
    b, _ = Vault.create(tmp_path / "b", PASSPHRASE, kdf_params=WEAK)
    a.lock()
    b.lock()
    (tmp_path / "a" / "keyslots").write_bytes((tmp_path / "b" / "keyslots").read_bytes())
    with pytest.raises(CorruptVault):
        Vault.unlock(tmp_path / "a", PASSPHRASE)


def test_calibration_never_below_floor() -> None:
    # A clock that makes every run look slow: calibration must still keep the floor.
    ticks = iter([0.0, 100.0])
    params, _ = kdf.calibrate(memory_kib=kdf.MIN_MEMORY_KIB, clock=lambda: next(ticks))
    assert params.meets_production_floor()
    assert params == kdf.FLOOR
    assert not WEAK.meets_production_floor()


def test_calibration_grows_time_cost_on_fast_machines() -> None:
    ticks = iter([0.0, 0.03])  # 10 ms a pass
    params, seconds = kdf.calibrate(memory_kib=kdf.PREFERRED_MEMORY_KIB, clock=lambda: next(ticks))
    assert params.memory_kib == kdf.PREFERRED_MEMORY_KIB
    assert params.time_cost == kdf.MAX_CALIBRATED_TIME_COST
    assert params.parallelism == 4
    assert seconds > 0

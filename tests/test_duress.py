"""The duress passphrase, end to end through the CLI and the service: entering it shreds
the vault and leaves one that looks like a vault just made (same files and sizes, no byte
of the old one), with the same output and exit code as a normal unlock; the real
passphrase and the recovery code keep working while it is set; it can be removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldkit.errors import AuthenticationFailed, InvalidInput
from fieldkit.formats import keyslots
from fieldkit.services.drafts import DraftService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests.conftest import NEW_PASSPHRASE, PASSPHRASE, WEAK, cli
from tests.test_erase import Markers, add_marked, plain_hits, raw_hits

DURESS = "violet anchor drifting quietly seventeen"
WINDOW = 32


def _files(root: Path) -> dict[str, int]:
    """Every file and folder under `root`, relative, with its size (folders: -1)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size if p.is_file() else -1)
        for p in sorted(root.rglob("*"))
    }


def _chunks(root: Path) -> set[bytes]:
    """Every aligned 32-byte piece of every file: a copied run of 64 bytes contains one."""
    out: set[bytes] = set()
    for p in root.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            out.update(data[i : i + WINDOW] for i in range(0, len(data) - WINDOW + 1, WINDOW))
    return out


def _shared(root: Path, old: set[bytes]) -> list[str]:
    hits = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if any(data[i : i + WINDOW] in old for i in range(len(data) - WINDOW + 1)):
                hits.append(p.name)
    return hits


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    d = tmp_path / "secrets"
    d.mkdir()
    for name, value in (("real", PASSPHRASE), ("duress", DURESS), ("new", NEW_PASSPHRASE)):
        (d / name).write_text(value + "\n", encoding="utf-8")
    return d


def _opts(vault: Path, secrets_dir: Path, which: str) -> list[str]:
    return ["--vault", str(vault), "--passphrase-file", str(secrets_dir / which)]


def _full_vault(root: Path, mk: Markers) -> str:
    """A vault with two records (versions, attachments, drafts), its recovery code."""
    v, code = Vault.create(root, PASSPHRASE, kdf_params=WEAK)
    try:
        add_marked(v.db, mk, "a")
        add_marked(v.db, mk, "b")
        assert plain_hits(v, v._key(), mk.needles()) != []  # the scan can fail
    finally:
        v.lock()
    return code


def test_cli_duress_unlock_shreds_and_looks_like_a_new_vault(
    tmp_path: Path, secrets_dir: Path
) -> None:
    mk = Markers()
    real = tmp_path / "real"
    _full_vault(real, mk)
    r = cli(["duress", "status", "--json", *_opts(real, secrets_dir, "real")])
    assert json.loads(r.out) == {"duress_passphrase": False}
    r = cli(
        ["duress", "set", "--duress-passphrase-file", str(secrets_dir / "duress"),
         *_opts(real, secrets_dir, "real")]
    )  # fmt: skip
    assert r.code == 0, r.err
    r = cli(["duress", "status", "--json", *_opts(real, secrets_dir, "real")])
    assert json.loads(r.out) == {"duress_passphrase": True}
    # The reference: a vault made by `init`, then opened once by the same command.
    fresh = tmp_path / "fresh"
    assert cli(["init", *_opts(fresh, secrets_dir, "duress")]).code == 0
    expected = cli(["record", "list", *_opts(fresh, secrets_dir, "duress")])
    old_bytes = _chunks(real)
    assert _shared(real, old_bytes) != []  # the scan can fail

    got = cli(["record", "list", *_opts(real, secrets_dir, "duress")])

    assert (got.code, got.out, got.err) == (expected.code, expected.out, expected.err)
    assert _files(real) == _files(fresh)
    assert _shared(real, old_bytes) == []  # no ciphertext, WAL, draft or attachment left
    assert raw_hits(real, mk.needles()) == []
    assert len((real / "keyslots").read_bytes()) == keyslots.FILE_SIZE
    # The records are gone for the real passphrase too; the new vault opens with duress,
    # is empty, and knows of no duress passphrase (it was made with none).
    r = cli(["record", "list", *_opts(real, secrets_dir, "real")])
    assert r.code == 4
    with Vault.unlock(real, DURESS) as v:
        assert RecordService(v.db).count() == 0
        assert DraftService(v.db).all() == []
        assert plain_hits(v, v._key(), mk.needles()) == []
        assert not v.has_duress_passphrase()
    r = cli(["duress", "status", "--json", *_opts(real, secrets_dir, "duress")])
    assert json.loads(r.out) == {"duress_passphrase": False}


def test_real_passphrase_and_recovery_code_still_work_and_duress_can_be_removed(
    tmp_path: Path,
) -> None:
    mk = Markers()
    root = tmp_path / "v"
    code = _full_vault(root, mk)
    with Vault.unlock(root, PASSPHRASE) as v:
        v.set_duress_passphrase(DURESS)
        assert v.has_duress_passphrase()
    for _ in range(2):
        with Vault.unlock(root, PASSPHRASE) as v:
            assert RecordService(v.db).count() == 2
        with Vault.unlock_with_recovery_code(root, code) as v:
            assert RecordService(v.db).count() == 2
    with Vault.unlock(root, PASSPHRASE) as v:
        assert v.remove_duress_passphrase() is True
        assert not v.has_duress_passphrase()
        assert v.remove_duress_passphrase() is False
    with pytest.raises(AuthenticationFailed):  # now only a wrong passphrase
        Vault.unlock(root, DURESS)
    with Vault.unlock(root, PASSPHRASE) as v:
        assert RecordService(v.db).count() == 2


def test_duress_must_differ_from_the_passphrase_and_pass_the_policy(
    tmp_path: Path, secrets_dir: Path
) -> None:
    root = tmp_path / "v"
    Vault.create(root, PASSPHRASE, kdf_params=WEAK)[0].lock()
    before = (root / "keyslots").read_bytes()
    r = cli(
        ["duress", "set", "--duress-passphrase-file", str(secrets_dir / "real"),
         *_opts(root, secrets_dir, "real")]
    )  # fmt: skip
    assert r.code == InvalidInput.exit_code, r.err
    assert "must differ" in r.err
    weak = secrets_dir / "weak"
    weak.write_text("password123\n")
    r = cli(
        ["duress", "set", "--duress-passphrase-file", str(weak), *_opts(root, secrets_dir, "real")]
    )
    assert r.code != 0 and "Traceback" not in r.err
    assert (root / "keyslots").read_bytes() == before
    # Nor can the passphrase later become the duress one.
    with Vault.unlock(root, PASSPHRASE) as v:
        v.set_duress_passphrase(DURESS)
        with pytest.raises(InvalidInput, match="duress"):
            v.change_passphrase(DURESS)
        v.change_passphrase(NEW_PASSPHRASE)  # any other is fine; duress stays
        assert v.has_duress_passphrase()


def test_the_duress_passphrase_at_settings_checks_is_only_a_wrong_one(tmp_path: Path) -> None:
    """check_passphrase (Settings asks again before a security change) is not an unlock:
    it neither counts a failure nor runs the duress wipe."""
    root = tmp_path / "v"
    v, _ = Vault.create(root, PASSPHRASE, kdf_params=WEAK)
    try:
        v.set_wipe_after_failures(5)
        v.set_duress_passphrase(DURESS)
        counter = (root / "attempts").read_bytes()
        files = _files(root)
        assert not v.check_passphrase(DURESS)
        assert not v.check_passphrase(NEW_PASSPHRASE)
        assert v.check_passphrase(PASSPHRASE)
        assert (root / "attempts").read_bytes() == counter
        assert _files(root) == files
    finally:
        v.lock()


def test_an_hq_vault_becomes_a_new_hq_vault(tmp_path: Path) -> None:
    root = tmp_path / "hq"
    v, _ = Vault.create(root, PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ Almaty")
    v.set_duress_passphrase(DURESS)
    vault_id = v.keyslot_file.vault_id
    v.lock()
    with Vault.unlock(root, DURESS) as v:
        assert v.kind == "hq"
        assert v.keyslot_file.vault_id != vault_id


def test_a_vault_with_duress_has_a_keyslot_file_of_the_same_size_and_shape(
    tmp_path: Path,
) -> None:
    files = {}
    for name, duress in (("plain", False), ("duress", True)):
        v, _ = Vault.create(tmp_path / name, PASSPHRASE, kdf_params=WEAK)
        with v:
            if duress:
                v.set_duress_passphrase(DURESS)
        files[name] = (tmp_path / name / "keyslots").read_bytes()
    plain, with_duress = files["plain"], files["duress"]
    assert len(plain) == len(with_duress) == keyslots.FILE_SIZE
    for data in (plain, with_duress):
        parsed = keyslots.parse(data)
        assert parsed.params == WEAK and len(parsed.slots) == 4
        for slot in parsed.slots:
            raw = slot.to_bytes()
            assert len(set(raw)) > 40 and raw.count(0) < 8  # not constant, not zeros
    # Same header layout: only the random fields (vault id, salt) differ.
    assert plain[:10] == with_duress[:10] and plain[26:36] == with_duress[26:36]

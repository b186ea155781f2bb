"""Claims of SECURITY.md that no other test checked, each named there by its number."""

from __future__ import annotations

import base64
import io
import stat
from pathlib import Path

import pytest

from fieldkit.errors import NotForThisHQ, WeakPassphrase
from fieldkit.formats import age_header
from fieldkit.formats.padding import padme
from fieldkit.services import export as export_svc
from fieldkit.services import hq_import, identity, model, trust
from fieldkit.services.attachments import AttachmentService
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests import bundle_forge as forge
from tests.bundle_fixtures import Pair, vault_digest
from tests.conftest import NEW_PASSPHRASE, PASSPHRASE, WEAK, cli


def test_a_passphrase_change_refuses_a_weak_passphrase(vault: Vault, vault_dir: Path) -> None:
    """Guarantee 4: refused at every change, not only at init; the old one still opens."""
    keyslots = (vault_dir / "keyslots").read_bytes()
    with pytest.raises(WeakPassphrase, match="refused"):
        vault.change_passphrase("qwerty123456")
    vault.lock()
    assert (vault_dir / "keyslots").read_bytes() == keyslots
    Vault.unlock(vault_dir, PASSPHRASE).lock()


def test_a_cli_crash_prints_only_the_exceptions_type(
    cli_vault: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guarantee 6: a bug whose message holds testimony prints its type, nothing more."""
    secret = "Гулноза Раҳимова, улица Ленина 5"

    def broken(self: RecordService, *args: object, **kwargs: object) -> None:
        narrative = secret
        raise ValueError(f"boom {narrative}")

    monkeypatch.setattr(RecordService, "list_records", broken)
    r = cli(["record", "list", *cli_vault])
    assert r.code == 1
    assert r.err.splitlines()[0] == "fieldkit: error: internal error (ValueError)"
    for text in (r.out, r.err):
        assert secret not in text and "Гулноза" not in text and "Traceback" not in text


def test_every_file_and_folder_of_a_used_vault_is_private(vault: Vault, vault_dir: Path) -> None:
    """Guarantee 11, after records, an attachment and a passphrase change (WAL, SHM,
    attachment folder and file, a rewritten keyslot file), not only a new vault."""
    rid = RecordService(vault.db).add(model.template())
    AttachmentService(vault.db).add_stream(rid, io.BytesIO(b"x" * 5000), filename="a.jpg")
    vault.change_passphrase(NEW_PASSPHRASE)
    entries = sorted(vault_dir.rglob("*"))
    assert any(p.is_dir() for p in entries) and len([p for p in entries if p.is_file()]) >= 4
    assert stat.S_IMODE(vault_dir.stat().st_mode) == 0o700
    for p in entries:
        want = 0o700 if p.is_dir() else 0o600
        assert stat.S_IMODE(p.stat().st_mode) == want, p


def test_a_bundle_shows_only_its_size_class_and_recipient_count(pair: Pair) -> None:
    """Guarantee 13: outside the encryption, one post-quantum stanza per HQ recipient and
    a Padmé length; no key, fingerprint or name of the sending device."""
    pair.add_testimony("Задержан после протеста", attachment=b"photo" * 300)
    out = pair.tmp / "1.age"
    assert export_svc.export(pair.field.db, out) is not None
    data = out.read_bytes()
    header = age_header.parse(io.BytesIO(data))
    assert [s.type for s in header.stanzas] == ["mlkem768x25519"]
    # age: header, 16-byte nonce, then 64 KiB chunks each with a 16-byte tag (one here).
    payload = len(data) - header.size - 16 - 16
    assert 0 < payload < 64 * 1024 and padme(payload) == payload
    card = identity.device(pair.field.db).card
    for leak in (
        card.signing_key,
        base64.b64encode(card.signing_key),
        card.fingerprint,
        card.fingerprint.hex().encode(),
        card.short_code.encode(),
        card.age_recipient.public,
        card.age_recipient.encode().encode(),
        card.name.encode(),
    ):
        assert leak not in data


def test_a_bundle_forwarded_from_another_hq_is_refused(pair: Pair) -> None:
    """Guarantee 14: HQ A re-encrypts a device's bundle to HQ B, which has enrolled the
    device too; the signed manifest names only A, so B refuses it and writes nothing."""
    other, _ = Vault.create(pair.tmp / "hq-b", PASSPHRASE, kdf_params=WEAK, kind="hq")
    try:
        trust.enroll(other.db, identity.device(pair.field.db).card_text())
        pair.add_testimony()
        sent = pair.tmp / "1.age"
        assert export_svc.export(pair.field.db, sent) is not None
        container = forge.decrypt(sent.read_bytes(), identity.hq(pair.hq.db).age)
        forwarded = pair.tmp / "forwarded.age"
        forwarded.write_bytes(forge.encrypt(container, identity.hq(other.db).age.recipient()))
        before = vault_digest(other.db)
        with pytest.raises(NotForThisHQ):
            hq_import.import_bundle(other.db, forwarded)
        with pytest.raises(NotForThisHQ):
            hq_import.import_bundle(other.db, forwarded, dry_run=True)
        assert vault_digest(other.db) == before
        assert RecordService(other.db).count() == 0
        # The same bundle as sent imports at A: the refusal is about the recipient only.
        assert not hq_import.import_bundle(pair.hq.db, sent).duplicate
    finally:
        other.lock()

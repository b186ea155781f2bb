"""Receipts a laptop must refuse, or take as a no-op, through the CLI: each with its exit
code, and the vault's content unchanged (a digest of every row and file before/after)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from fieldkit.crypto import signing
from fieldkit.crypto.age_keys import HybridRecipient
from fieldkit.crypto.labels import RECEIPT
from fieldkit.formats import age
from fieldkit.formats import receipts as receipt_fmt
from fieldkit.formats.receipts import Receipt
from fieldkit.services import export as export_svc
from fieldkit.services import hq_import, identity, model, trust
from fieldkit.services.records import RecordService
from fieldkit.services.vault import Vault
from tests.bundle_fixtures import Pair, make_pair, vault_digest
from tests.conftest import PASSPHRASE, WEAK, CliResult, cli


@dataclass
class World:
    """A laptop that sent bundle 1 to HQ; HQ imported it and wrote its receipt."""

    pair: Pair
    receipt: Path  # bundle 1's genuine receipt
    field_opts: list[str]

    def genuine(self) -> Receipt:
        data = self.receipt.read_bytes()
        device = self.pair.field
        with_key = age.decrypt_bytes(data, [identity.device(device.db).age])
        return receipt_fmt.parse(with_key)[1]

    def seal(self, r: Receipt, secret: bytes, name: str) -> Path:
        """Sign `r` with `secret` and encrypt it to the laptop, as HQ would."""
        body = receipt_fmt.encode_body(r)
        sig = signing.sign(secret, RECEIPT, receipt_fmt.signed_parts(body))
        to = HybridRecipient(identity.device(self.pair.field.db).card.age_recipient.public)
        path = self.pair.tmp / name
        path.write_bytes(age.encrypt_bytes(receipt_fmt.serialise(body, sig), [to]))
        return path

    def hq_secret(self) -> bytes:
        return identity.hq(self.pair.hq.db).signing_secret

    def import_(self, path: Path) -> tuple[CliResult, bool]:
        """`receipt import` through the CLI; (result, whether the vault is unchanged)."""
        before = self.digest()
        r = cli(["receipt", "import", str(path), *self.field_opts])
        return r, self.digest() == before

    def digest(self) -> tuple[dict[str, int], str]:
        v = Vault.unlock(self.pair.tmp / "field", PASSPHRASE)
        try:
            return vault_digest(v.db)
        finally:
            v.lock()


@pytest.fixture
def world(tmp_path: Path) -> World:
    pair = make_pair(tmp_path)
    pair.add_testimony("testimony", attachment=b"scan")
    export_svc.export(pair.field.db, tmp_path / "1.age")
    rdir = tmp_path / "receipts"
    rdir.mkdir()
    rep = hq_import.import_bundle(pair.hq.db, tmp_path / "1.age", receipts_dir=rdir)
    assert rep.receipt is not None
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    opts = ["--vault", str(tmp_path / "field"), "--passphrase-file", str(pf)]
    return World(pair, rep.receipt, opts)


def _refused(r: CliResult, code: int, unchanged: bool) -> None:
    assert r.code == code, (r.code, r.err)
    assert unchanged
    assert r.err.startswith("fieldkit: error: ") and "Traceback" not in r.err


def test_a_forged_receipt_is_refused(world: World) -> None:
    forged = world.seal(world.genuine(), signing.generate_secret(), "forged.age")
    r, unchanged = world.import_(forged)
    _refused(r, 24, unchanged)


def test_a_receipt_from_an_untrusted_hq_is_refused(world: World, tmp_path: Path) -> None:
    other, _ = Vault.create(tmp_path / "hq2", PASSPHRASE, kdf_params=WEAK, kind="hq", name="X")
    me = identity.hq(other.db)
    other.lock()
    path = world.seal(replace(world.genuine(), hq=me.card.fingerprint), me.signing_secret, "u.age")
    r, unchanged = world.import_(path)
    _refused(r, 30, unchanged)
    assert "does not trust" in r.err


def test_a_receipt_from_a_trusted_hq_the_bundle_was_not_sent_to_is_refused(
    world: World, tmp_path: Path
) -> None:
    """Trusted now is not enough: an HQ card trusted after the bundle left (a substituted
    card, say) never saw the bundle, and its receipt must not lead to purge."""
    other, _ = Vault.create(tmp_path / "hq2", PASSPHRASE, kdf_params=WEAK, kind="hq", name="X")
    me = identity.hq(other.db)
    other.lock()
    trust.trust_hq(world.pair.field.db, me.card_text())
    path = world.seal(replace(world.genuine(), hq=me.card.fingerprint), me.signing_secret, "n.age")
    r, unchanged = world.import_(path)
    _refused(r, 26, unchanged)
    assert "was not sent to" in r.err


def test_a_receipt_for_another_device_is_refused(world: World, tmp_path: Path) -> None:
    # Another laptop's genuine receipt: encrypted to that laptop, not this one.
    laptop, _ = Vault.create(tmp_path / "b", PASSPHRASE, kdf_params=WEAK, name="FW-09")
    trust.trust_hq(laptop.db, identity.hq(world.pair.hq.db).card_text())
    trust.enroll(world.pair.hq.db, identity.device(laptop.db).card_text())
    RecordService(laptop.db).add(model.template())
    export_svc.export(laptop.db, tmp_path / "b1.age")
    other_device = identity.device(laptop.db).card.fingerprint
    laptop.lock()
    rep = hq_import.import_bundle(
        world.pair.hq.db, tmp_path / "b1.age", receipts_dir=world.receipt.parent
    )
    assert rep.receipt is not None
    r, unchanged = world.import_(rep.receipt)
    _refused(r, 21, unchanged)
    # The same receipt, signed by HQ but encrypted to this laptop, still names the other.
    theirs = replace(world.genuine(), device=other_device)
    r, unchanged = world.import_(world.seal(theirs, world.hq_secret(), "d.age"))
    _refused(r, 5, unchanged)
    assert "another device" in r.err


def test_a_receipt_for_an_unknown_bundle_is_refused(world: World) -> None:
    unknown = replace(world.genuine(), bundle_id=os.urandom(16))
    r, unchanged = world.import_(world.seal(unknown, world.hq_secret(), "x.age"))
    _refused(r, 5, unchanged)
    assert "did not make" in r.err


@pytest.mark.parametrize("where", [40, 200, -20], ids=["header", "stanza", "payload"])
def test_a_bit_flipped_receipt_is_refused(world: World, where: int) -> None:
    data = bytearray(world.receipt.read_bytes())
    data[where] ^= 0x04
    path = world.pair.tmp / "flipped.age"
    path.write_bytes(bytes(data))
    r, unchanged = world.import_(path)
    assert r.code in (20, 21, 22), (r.code, r.err)
    _refused(r, r.code, unchanged)


@pytest.mark.parametrize("keep", [0, 30, 300, -1], ids=["empty", "header", "stanza", "tail"])
def test_a_truncated_receipt_is_refused(world: World, keep: int) -> None:
    data = world.receipt.read_bytes()
    path = world.pair.tmp / "cut.age"
    path.write_bytes(data[:keep])
    r, unchanged = world.import_(path)
    assert r.code in (20, 22), (r.code, r.err)
    _refused(r, r.code, unchanged)


def test_a_receipt_imported_twice_is_a_no_op_and_says_so(world: World) -> None:
    first, changed = world.import_(world.receipt)
    assert first.code == 0 and not changed
    again, unchanged = world.import_(world.receipt)
    assert again.code == 0 and unchanged
    assert "already receipted before: nothing changed" in again.out


def test_receipts_out_of_order_cover_each_their_own_bundle(world: World) -> None:
    """Bundle 2's receipt before bundle 1's: each covers what its bundle carried."""
    pair = world.pair
    later = pair.add_testimony("second")
    export_svc.export(pair.field.db, pair.tmp / "2.age")
    rep = hq_import.import_bundle(pair.hq.db, pair.tmp / "2.age", receipts_dir=pair.tmp)
    assert rep.receipt is not None
    r2, _ = world.import_(rep.receipt)
    assert r2.code == 0, r2.err
    listed = cli(["record", "list", "--json", *world.field_opts]).json()
    assert {r["id"]: r["delivery"]["state"] for r in listed} == {
        later: "delivered",
        next(r["id"] for r in listed if r["id"] != later): "waiting",
    }
    r1, _ = world.import_(world.receipt)
    assert r1.code == 0 and "bundle 1" in r1.out
    purged = cli(["purge", "--delivered", "--yes", "--json", *world.field_opts]).json()
    assert (purged["records"], purged["attachments"]) == (2, 1)


def test_a_receipt_after_purge_changes_nothing(world: World) -> None:
    assert world.import_(world.receipt)[0].code == 0
    assert cli(["purge", "--delivered", "--yes", *world.field_opts]).code == 0
    again, unchanged = world.import_(world.receipt)
    assert again.code == 0 and unchanged
    assert "already receipted before: nothing changed" in again.out


@pytest.mark.parametrize("problem", ["missing", "a file", "read-only"])
def test_hq_import_checks_the_receipts_folder_before_importing(
    tmp_path: Path, problem: str
) -> None:
    pair = make_pair(tmp_path)
    pair.add_testimony("testimony")
    export_svc.export(pair.field.db, tmp_path / "1.age")
    folder = tmp_path / "receipts"
    if problem == "a file":
        folder.write_text("")
    elif problem == "read-only":
        folder.mkdir(mode=0o500)
        if os.geteuid() == 0:  # root writes anywhere permission bits allow nothing
            folder = Path("/sys")  # sysfs refuses new files, even to root
    before = pair.hq_digest()
    pair.hq.lock()
    pf = tmp_path / "pass"
    pf.write_text(PASSPHRASE + "\n")
    hq = ["--vault", str(tmp_path / "hq"), "--passphrase-file", str(pf)]
    r = cli(["hq", "import", str(tmp_path / "1.age"), "--receipts", str(folder), *hq])
    assert r.code == 9, r.err
    assert str(folder) in r.err and "nothing was imported" in r.err
    v = Vault.unlock(tmp_path / "hq", PASSPHRASE)
    try:
        assert vault_digest(v.db) == before
    finally:
        v.lock()


def test_a_receipts_file_name_names_neither_tool_nor_device(world: World) -> None:
    code = identity.device(world.pair.field.db).card.short_code
    assert re.fullmatch(r"[0-9a-f]{8}\.age", world.receipt.name)
    assert code[:4] not in world.receipt.name.upper()


def test_export_to_a_folder_names_the_bundle_neutrally(world: World) -> None:
    world.pair.add_testimony("second")
    usb = world.pair.tmp / "usb"
    usb.mkdir()
    r = cli(["export", "--out", str(usb), "--json", *world.field_opts])
    assert r.code == 0, r.err
    (made,) = usb.iterdir()
    assert re.fullmatch(r"[0-9a-f]{8}\.age", made.name) and r.json()["path"] == str(made)

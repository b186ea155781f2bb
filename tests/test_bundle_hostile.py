"""Hostile bundles: every one is refused with its exit code and one line, no traceback,
and the HQ vault is left exactly as it was (counts and a digest of every row)."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from fieldkit.crypto import signing
from fieldkit.formats import age_header, bundle
from fieldkit.formats.canonical import canonical_json
from fieldkit.services import export as export_svc
from fieldkit.services import identity, model, trust
from fieldkit.services.vault import Vault
from tests import bundle_forge as forge
from tests.bundle_fixtures import Pair, make_pair
from tests.conftest import PASSPHRASE, WEAK, cli


@dataclass
class World:
    pair: Pair
    bundle: bytes  # a valid bundle 1 from the enrolled device
    container: bytes  # its plaintext container
    tmp: Path
    n: int = 0

    @property
    def hq_opts(self) -> list[str]:
        pf = self.tmp / "pass"
        if not pf.exists():
            pf.write_text(PASSPHRASE + "\n")
        return ["--vault", str(self.tmp / "hq"), "--passphrase-file", str(pf)]

    def hq_id(self):  # type: ignore[no-untyped-def]
        return identity.hq(self.pair.hq.db)

    def device_secret(self) -> bytes:
        return identity.device(self.pair.field.db).signing_secret

    def reseal(self, container: bytes) -> bytes:
        return forge.encrypt(container, self.hq_id().age.recipient())

    def refused(self, data: bytes, codes: set[int]) -> str:
        """Import through the CLI; assert a clean refusal and an unchanged HQ vault.
        Then `inspect --with-vault`, which must refuse it the same way (its dry run is
        the import's own code): the same exit code and the same reason."""
        before = self.pair.hq_digest()
        self.n += 1
        path = self.tmp / f"hostile-{self.n}.fkb"
        path.write_bytes(data)
        r = cli(["hq", "import", str(path), *self.hq_opts])
        lines = r.err.strip().splitlines()
        assert r.code in codes, (r.code, r.err)
        assert len(lines) == 2 and lines[0].startswith("fieldkit: error: "), r.err
        assert lines[1].startswith("fieldkit: hint: ")
        assert "Traceback" not in r.err
        assert self.pair.hq_digest() == before
        reason = lines[0].removeprefix(f"fieldkit: error: {path}: ")
        assert inspected(path, self.hq_opts) == (r.code, reason)
        assert self.pair.hq_digest() == before
        return r.err


def inspected(path: Path, hq_opts: list[str]) -> tuple[int, str]:
    """(exit code, reason) of `inspect --with-vault`: its one verdict."""
    r = cli(["inspect", str(path), "--with-vault", "--json", *hq_opts])
    assert "Traceback" not in r.err
    if r.code == 0:
        assert r.json()["verified"] is True and r.json()["problems"] == []
        return 0, ""
    if r.out:  # the manifest opened: the dry run's verdict
        assert r.json()["verified"] is False and len(r.json()["problems"]) == 1
        return r.code, r.json()["problems"][0]
    lines = r.err.strip().splitlines()  # refused before a manifest could be read
    assert len(lines) == 2 and lines[0].startswith("fieldkit: error: "), r.err
    return r.code, lines[0].removeprefix("fieldkit: error: ")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("hostile")
    pair = make_pair(tmp)
    pair.add_testimony(
        "Свидетельство, которое никто не должен прочесть", attachment=os.urandom(200_000)
    )
    out = tmp / "good.fkb"
    export_svc.export(pair.field.db, out)
    data = out.read_bytes()
    w = World(pair, data, forge.decrypt(data, identity.hq(pair.hq.db).age), tmp)
    yield w
    pair.field.lock()
    pair.hq.lock()


def _regions(data: bytes) -> dict[str, int]:
    header = age_header.parse(io.BufferedReader(io.BytesIO(data)))  # type: ignore[arg-type]
    hs = header.size
    return {
        "version line": 3,
        "stanza type": len(b"age-encryption.org/v1\n-> ") + 2,
        "stanza argument": 60,
        "stanza body": hs - 60,
        "header MAC": hs - 10,
        "payload nonce": hs + 5,
        "first chunk": hs + 16 + 100,
        "second chunk": hs + 16 + 65552 + 100,
        "last chunk": len(data) - 3,
    }


ENVELOPE_REGIONS = [
    "version line",
    "stanza type",
    "stanza argument",
    "stanza body",
    "header MAC",
    "payload nonce",
    "first chunk",
    "second chunk",
    "last chunk",
]


@pytest.mark.parametrize("region", ENVELOPE_REGIONS)
def test_bit_flip_in_envelope(world: World, region: str) -> None:
    pos = _regions(world.bundle)[region]
    for bit in (0, 6):
        data = bytearray(world.bundle)
        data[pos] ^= 1 << bit
        world.refused(bytes(data), {20, 21, 22})


@pytest.mark.parametrize("region", ENVELOPE_REGIONS)
def test_truncation_in_envelope(world: World, region: str) -> None:
    pos = _regions(world.bundle)[region]
    world.refused(world.bundle[:pos], {20, 21, 22})


def test_truncation_at_chunk_boundaries(world: World) -> None:
    hs = _regions(world.bundle)["payload nonce"] - 5
    for cut in (hs, hs + 16, hs + 16 + 65552, hs + 16 + 2 * 65552, len(world.bundle) - 1):
        world.refused(world.bundle[:cut], {20, 22})


def _container_regions(container: bytes) -> dict[str, int]:
    mbytes, m, _sig, _rest = forge.split(container)
    msig = bundle.PREFIX_SIZE + len(mbytes)
    content = msig + 64
    rec = m.records[0].size
    return {
        "magic": 1,
        "version": 9,
        "manifest length": 11,
        "manifest": bundle.PREFIX_SIZE + len(mbytes) // 2,
        "signature": msig + 10,
        "record": content + rec // 2,
        "attachment start": content + rec + 1,
        "attachment middle": content + rec + m.attachments[0].size // 2,
        "padding": len(container) - 1,
    }


CONTAINER_EXPECT = {
    "magic": {27},
    "version": {27},
    "manifest length": {27},
    "manifest": {24, 27},
    "signature": {24},
    "record": {29},
    "attachment start": {29},
    "attachment middle": {29},
    "padding": {27},
}


@pytest.mark.parametrize("region", sorted(CONTAINER_EXPECT))
def test_bit_flip_inside_the_encryption(world: World, region: str) -> None:
    """Someone with only HQ's public key can re-encrypt altered contents: the signature
    and hashes inside must catch every change."""
    pos = _container_regions(world.container)[region]
    c = bytearray(world.container)
    c[pos] ^= 0x04
    world.refused(world.reseal(bytes(c)), CONTAINER_EXPECT[region])


@pytest.mark.parametrize("region", sorted(CONTAINER_EXPECT))
def test_truncation_inside_the_encryption(world: World, region: str) -> None:
    pos = _container_regions(world.container)[region]
    world.refused(world.reseal(world.container[:pos]), {27})


def test_trailing_data_inside_the_encryption(world: World) -> None:
    world.refused(world.reseal(world.container + b"\0"), {27})
    world.refused(world.reseal(world.container + b"x"), {27})


def test_resigned_with_another_key(world: World) -> None:
    mbytes, _m, _sig, rest = forge.split(world.container)
    other = signing.generate_secret()
    sig = signing.sign(other, b"fieldkit/v1 bundle manifest", bundle.signed_parts(mbytes))
    world.refused(world.reseal(bundle.prefix(mbytes, sig) + rest), {24})


def test_forged_by_someone_with_only_the_hq_public_key(world: World) -> None:
    """A new bundle in the enrolled device's name, signed with the forger's own key."""
    _mb, m, _sig, _rest = forge.split(world.container)
    sections = forge.sections_of(world.container)
    sections[0] = sections[0].replace("никто".encode(), "кто-то".encode())
    forged = forge.build(
        replace(m, seq=2, prev=os.urandom(32)), sections, signing.generate_secret()
    )
    world.refused(world.reseal(forged), {24})


def test_bundle_from_unenrolled_device(world: World, tmp_path: Path) -> None:
    stranger, _ = Vault.create(tmp_path / "stranger", PASSPHRASE, kdf_params=WEAK)
    trust.trust_hq(stranger.db, world.hq_id().card_text())
    from fieldkit.services.records import RecordService

    RecordService(stranger.db).add(
        {"pseudonym": "x", "consent": {"obtained": True, "method": "oral"}}
    )
    export_svc.export(stranger.db, tmp_path / "s.fkb")
    stranger.lock()
    world.refused((tmp_path / "s.fkb").read_bytes(), {23})


def test_fork_same_sequence_different_content(world: World, tmp_path: Path) -> None:
    # First import the genuine bundle 1 in a copy of the world? No: import it for real
    # into a separate HQ so this module's HQ stays unchanged for the other tests.
    pair = make_pair(tmp_path)
    pair.add_testimony("a")
    export_svc.export(pair.field.db, tmp_path / "1.fkb")
    from fieldkit.services import hq_import

    hq_import.import_bundle(pair.hq.db, tmp_path / "1.fkb")
    container = forge.decrypt((tmp_path / "1.fkb").read_bytes(), identity.hq(pair.hq.db).age)
    _mb, m, _s, _r = forge.split(container)
    sections = forge.sections_of(container)
    sections[0] = sections[0].replace(b'"narrative":"a"', b'"narrative":"b"')
    forked = forge.build(m, sections, identity.device(pair.field.db).signing_secret)
    data = forge.encrypt(forked, identity.hq(pair.hq.db).age.recipient())
    before = pair.hq_digest()
    from fieldkit.errors import ForkDetected

    with pytest.raises(ForkDetected):
        hq_import.import_bundle(pair.hq.db, _write(tmp_path / "fork.fkb", data))
    assert pair.hq_digest() == before
    pair.field.lock()
    pair.hq.lock()


def _write(p: Path, data: bytes) -> Path:
    p.write_bytes(data)
    return p


def test_manifest_declaring_huge_lengths(world: World) -> None:
    _mbytes, m, sig, rest = forge.split(world.container)
    # 1. a manifest length of 4 GiB: refused before anything is allocated
    huge_len = bundle.MAGIC + struct.pack(">HI", 1, 0xFFFFFFFF) + b"\0" * 64
    world.refused(world.reseal(huge_len), {27})
    # 2. an msgpack array header claiming four billion records
    bomb = b"\x8a\xa1v\x01\xa7records\xdd\xff\xff\xff\xff"
    world.refused(world.reseal(bundle.prefix(bomb, sig)), {27})
    # 3. a signed manifest whose attachment claims a terabyte (the device key signs it)
    big = replace(
        m,
        seq=2,
        prev=os.urandom(32),
        attachments=(replace(m.attachments[0], size=bundle.MAX_ATTACHMENT_SIZE),),
    )
    container = forge.build(
        big, forge.sections_of(world.container), world.device_secret(), fix_hashes=False
    )
    world.refused(world.reseal(container), {27})
    # 4. a record larger than the limit
    too_big = replace(m, records=(replace(m.records[0], size=bundle.MAX_RECORD_SIZE + 1),))
    world.refused(world.reseal(bundle.prefix(bundle.encode_manifest(too_big), sig) + rest), {27})


def test_attachment_hash_mismatch_signed_by_the_device(world: World) -> None:
    _mb, m, _sig, _rest = forge.split(world.container)
    sections = forge.sections_of(world.container)
    lie = replace(m, attachments=(replace(m.attachments[0], sha256=os.urandom(32)),))
    container = forge.build(lie, sections, world.device_secret(), fix_hashes=False)
    world.refused(world.reseal(container), {29})


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "a/b.jpg",
        "..",
        "nul\x00.jpg",
        "line\nbreak.jpg",
        "\u202eexe.jpg",
        "x" * 300,
    ],
)
def test_hostile_file_names(world: World, name: str) -> None:
    _mb, m, _sig, _rest = forge.split(world.container)
    att = replace(m.attachments[0], name=name)
    manifest = replace(m, attachments=(att,))
    mbytes = bundle.encode_manifest(manifest)
    sig = signing.sign(
        world.device_secret(), b"fieldkit/v1 bundle manifest", bundle.signed_parts(mbytes)
    )
    body = bundle.prefix(mbytes, sig) + b"".join(forge.sections_of(world.container))
    body += bytes(bundle.padding_size(len(body)))
    world.refused(world.reseal(body), {27})


def test_not_an_age_file_at_all(world: World) -> None:
    world.refused(b"", {20})
    world.refused(b"PK\x03\x04 a zip file", {20})
    world.refused(world.container, {20})  # plaintext container, never encrypted


def test_encrypted_to_someone_else(world: World) -> None:
    from fieldkit.crypto.age_keys import HybridIdentity

    world.refused(forge.encrypt(world.container, HybridIdentity.generate().recipient()), {21})


def test_replay_is_a_noop(world: World, tmp_path: Path) -> None:
    pair = make_pair(tmp_path)
    pair.add_testimony("once")
    export_svc.export(pair.field.db, tmp_path / "1.fkb")
    from fieldkit.services import hq_import

    hq_import.import_bundle(pair.hq.db, tmp_path / "1.fkb")
    before = pair.hq_digest()
    assert hq_import.import_bundle(pair.hq.db, tmp_path / "1.fkb").duplicate
    assert pair.hq_digest() == before
    pair.field.lock()
    pair.hq.lock()


# ---- what a stolen device key can sign: content HQ must refuse --------------------


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Set a field of a record section (dotted path, list indexes as numbers)."""

    def change(section: dict[str, Any]) -> None:
        node: Any = section
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[last] = value

    return change


SIGNED_RECORDS = {
    "escape in pseudonym": _set("doc.pseudonym", "K-7\x1b]0;owned\x07\x1b[2J"),
    "C1 CSI in a place": _set("doc.interview.place", "Almaty\x9b31m"),
    "DEL in a unit": _set("doc.incidents.0.perpetrator.unit", "unit\x7f"),
    "OSC 52 in narrative": _set("doc.narrative", "text\x1b]52;c;ZXZpbA==\x07"),
    "newline in a single-line field": _set("doc.persons.0.pseudonym", "K-7\nfake line"),
    "lone surrogate": _set("doc.pseudonym", "K-7 \ud800"),
    "hostile field name": _set("doc.\x1b]52;c;ZXZpbA==\x07", 1),
    "escape in created_at": _set("created_at", "\x1b[2J\x1b]0;owned\x07"),
    "escape in updated_at": _set("updated_at", "2026-05-14T10:00:00Z\x1b[2J"),
    "created_at not a time": _set("created_at", "yesterday"),
    "created_at not a real day": _set("created_at", "2026-02-30T10:00:00Z"),
    "updated_at with an offset": _set("updated_at", "2026-05-14T10:00:00+00:00"),
    "updated_at with other digits": _set("updated_at", "٢٠٢٦-05-14T10:00:00Z"),
    "created_at a number": _set("created_at", 1_780_000_000),
    "unnormalised record": lambda section: section["doc"].pop("tags"),
}


@pytest.mark.parametrize("case", sorted(SIGNED_RECORDS))
def test_validly_signed_hostile_record(world: World, case: str) -> None:
    container = forge.altered(world.container, world.device_secret(), record=SIGNED_RECORDS[case])
    err = world.refused(world.reseal(container), {27})
    assert "\x1b" not in err and "\x9b" not in err


def test_a_record_larger_than_validation_allows(world: World) -> None:
    """Within the 8 MiB a record section may have, but beyond what validation lets a
    device save (model.MAX_DOC_BYTES): refused by validation itself."""

    def big(section: dict[str, Any]) -> None:
        doc = section["doc"]
        person = doc["persons"][0]
        person["sensitive"] = {
            "real_name": "",
            "contacts": "Ж" * 20_000,
            "exact_address": "Ж" * 18_000,
        }
        doc["persons"] = [dict(person, id=f"p{i}") for i in range(1, 101)]
        for inc in doc["incidents"]:
            inc["victims"] = ["p1"]
        doc["narrative"] = ""
        doc["narrative"] = "x" * (model.MAX_DOC_BYTES + 100 - len(canonical_json(doc)))

    container = forge.altered(world.container, world.device_secret(), record=big)
    _mb, m, _sig, _rest = forge.split(container)
    assert model.MAX_DOC_BYTES < m.records[0].size <= bundle.MAX_RECORD_SIZE
    assert "is larger than" in world.refused(world.reseal(container), {27})


SIGNED_ATTACHMENTS = {
    "escape in media type": {"media_type": "image/jpeg\x1b]52;c;ZXZpbA==\x07"},
    "C1 in media type": {"media_type": "image/\x9bjpeg"},
    "newline in media type": {"media_type": "image/jpeg\nfake"},
    "escape in description": {"description": "scan \x1b[2J"},
    "DEL in description": {"description": "scan \x7f"},
    "bidi override in name": {"name": "scan\u202egpj.exe"},
    "escape in name": {"name": "scan\x1b[2J.jpg"},
}


@pytest.mark.parametrize("case", sorted(SIGNED_ATTACHMENTS))
def test_validly_signed_hostile_attachment_entry(world: World, case: str) -> None:
    _mb, m, _sig, _rest = forge.split(world.container)
    att = replace(m.attachments[0], **SIGNED_ATTACHMENTS[case])
    container = forge.altered(world.container, world.device_secret(), attachments=(att,))
    err = world.refused(world.reseal(container), {27})
    assert "\x1b" not in err and "\x9b" not in err


def test_the_unaltered_forgery_tools_make_a_bundle_hq_accepts(world: World) -> None:
    """The cases above fail for what they change, not for how they were made."""
    container = forge.altered(world.container, world.device_secret(), record=lambda d: None)
    path = world.tmp / "control.fkb"
    path.write_bytes(world.reseal(container))
    before = world.pair.hq_digest()
    assert inspected(path, world.hq_opts) == (0, "")
    assert world.pair.hq_digest() == before


def test_a_hidden_extra_recipient_is_reported_not_refused(tmp_path: Path) -> None:
    """A device that trusts a substituted HQ card encrypts to it as well: the signed
    manifest names a recipient this HQ does not know. The import goes ahead (the
    testimony is genuine) and says so, in the report, on stderr and in --json."""
    from fieldkit.services import hq_import

    pair = make_pair(tmp_path)
    other, _ = Vault.create(tmp_path / "hq2", PASSPHRASE, kdf_params=WEAK, kind="hq", name="HQ")
    stranger = identity.hq(other.db).card
    trust.trust_hq(pair.field.db, identity.hq(other.db).card_text())
    other.lock()
    pair.add_testimony("двое получателей")
    export_svc.export(pair.field.db, tmp_path / "1.fkb")
    pair.field.lock()
    pair.hq.lock()
    w = World(pair, b"", b"", tmp_path)
    checked = cli(["inspect", str(tmp_path / "1.fkb"), "--with-vault", "--json", *w.hq_opts])
    assert checked.code == 0 and checked.json()["unknown_recipients"] == [stranger.short_code]
    r = cli(["hq", "import", str(tmp_path / "1.fkb"), *w.hq_opts])
    assert r.code == 0 and "verified and imported 1 new record" in r.out
    assert f"does not know ({stranger.short_code})" in r.err and "substituted" in r.err
    again = cli(["hq", "import", str(tmp_path / "1.fkb"), "--json", *w.hq_opts])
    assert again.json()[0]["unknown_recipients"] == [stranger.short_code]
    hq = Vault.unlock(tmp_path / "hq", PASSPHRASE)
    rep = hq_import.import_bundle(hq.db, tmp_path / "1.fkb")
    assert rep.duplicate and rep.unknown_recipients == [stranger.short_code]
    hq.lock()


# ---- an HQ that already holds this device's and another device's bundles ----------
# Every case above meets an HQ holding nothing from the device, so the chain and
# ownership checks are never reached. Here HQ holds bundle 1 of device A (record rA
# with attachment aA) and bundle 1 of device B (record rB); the template is A's
# genuine bundle 2 (a new version of rA and a second attachment to it), not imported.


@dataclass
class Held:
    world: World
    ra: str
    aa: str
    rb: str
    a_bundle_1: bundle.Manifest
    b_secret: bytes
    b_fingerprint: bytes
    b_hash_1: bytes


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Held]:
    from fieldkit.services import hq_import
    from fieldkit.services.attachments import AttachmentService
    from fieldkit.services.records import RecordService

    tmp = tmp_path_factory.mktemp("held")
    pair = make_pair(tmp)
    ra = pair.add_testimony("первая версия", attachment=b"scan one" * 1000)
    (aa,) = [a.id for a in AttachmentService(pair.field.db).for_record(ra)]
    export_svc.export(pair.field.db, tmp / "a1.fkb")
    hq_import.import_bundle(pair.hq.db, tmp / "a1.fkb")
    b, _ = Vault.create(tmp / "field-b", PASSPHRASE, kdf_params=WEAK, name="FW-07 laptop")
    trust.trust_hq(b.db, identity.hq(pair.hq.db).card_text())
    trust.enroll(pair.hq.db, identity.device(b.db).card_text())
    rb = RecordService(b.db).add(model.template())
    b1 = export_svc.export(b.db, tmp / "b1.fkb")
    assert b1 is not None
    hq_import.import_bundle(pair.hq.db, tmp / "b1.fkb")
    doc = RecordService(pair.field.db).get(ra).doc
    doc["narrative"] = "вторая версия"
    doc["status"] = "complete"
    RecordService(pair.field.db).edit(ra, doc)
    AttachmentService(pair.field.db).add_stream(ra, io.BytesIO(b"scan two" * 1000),
                                                filename="two.jpg")
    export_svc.export(pair.field.db, tmp / "a2.fkb")
    data = (tmp / "a2.fkb").read_bytes()
    hq_age = identity.hq(pair.hq.db).age
    w = World(pair, data, forge.decrypt(data, hq_age), tmp)
    a1 = forge.split(forge.decrypt((tmp / "a1.fkb").read_bytes(), hq_age))[1]
    me_b = identity.device(b.db)
    yield Held(w, ra, aa, rb, a1, me_b.signing_secret, me_b.card.fingerprint, b1.bundle_hash)
    b.lock()
    pair.field.lock()
    pair.hq.lock()


def test_held_template_bundle_verifies(held: Held) -> None:
    """The genuine bundle 2 passes (dry run): each case below fails for its change."""
    w = held.world
    m = forge.split(w.container)[1]
    assert [r.id for r in m.records] == [held.ra] and m.prev is not None
    assert [a.record for a in m.attachments] == [held.ra]
    path = w.tmp / "a2-copy.fkb"
    path.write_bytes(forge.encrypt(forge.altered(w.container, w.device_secret()),
                                   w.hq_id().age.recipient()))
    before = w.pair.hq_digest()
    assert inspected(path, w.hq_opts) == (0, "")
    assert w.pair.hq_digest() == before


def _held_cases(h: Held) -> dict[str, tuple[bytes, set[int]]]:
    w = h.world
    m = forge.split(w.container)[1]
    rec, att = m.records[0], m.attachments[0]
    a_key = w.device_secret()

    def rename(section: dict[str, Any]) -> None:
        section["id"] = h.rb

    return {
        # ownership
        "a record of device B in A's bundle": (
            forge.altered(w.container, a_key, record=rename, records=(replace(rec, id=h.rb),)),
            {27},
        ),
        "an attachment to device B's record": (
            forge.altered(w.container, a_key, attachments=(replace(att, record=h.rb),)),
            {27},
        ),
        "device B's key sending A's record": (
            forge.altered(w.container, h.b_secret, device=h.b_fingerprint, prev=h.b_hash_1),
            {27},
        ),
        "a held attachment id with other content": (
            forge.altered(w.container, a_key, attachments=(replace(att, id=h.aa),)),
            {29},
        ),
        # the chain
        "bundle 2 not following bundle 1": (
            forge.altered(w.container, a_key, prev=os.urandom(32)),
            {28},
        ),
        "another bundle 1": (forge.altered(w.container, a_key, seq=1, prev=None), {28}),
        "bundle 1's id again": (
            forge.altered(w.container, a_key, bundle_id=h.a_bundle_1.bundle_id),
            {28},
        ),
        # content of an update to a held record
        "escape in an update's pseudonym": (
            forge.altered(w.container, a_key, record=_set("doc.pseudonym", "K\x1b[2J")),
            {27},
        ),
        "an update's time not a time": (
            forge.altered(w.container, a_key, record=_set("updated_at", "\x1b]0;x\x07")),
            {27},
        ),
        # a version HQ holds, sent again with other content (only a stolen key can)
        "a held record version with other content": (
            forge.altered(
                w.container, a_key, record=_set("version", 1), records=(replace(rec, version=1),)
            ),
            {28},
        ),
    }


OWNERSHIP = {
    "a record of device B in A's bundle",
    "an attachment to device B's record",
    "device B's key sending A's record",
}
HELD_CASES = [
    "a held record version with other content",
    "a record of device B in A's bundle",
    "an attachment to device B's record",
    "device B's key sending A's record",
    "a held attachment id with other content",
    "bundle 2 not following bundle 1",
    "another bundle 1",
    "bundle 1's id again",
    "escape in an update's pseudonym",
    "an update's time not a time",
]


@pytest.mark.parametrize("case", HELD_CASES)
def test_hostile_bundle_meets_an_hq_holding_the_devices_earlier_bundles(
    held: Held, case: str
) -> None:
    container, codes = _held_cases(held)[case]
    err = held.world.refused(held.world.reseal(container), codes)
    if case in OWNERSHIP:  # refused by the ownership check, not by anything before it
        assert "belongs to" in err, err


@pytest.mark.parametrize(
    "raw",
    [b'"doc":{"x":NaN}', b'"doc":{"x":1e999}', b'"doc":{"x":-Infinity}'],
    ids=["NaN", "overflow", "Infinity"],
)
def test_a_record_section_json_cannot_encode_again(world: World, raw: bytes) -> None:
    """JSON that Python reads but canonical JSON cannot write (NaN, infinities) is a
    clean refusal, not an internal error."""
    _mb, m, _sig, _rest = forge.split(world.container)
    sections = forge.sections_of(world.container)
    section = forge.record_doc(sections[0])
    sections[0] = (
        b'{"created_at":"2026-05-14T10:00:00Z",' + raw + b',"id":"' + section["id"].encode()
        + b'","updated_at":"2026-05-14T10:00:00Z","version":1}'
    )
    container = forge.build(m, sections, world.device_secret())
    world.refused(world.reseal(container), {27})


def test_a_classic_stanza_beside_the_post_quantum_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forger is not bound by fieldkit's never-mix rule: a bundle also encrypted to a
    classic X25519 recipient is refused by import, and so by inspect (which once
    skipped the stanza types)."""
    from fieldkit.crypto.age_keys import X25519Identity
    from fieldkit.formats import age

    monkeypatch.setattr(age, "check_recipient_policy", lambda recipients: None)
    mixed = age.encrypt_bytes(
        world.container, [world.hq_id().age.recipient(), X25519Identity.generate().recipient()]
    )
    monkeypatch.undo()
    assert "post-quantum" in world.refused(mixed, {27})

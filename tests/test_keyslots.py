"""The version-2 keyslot file: round trip, fixed shape, one derivation for every slot,
binding, strict parsing, malleability, and the test vector (docs/vault-format.md)."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.crypto import kdf
from fieldkit.errors import MalformedData
from fieldkit.formats import keyslots
from fieldkit.formats.keyslots import KeyslotFile, Slot, SlotKind
from fieldkit.services import keyring
from tests.conftest import WEAK

VAULT_ID = bytes(range(16))
MASTER = bytes(range(32, 64))
SALT = bytes(range(100, 116))
VECTOR = Path(__file__).parent / "vectors" / "keyslot-v2.json"


def _file(*, duress: bool = True) -> tuple[KeyslotFile, dict[SlotKind, bytes]]:
    """A file with passphrase b"pass", recovery b"code" and (maybe) duress b"duress",
    and the K of each secret."""
    base = KeyslotFile(VAULT_ID, WEAK, SALT, tuple(keyring.random_slot() for _ in range(4)))
    ks = {
        kind: keyring.derive(secret, base)
        for kind, secret in (
            (SlotKind.PASSPHRASE, b"pass"),
            (SlotKind.RECOVERY, b"code"),
            (SlotKind.DURESS, b"duress"),
        )
    }
    f = base
    for kind in (SlotKind.PASSPHRASE, SlotKind.RECOVERY):
        f = f.with_slot(kind, keyring.seal_slot(f, kind, ks[kind], MASTER, os.urandom(28)))
    if duress:
        material = keyring.duress_material(MASTER, VAULT_ID)
        slot = keyring.seal_slot(
            f, SlotKind.DURESS, ks[SlotKind.DURESS], keyring.duress_marker("field"), material
        )
        f = f.with_slot(SlotKind.DURESS, slot)
    return f, ks


def _opens(f: KeyslotFile, k: bytes) -> list[tuple[SlotKind, bytes]]:
    return [(o.kind, bytes(o.plaintext)) for o in keyring.open_all(f, k)]


def test_round_trip_fixed_size_and_each_secret_opens_its_slot_only() -> None:
    f, ks = _file()
    data = keyslots.serialise(f)
    assert len(data) == keyslots.FILE_SIZE == 52 + 4 * 76
    assert keyslots.parse(data) == f
    assert _opens(f, ks[SlotKind.PASSPHRASE]) == [(SlotKind.PASSPHRASE, MASTER)]
    assert _opens(f, ks[SlotKind.RECOVERY]) == [(SlotKind.RECOVERY, MASTER)]
    [(kind, marker)] = _opens(f, ks[SlotKind.DURESS])
    assert kind == SlotKind.DURESS and keyring.duress_vault_kind(marker) == "field"
    assert MASTER not in marker  # the duress slot never wraps the key
    assert _opens(f, keyring.derive(b"wrong", f)) == []


def test_with_and_without_duress_the_file_has_the_same_size_and_shape() -> None:
    """Only the secret tells a used slot from an unused one: same size, same header,
    and every slot's bytes look random (none constant, none zero, no repeated slot)."""
    with_duress, _ = _file(duress=True)
    without, _ = _file(duress=False)
    a, b = keyslots.serialise(with_duress), keyslots.serialise(without)
    assert len(a) == len(b)
    assert a[: keyslots.HEADER_SIZE] == b[: keyslots.HEADER_SIZE]
    for data in (a, b):
        slots = [
            data[keyslots.HEADER_SIZE + i * 76 : keyslots.HEADER_SIZE + (i + 1) * 76]
            for i in range(4)
        ]
        assert len(set(slots)) == 4
        for s in slots:
            assert len(set(s)) > 40  # 76 random bytes have ~62 distinct values
            assert s.count(0) < 8
    # The MK holder can tell, nobody else: the duress slot's tag.
    assert keyring.has_duress(with_duress, MASTER)
    assert not keyring.has_duress(without, MASTER)
    assert not keyring.has_duress(with_duress, bytes(32))


def test_a_slot_moved_to_another_role_or_vault_does_not_open() -> None:
    f, ks = _file()
    moved = f.with_slot(SlotKind.SPARE, f.slot(SlotKind.PASSPHRASE))
    moved = moved.with_slot(SlotKind.PASSPHRASE, keyring.random_slot())
    assert _opens(moved, ks[SlotKind.PASSPHRASE]) == []
    other = KeyslotFile(bytes(16), f.params, f.salt, f.slots)
    assert _opens(other, ks[SlotKind.PASSPHRASE]) == []


def test_every_bit_flip_is_rejected_cleanly() -> None:
    """A flip in the header: parse refuses it, or nothing opens (the header is in every
    slot's AD). A flip in a slot: that slot no longer opens, the others still do."""
    f, ks = _file()
    data = bytearray(keyslots.serialise(f))
    for i in range(len(data)):
        for bit in (0, 7):
            mutated = bytearray(data)
            mutated[i] ^= 1 << bit
            try:
                parsed = keyslots.parse(bytes(mutated))
            except MalformedData:
                continue
            hit = None if i < keyslots.HEADER_SIZE else (i - keyslots.HEADER_SIZE) // 76
            for kind, k in ks.items():
                opened = [o.kind for o in keyring.open_all(parsed, k)]
                if hit is None or hit == keyslots.index_of(kind):
                    assert opened == [], (i, bit, kind)
                else:
                    assert opened == [kind], (i, bit, kind)


def test_every_truncation_and_extension_is_rejected() -> None:
    data = keyslots.serialise(_file()[0])
    for n in range(len(data)):
        with pytest.raises(MalformedData):
            keyslots.parse_any(data[:n])
    with pytest.raises(MalformedData):
        keyslots.parse_any(data + b"\0")


@pytest.mark.parametrize(
    ("offset", "fmt", "value", "match"),
    [
        (8, ">H", 3, "version 3"),
        (26, ">B", 2, "unknown KDF"),
        (27, ">I", kdf.MAX_CALIBRATED_TIME_COST + 1, "time cost"),
        (31, ">I", 2**32 - 1, "memory"),
        (35, ">B", kdf.PARALLELISM + 1, "parallelism"),
    ],
)
def test_the_header_is_checked_before_argon2(
    offset: int, fmt: str, value: int, match: str
) -> None:
    data = bytearray(keyslots.serialise(_file()[0]))
    struct.pack_into(fmt, data, offset, value)
    with pytest.raises(MalformedData, match=match):
        keyslots.parse_any(bytes(data))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=keyslots.MAX_FILE_SIZE + 10))
def test_parser_never_crashes_on_random_bytes(data: bytes) -> None:
    try:
        keyslots.parse_any(data)
    except MalformedData:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(0, keyslots.FILE_SIZE - 1), st.binary(min_size=1, max_size=8))
def test_parser_on_spliced_bytes(pos: int, junk: bytes) -> None:
    data = bytearray(keyslots.serialise(_file()[0]))
    data[pos : pos + len(junk)] = junk
    try:
        keyslots.parse_any(bytes(data[: keyslots.FILE_SIZE]))
    except MalformedData:
        pass


# ---- the test vector (tests/vectors/keyslot-v2.json) -----------------------------------


def _vector_inputs() -> dict[str, str]:
    return json.loads(VECTOR.read_text())["inputs"]  # type: ignore[no-any-return]


def _build_vector() -> bytes:
    v = _vector_inputs()
    params = kdf.Argon2Params(int(v["t_cost"]), int(v["m_cost_kib"]), int(v["parallelism"]))
    spare = Slot.from_bytes(bytes.fromhex(v["spare_slot"]))
    base = KeyslotFile(
        bytes.fromhex(v["vault_id"]), params, bytes.fromhex(v["salt"]), (spare,) * 4
    )
    mk = bytes.fromhex(v["master_key"])
    f = base
    for kind, secret, material in (
        (SlotKind.PASSPHRASE, v["passphrase"].encode(), v["passphrase_slot_salt_nonce"]),
        (SlotKind.RECOVERY, bytes.fromhex(v["recovery_code_raw"]), v["recovery_slot_salt_nonce"]),
    ):
        k = keyring.derive(secret, base)
        f = f.with_slot(kind, keyring.seal_slot(f, kind, k, mk, bytes.fromhex(material)))
    fixed = iter([bytes.fromhex(v["duress_r"]), bytes.fromhex(v["duress_nonce"])])
    material = keyring.duress_material(mk, f.vault_id, lambda n: next(fixed))
    k = keyring.derive(v["duress_passphrase"].encode(), base)
    duress = keyring.seal_slot(f, SlotKind.DURESS, k, keyring.duress_marker("field"), material)
    return keyslots.serialise(f.with_slot(SlotKind.DURESS, duress))


def test_vector_is_what_fieldkit_writes() -> None:
    expected = json.loads(VECTOR.read_text())["file"]
    assert _build_vector().hex() == expected


def test_vector_opens_with_an_independent_reading_of_the_spec() -> None:
    """Decode the vector from docs/vault-format.md alone: OpenSSL's Argon2id, pyca's HKDF
    and ChaCha20-Poly1305, no fieldkit code."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    doc = json.loads(VECTOR.read_text())
    v, data = doc["inputs"], bytes.fromhex(doc["file"])
    assert len(data) == 356
    magic, version, _vid, kdf_id, t, m, p, salt = struct.unpack_from(">8sH16sBIIB16s", data, 0)
    assert (magic, version, kdf_id) == (b"FK-SLOTS", 2, 1)
    header = data[:52]

    def opens(secret: bytes) -> list[tuple[int, int, bytes]]:
        k = Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m).derive(secret)
        found = []
        for i in range(4):
            s = data[52 + 76 * i : 52 + 76 * (i + 1)]
            slot_salt, nonce, wrapped = s[:16], s[16:28], s[28:]
            kek = HKDF(hashes.SHA256(), 32, slot_salt, b"fieldkit/v2 keyslot kek").derive(k)
            for kind in (1, 2, 3):
                ad = b"fieldkit/v2 keyslot wrap" + header + bytes((i, kind)) + slot_salt + nonce
                try:
                    found.append((i, kind, ChaCha20Poly1305(kek).decrypt(nonce, wrapped, ad)))
                except Exception:  # noqa: S112  # a slot that does not open: try the next
                    continue
        return found

    mk = bytes.fromhex(v["master_key"])
    assert opens(v["passphrase"].encode()) == [(0, 1, mk)]
    assert opens(bytes.fromhex(v["recovery_code_raw"])) == [(1, 2, mk)]
    assert opens(v["duress_passphrase"].encode()) == [(2, 3, b"\x01" + bytes(31))]
    # The duress slot's tag: recognisable with MK alone.
    from cryptography.hazmat.primitives import hmac

    tag_key = HKDF(hashes.SHA256(), 32, b"", b"fieldkit/v2 keyslot tag").derive(mk)
    duress_salt = data[52 + 76 * 2 : 52 + 76 * 2 + 16]
    h = hmac.HMAC(tag_key, hashes.SHA256())
    h.update(data[10:26] + duress_salt[:8])
    assert h.finalize()[:8] == duress_salt[8:]
    assert doc["k_passphrase"] == Argon2id(
        salt=salt, length=32, iterations=t, lanes=p, memory_cost=m
    ).derive(v["passphrase"].encode()).hex()

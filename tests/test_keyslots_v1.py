"""The version-1 keyslot file (read to upgrade it): round trip, strict parsing, malleability."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.crypto import kdf
from fieldkit.errors import AuthenticationFailed, MalformedData
from fieldkit.formats import keyslots_v1 as keyslots
from fieldkit.formats.keyslots_v1 import KeyslotFile, SlotKind
from fieldkit.services import keyring
from tests.conftest import WEAK

VAULT_ID = bytes(range(16))
MASTER = bytes(range(32, 64))


def _file() -> KeyslotFile:
    a = keyring.make_slot_v1(SlotKind.PASSPHRASE, b"pass", MASTER, VAULT_ID, WEAK)
    b = keyring.make_slot_v1(SlotKind.RECOVERY, b"code", MASTER, VAULT_ID, WEAK)
    return KeyslotFile(VAULT_ID, (a, b))


def test_round_trip_and_unwrap() -> None:
    f = _file()
    data = keyslots.serialise(f)
    assert len(data) == keyslots.HEADER_SIZE + 2 * keyslots.SLOT_SIZE
    parsed = keyslots.parse(data)
    assert parsed == f
    slot = parsed.slot(SlotKind.PASSPHRASE)
    assert slot is not None
    assert bytes(keyring.unwrap_v1(slot, b"pass", VAULT_ID)) == MASTER
    rec = parsed.slot(SlotKind.RECOVERY)
    assert rec is not None
    assert bytes(keyring.unwrap_v1(rec, b"code", VAULT_ID)) == MASTER


def test_wrong_secret_and_wrong_vault_fail_the_same_way() -> None:
    slot = _file().slots[0]
    with pytest.raises(AuthenticationFailed) as e1:
        keyring.unwrap_v1(slot, b"wrong", VAULT_ID)
    with pytest.raises(AuthenticationFailed) as e2:
        keyring.unwrap_v1(slot, b"pass", bytes(16))
    assert str(e1.value) == str(e2.value)


def test_deterministic_vector() -> None:
    """Fixed secret, salt, nonce and key give fixed bytes (docs/vault-format.md)."""
    slot = keyring._make_slot_v1_from_parts(
        SlotKind.PASSPHRASE,
        b"correct horse battery staple mountain",
        MASTER,
        VAULT_ID,
        kdf.Argon2Params(3, 64 * 1024, 4),
        bytes(16),
        bytes(12),
    )
    data = keyslots.serialise(KeyslotFile(VAULT_ID, (slot,)))
    expected = open(os.path.join(os.path.dirname(__file__), "vectors", "keyslot-v1.hex")).read()
    assert data.hex() == "".join(expected.split())


def test_every_bit_flip_is_rejected_cleanly() -> None:
    data = bytearray(keyslots.serialise(_file()))
    for i in range(len(data)):
        for bit in (0, 7):
            mutated = bytearray(data)
            mutated[i] ^= 1 << bit
            try:
                parsed = keyslots.parse(bytes(mutated))
            except MalformedData:
                continue
            for kind, secret in ((SlotKind.PASSPHRASE, b"pass"), (SlotKind.RECOVERY, b"code")):
                slot = parsed.slot(kind)
                if slot is None:
                    continue
                original = keyslots.parse(bytes(data)).slot(kind)
                if slot == original and parsed.vault_id == VAULT_ID:
                    continue  # the flip hit the other slot
                with pytest.raises((AuthenticationFailed, MalformedData)):
                    keyring.unwrap_v1(slot, secret, parsed.vault_id)


def test_every_truncation_is_rejected() -> None:
    data = keyslots.serialise(_file())
    for n in range(len(data)):
        with pytest.raises(MalformedData):
            keyslots.parse(data[:n])
    with pytest.raises(MalformedData):
        keyslots.parse(data + b"\0")


def test_huge_kdf_parameters_are_refused_before_running_argon2() -> None:
    f = _file()
    huge = keyslots.Keyslot(
        SlotKind.PASSPHRASE, kdf.Argon2Params(3, 2**32 - 1, 4), bytes(16), bytes(12), bytes(48)
    )
    data = bytearray(keyslots.serialise(KeyslotFile(VAULT_ID, (f.slots[0],))))
    # Patch the memory field in place: serialise() itself does not bound it.
    meta = huge.meta_bytes()
    data[keyslots.HEADER_SIZE : keyslots.HEADER_SIZE + len(meta)] = meta
    with pytest.raises(MalformedData, match="memory"):
        keyslots.parse(bytes(data))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=keyslots.MAX_FILE_SIZE + 10))
def test_parser_never_crashes_on_random_bytes(data: bytes) -> None:
    try:
        keyslots.parse(data)
    except MalformedData:
        pass


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, keyslots.HEADER_SIZE + 2 * keyslots.SLOT_SIZE - 1),
    st.binary(min_size=1, max_size=8),
)
def test_parser_on_spliced_bytes(pos: int, junk: bytes) -> None:
    data = bytearray(keyslots.serialise(_file()))
    data[pos : pos + len(junk)] = junk
    try:
        keyslots.parse(bytes(data))
    except MalformedData:
        pass


def test_vector_opens_with_an_independent_reading_of_the_spec() -> None:
    """Decode tests/vectors/keyslot-v1.hex by hand from docs/vault-format.md, with OpenSSL's
    Argon2id (through pyca) rather than argon2-cffi, and no fieldkit code at all."""
    import struct

    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

    path = os.path.join(os.path.dirname(__file__), "vectors", "keyslot-v1.hex")
    data = bytes.fromhex("".join(open(path).read().split()))
    magic, version, _vault_id, count = struct.unpack_from(">8sH16sB", data, 0)
    assert (magic, version, count) == (b"FK-SLOTS", 1, 1)
    kind, kdf_id, t, m, p, salt, nonce = struct.unpack_from(">BBIIB16s12s", data, 27)
    wrapped = data[27 + 39 : 27 + 39 + 48]
    assert (kind, kdf_id, t, m, p) == (1, 1, 3, 65536, 4)
    kek = Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m).derive(
        b"correct horse battery staple mountain"
    )
    ad = b"fieldkit/v1 keyslot wrap" + data[:26] + data[27 : 27 + 39]
    assert ChaCha20Poly1305(kek).decrypt(nonce, wrapped, ad) == MASTER

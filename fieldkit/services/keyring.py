"""Wrap and unwrap the vault master key in keyslots (the key arithmetic behind formats.keyslots).

Version 2 (docs/vault-format.md): one Argon2id run per unlock attempt,

    K     = Argon2id(secret, file salt, file parameters)
    KEK_i = HKDF-SHA256(ikm = K, salt = slot_salt_i, info = "fieldkit/v2 keyslot kek")

and every slot is tried with K, each in the version-2 form and (slots 0 and 1) the legacy
form of a slot carried over from version 1 (KEK = K, its v1 associated data). The work is
the same whichever slot matches, or none: no early exit.

Safety argument for the AEAD nonce: every wrap draws a fresh 16-byte slot salt, so the
key-encryption key is new for every slot ever written even when K repeats (the same
passphrase set again under the same file salt); the random nonce is belt and braces.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from fieldkit.crypto import aead, kdf, subkeys
from fieldkit.crypto.labels import KEYSLOT_V2_KEK, KEYSLOT_V2_TAG
from fieldkit.errors import AuthenticationFailed
from fieldkit.formats import keyslots, keyslots_v1
from fieldkit.formats.keyslots import KeyslotFile, Slot, SlotKind

MASTER_KEY_SIZE = 32
# The duress slot wraps a marker, never a key: byte 0 says which kind of vault to make
# in place of the shredded one, the rest is zero.
DURESS_VAULT_KINDS = {"field": 1, "hq": 2}
SLOT_MATERIAL_SIZE = keyslots.SLOT_SALT_SIZE + aead.NONCE_SIZE


@dataclass
class Opened:
    """A slot that `secret` opened: its role and what it wraps (mutable, to be zeroed)."""

    kind: SlotKind
    plaintext: bytearray


def derive(secret: bytes, f: KeyslotFile) -> bytes:
    """The one Argon2id run of an unlock attempt. Slow: a worker thread in the app."""
    return kdf.derive_key(secret, f.salt, f.params)


def _kek(k: bytes, slot: Slot) -> bytes:
    return subkeys.hkdf_sha256(k, slot.salt, KEYSLOT_V2_KEK)


def seal_slot(
    f: KeyslotFile, kind: SlotKind, k: bytes, plaintext: bytes | bytearray, material: bytes
) -> Slot:
    """A version-2 slot for role `kind` of file `f` (its header is bound), wrapping
    `plaintext` under K. `material` is 28 fresh random bytes: slot salt, then nonce."""
    if len(material) != SLOT_MATERIAL_SIZE or len(plaintext) != MASTER_KEY_SIZE:
        raise ValueError("slot material is 28 bytes and a wrapped value 32")
    salt, nonce = material[: keyslots.SLOT_SALT_SIZE], material[keyslots.SLOT_SALT_SIZE :]
    unsealed = Slot(salt, nonce, bytes(keyslots.WRAPPED_SIZE))
    ad = keyslots.associated_data(f.header_bytes(), kind, unsealed)
    return Slot(salt, nonce, aead.seal(_kek(k, unsealed), nonce, bytes(plaintext), ad))


def random_slot(random_bytes: Callable[[int], bytes] = os.urandom) -> Slot:
    """An unused slot: 76 random bytes, the shape of a used one."""
    return Slot.from_bytes(random_bytes(keyslots.SLOT_SIZE))


def duress_marker(vault_kind: str) -> bytes:
    return bytes((DURESS_VAULT_KINDS[vault_kind],)) + bytes(MASTER_KEY_SIZE - 1)


def duress_vault_kind(marker: bytes | bytearray) -> str | None:
    """The vault kind a duress marker names, or None if it is not a well-formed marker."""
    if len(marker) != MASTER_KEY_SIZE or any(marker[1:]):
        return None
    for name, code in DURESS_VAULT_KINDS.items():
        if marker[0] == code:
            return name
    return None


def open_all(f: KeyslotFile, k: bytes) -> list[Opened]:
    """Every slot K opens. Tries all four slots in every form, whatever matches."""
    header = f.header_bytes()
    found: list[Opened] = []
    for kind, slot in zip(keyslots.ROLES, f.slots, strict=True):
        trials = [(_kek(k, slot), keyslots.associated_data(header, kind, slot))]
        if kind in keyslots.LEGACY_ROLES:
            trials.append((k, keyslots.legacy_associated_data(f, kind, slot)))
        for key, ad in trials:
            try:
                plaintext = aead.open_sealed(key, slot.nonce, slot.wrapped, ad)
            except AuthenticationFailed:
                continue
            found.append(Opened(kind, bytearray(plaintext)))
    return found


# ---- version 1, read to upgrade (and written by tests to make old vaults) ------------


def make_slot_v1(
    kind: keyslots_v1.SlotKind,
    secret: bytes,
    master_key: bytes | bytearray,
    vault_id: bytes,
    params: kdf.Argon2Params,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> keyslots_v1.Keyslot:
    salt = random_bytes(kdf.SALT_SIZE)
    nonce = random_bytes(aead.NONCE_SIZE)
    return _make_slot_v1_from_parts(kind, secret, bytes(master_key), vault_id, params, salt, nonce)


def _make_slot_v1_from_parts(
    kind: keyslots_v1.SlotKind,
    secret: bytes,
    master_key: bytes,
    vault_id: bytes,
    params: kdf.Argon2Params,
    salt: bytes,
    nonce: bytes,
) -> keyslots_v1.Keyslot:
    if len(master_key) != MASTER_KEY_SIZE:
        raise ValueError("master key must be 32 bytes")
    unsealed = keyslots_v1.Keyslot(kind, params, salt, nonce, b"\0" * keyslots_v1.WRAPPED_SIZE)
    kek = kdf.derive_key(secret, salt, params)
    wrapped = aead.seal(kek, nonce, master_key, keyslots_v1.associated_data(vault_id, unsealed))
    return keyslots_v1.Keyslot(kind, params, salt, nonce, wrapped)


def unwrap_v1(slot: keyslots_v1.Keyslot, secret: bytes, vault_id: bytes) -> bytearray:
    """The master key from a v1 slot, or AuthenticationFailed."""
    kek = kdf.derive_key(secret, slot.salt, slot.params)
    key = aead.open_sealed(
        kek, slot.nonce, slot.wrapped_key, keyslots_v1.associated_data(vault_id, slot)
    )
    return bytearray(key)


# ---- the duress slot's tag: whether one is set, known to the holder of the master key --


def duress_material(
    master_key: bytes | bytearray,
    vault_id: bytes,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> bytes:
    """Slot salt and nonce for a duress slot. The salt is 8 random bytes, then the first 8
    bytes of HMAC-SHA256(HKDF(MK, label), vault_id || those 8): random to anyone without MK
    (so the slot still looks unused), while the unlocked real vault can tell that a
    duress passphrase is set without knowing it."""
    r = random_bytes(8)
    return r + _duress_tag(master_key, vault_id, r) + random_bytes(aead.NONCE_SIZE)


def has_duress(f: KeyslotFile, master_key: bytes | bytearray) -> bool:
    salt = f.slot(SlotKind.DURESS).salt
    return hmac.compare_digest(salt[8:], _duress_tag(master_key, f.vault_id, salt[:8]))


def _duress_tag(master_key: bytes | bytearray, vault_id: bytes, r: bytes) -> bytes:
    # A key of its own for the tag, never MK itself (MK is SQLCipher's key).
    tag_key = subkeys.hkdf_sha256(bytes(master_key), b"", KEYSLOT_V2_TAG)
    return subkeys.hmac_sha256(tag_key, vault_id + r)[:8]

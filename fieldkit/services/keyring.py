"""Wrap and unwrap the vault master key in keyslots (the key arithmetic behind formats.keyslots).

Safety argument for the AEAD nonce: every wrap draws a fresh 16-byte salt, so
the key-encryption key (Argon2id of secret and salt) is new for every slot ever
written; the random nonce is belt and braces, not what prevents reuse.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from fieldkit.crypto import aead, kdf
from fieldkit.formats import keyslots
from fieldkit.formats.keyslots import Keyslot, SlotKind

MASTER_KEY_SIZE = 32


def make_slot(
    kind: SlotKind,
    secret: bytes,
    master_key: bytes | bytearray,
    vault_id: bytes,
    params: kdf.Argon2Params,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> Keyslot:
    salt = random_bytes(kdf.SALT_SIZE)
    nonce = random_bytes(aead.NONCE_SIZE)
    return _make_slot_from_parts(kind, secret, bytes(master_key), vault_id, params, salt, nonce)


def _make_slot_from_parts(
    kind: SlotKind,
    secret: bytes,
    master_key: bytes,
    vault_id: bytes,
    params: kdf.Argon2Params,
    salt: bytes,
    nonce: bytes,
) -> Keyslot:
    if len(master_key) != MASTER_KEY_SIZE:
        raise ValueError("master key must be 32 bytes")
    unsealed = Keyslot(kind, params, salt, nonce, b"\0" * keyslots.WRAPPED_SIZE)
    kek = kdf.derive_key(secret, salt, params)
    wrapped = aead.seal(kek, nonce, master_key, keyslots.associated_data(vault_id, unsealed))
    return Keyslot(kind, params, salt, nonce, wrapped)


def unwrap(slot: Keyslot, secret: bytes, vault_id: bytes) -> bytearray:
    """The master key, or AuthenticationFailed. Returned mutable so `lock` can zero it."""
    kek = kdf.derive_key(secret, slot.salt, slot.params)
    key = aead.open_sealed(
        kek, slot.nonce, slot.wrapped_key, keyslots.associated_data(vault_id, slot)
    )
    return bytearray(key)

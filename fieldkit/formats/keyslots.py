"""The keyslot file, version 2: always four slots of one size, one Argon2id salt.

Byte layout (all integers big-endian; docs/vault-format.md is the spec):

    header   magic "FK-SLOTS" (8) | version u16 = 2 | vault_id (16) |
             kdf u8 | t_cost u32 | m_cost_kib u32 | parallelism u8 | salt (16)
    slot i   slot_salt (16) | nonce (12) | wrapped (48 = 32 + 16 tag)      i = 0..3

Each slot has a fixed role: 0 passphrase, 1 recovery code, 2 duress passphrase, 3 spare.
A slot that holds nothing is 76 random bytes, which nobody without the right secret can
tell from a used one: what the file hides is not which role sits where but whether a
role is in use (a duress passphrase above all). A slot's associated data binds the
header, its index and its kind, so a slot moved to another role or another vault fails.

Version 1 (formats/keyslots_v1.py) is read to be upgraded. A slot carried over from
version 1 ("legacy form") keeps its v1 nonce and wrapped key; its v1 salt and parameters
are the file's. This module only parses and serialises; wrapping lives in services.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from enum import IntEnum

from fieldkit.crypto import aead, kdf
from fieldkit.crypto.labels import KEYSLOT_V2_WRAP
from fieldkit.errors import MalformedData
from fieldkit.formats import keyslots_v1

MAGIC = b"FK-SLOTS"
VERSION = 2
VAULT_ID_SIZE = 16
SLOT_COUNT = 4
KDF_ARGON2ID = 1
SLOT_SALT_SIZE = 16

_HEADER = struct.Struct(">8sH16sBIIB16s")
_SLOT = struct.Struct(">16s12s48s")
HEADER_SIZE = _HEADER.size  # 52
SLOT_SIZE = _SLOT.size  # 76
WRAPPED_SIZE = 32 + aead.TAG_SIZE
FILE_SIZE = HEADER_SIZE + SLOT_COUNT * SLOT_SIZE  # 356
# What a reader reads before it knows the version.
MAX_FILE_SIZE = max(FILE_SIZE, keyslots_v1.MAX_FILE_SIZE)


class SlotKind(IntEnum):
    PASSPHRASE = 1
    RECOVERY = 2
    DURESS = 3
    SPARE = 4  # never holds anything yet: always random


# The role of each slot index.
ROLES = (SlotKind.PASSPHRASE, SlotKind.RECOVERY, SlotKind.DURESS, SlotKind.SPARE)
# Roles a v1 slot can have, carried over in legacy form (index 0 or 1).
LEGACY_ROLES = (SlotKind.PASSPHRASE, SlotKind.RECOVERY)


def index_of(kind: SlotKind) -> int:
    return ROLES.index(kind)


@dataclass(frozen=True)
class Slot:
    salt: bytes  # HKDF salt of this slot's key-encryption key (random for a legacy slot)
    nonce: bytes
    wrapped: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> Slot:
        if len(data) != SLOT_SIZE:
            raise ValueError("a slot is 76 bytes")
        salt, nonce, wrapped = _SLOT.unpack(data)
        return cls(bytes(salt), bytes(nonce), bytes(wrapped))

    def to_bytes(self) -> bytes:
        if (
            len(self.salt) != SLOT_SALT_SIZE
            or len(self.nonce) != aead.NONCE_SIZE
            or len(self.wrapped) != WRAPPED_SIZE
        ):
            raise ValueError("bad slot field size")
        return _SLOT.pack(self.salt, self.nonce, self.wrapped)


@dataclass(frozen=True)
class KeyslotFile:
    vault_id: bytes
    params: kdf.Argon2Params
    salt: bytes  # the one Argon2id salt: one derivation per unlock attempt
    slots: tuple[Slot, ...]  # exactly SLOT_COUNT, in role order

    def header_bytes(self) -> bytes:
        if len(self.vault_id) != VAULT_ID_SIZE or len(self.salt) != kdf.SALT_SIZE:
            raise ValueError("bad vault id or salt size")
        return _HEADER.pack(
            MAGIC,
            VERSION,
            self.vault_id,
            KDF_ARGON2ID,
            self.params.time_cost,
            self.params.memory_kib,
            self.params.parallelism,
            self.salt,
        )

    def slot(self, kind: SlotKind) -> Slot:
        return self.slots[index_of(kind)]

    def with_slot(self, kind: SlotKind, slot: Slot) -> KeyslotFile:
        """Replace one role's slot, keeping the others byte-identical."""
        slots = list(self.slots)
        slots[index_of(kind)] = slot
        return replace(self, slots=tuple(slots))


def associated_data(header: bytes, kind: SlotKind, slot: Slot) -> bytes:
    """AD of a version-2 slot: label, the whole header, index, kind, slot salt, nonce."""
    return (
        KEYSLOT_V2_WRAP
        + header
        + bytes((index_of(kind), int(kind)))
        + slot.salt
        + slot.nonce
    )


def legacy_associated_data(f: KeyslotFile, kind: SlotKind, slot: Slot) -> bytes:
    """AD of a slot carried over from version 1: exactly its v1 AD, rebuilt from the
    file's parameters and salt (which were that slot's own) and its nonce."""
    old = keyslots_v1.Keyslot(
        keyslots_v1.SlotKind(int(kind)), f.params, f.salt, slot.nonce, slot.wrapped
    )
    return keyslots_v1.associated_data(f.vault_id, old)


def serialise(f: KeyslotFile) -> bytes:
    if len(f.slots) != SLOT_COUNT:
        raise ValueError("a version 2 keyslot file holds exactly 4 slots")
    return f.header_bytes() + b"".join(s.to_bytes() for s in f.slots)


def version_of(data: bytes) -> int:
    """The version a keyslot file says it is, after checking its magic."""
    if len(data) < len(MAGIC) + 2:
        raise MalformedData("keyslot file has an impossible size")
    if data[: len(MAGIC)] != MAGIC:
        raise MalformedData("not a fieldkit keyslot file (bad magic)")
    (version,) = struct.unpack_from(">H", data, len(MAGIC))
    if version not in (keyslots_v1.VERSION, VERSION):
        raise MalformedData(f"keyslot file version {version} is not supported")
    return int(version)


def parse(data: bytes) -> KeyslotFile:
    """Parse a version-2 file strictly: exact length, known KDF, bounded parameters."""
    if len(data) != FILE_SIZE:
        raise MalformedData("keyslot file has an impossible size")
    magic, version, vault_id, kdf_id, t, m, p, salt = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise MalformedData("not a fieldkit keyslot file (bad magic)")
    if version != VERSION:
        raise MalformedData(f"keyslot file version {version} is not supported")
    if kdf_id != KDF_ARGON2ID:
        raise MalformedData(f"keyslot file has unknown KDF {kdf_id}")
    params = kdf.Argon2Params(t, m, p)
    params.check_bounds()
    slots = tuple(
        Slot.from_bytes(data[HEADER_SIZE + i * SLOT_SIZE : HEADER_SIZE + (i + 1) * SLOT_SIZE])
        for i in range(SLOT_COUNT)
    )
    return KeyslotFile(bytes(vault_id), params, bytes(salt), slots)


def parse_any(data: bytes) -> KeyslotFile | keyslots_v1.KeyslotFile:
    """Either version; a version-1 file is upgraded by the next successful unlock."""
    if len(data) > MAX_FILE_SIZE:
        raise MalformedData("keyslot file has an impossible size")
    if version_of(data) == keyslots_v1.VERSION:
        return keyslots_v1.parse(data)
    return parse(data)

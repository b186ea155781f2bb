"""The keyslot file, version 1: read to upgrade it (fieldkit/formats/keyslots.py is v2).

Releases before the duress passphrase wrote this format; the first successful unlock
rewrites it as version 2 (services/keyslot_upgrade.py). It is still written by tests
and scripts/make_vault_fixtures.py, to make vaults as those releases did.

Byte layout (all integers big-endian; docs/vault-format.md is the spec):

    header   magic "FK-SLOTS" (8) | version u16 = 1 | vault_id (16) | slot_count u8
    slot     kind u8 | kdf u8 | t_cost u32 | m_cost_kib u32 | parallelism u8 |
             salt (16) | nonce (12) | wrapped_key (48 = 32 key + 16 tag)

A slot's associated data is label || header-without-count || slot-without-wrapped-key,
so its KDF parameters, salt, kind and the vault id are all authenticated with the
wrapped key. This module only parses and serialises; wrapping lives in services.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from fieldkit.crypto import aead, kdf
from fieldkit.crypto.labels import KEYSLOT_WRAP
from fieldkit.errors import MalformedData

MAGIC = b"FK-SLOTS"
VERSION = 1
VAULT_ID_SIZE = 16
MAX_SLOTS = 8
KDF_ARGON2ID = 1

_HEADER = struct.Struct(">8sH16sB")
_SLOT_META = struct.Struct(">BBIIB16s12s")
WRAPPED_SIZE = 32 + aead.TAG_SIZE
SLOT_SIZE = _SLOT_META.size + WRAPPED_SIZE
HEADER_SIZE = _HEADER.size
MAX_FILE_SIZE = HEADER_SIZE + MAX_SLOTS * SLOT_SIZE


class SlotKind(IntEnum):
    PASSPHRASE = 1
    RECOVERY = 2


@dataclass(frozen=True)
class Keyslot:
    kind: SlotKind
    params: kdf.Argon2Params
    salt: bytes
    nonce: bytes
    wrapped_key: bytes

    def meta_bytes(self) -> bytes:
        return _SLOT_META.pack(
            int(self.kind),
            KDF_ARGON2ID,
            self.params.time_cost,
            self.params.memory_kib,
            self.params.parallelism,
            self.salt,
            self.nonce,
        )


@dataclass(frozen=True)
class KeyslotFile:
    vault_id: bytes
    slots: tuple[Keyslot, ...]

    def slot(self, kind: SlotKind) -> Keyslot | None:
        for s in self.slots:
            if s.kind == kind:
                return s
        return None

    def with_slot(self, new: Keyslot) -> KeyslotFile:
        """Replace the slot of the same kind (or add it), keeping the others byte-identical."""
        kept = tuple(s for s in self.slots if s.kind != new.kind)
        ordered = sorted((*kept, new), key=lambda s: int(s.kind))
        return KeyslotFile(self.vault_id, tuple(ordered))


def associated_data(vault_id: bytes, slot: Keyslot) -> bytes:
    return KEYSLOT_WRAP + MAGIC + struct.pack(">H", VERSION) + vault_id + slot.meta_bytes()


def serialise(keyslots: KeyslotFile) -> bytes:
    if len(keyslots.vault_id) != VAULT_ID_SIZE:
        raise ValueError("vault id must be 16 bytes")
    if not 1 <= len(keyslots.slots) <= MAX_SLOTS:
        raise ValueError("a keyslot file holds 1 to 8 slots")
    out = [_HEADER.pack(MAGIC, VERSION, keyslots.vault_id, len(keyslots.slots))]
    for s in keyslots.slots:
        if len(s.salt) != kdf.SALT_SIZE or len(s.nonce) != aead.NONCE_SIZE:
            raise ValueError("bad salt or nonce size")
        if len(s.wrapped_key) != WRAPPED_SIZE:
            raise ValueError("bad wrapped key size")
        out.append(s.meta_bytes())
        out.append(s.wrapped_key)
    return b"".join(out)


def parse(data: bytes) -> KeyslotFile:
    """Parse a keyslot file strictly: exact length, known kinds, bounded KDF parameters."""
    if len(data) < HEADER_SIZE or len(data) > MAX_FILE_SIZE:
        raise MalformedData("keyslot file has an impossible size")
    magic, version, vault_id, count = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise MalformedData("not a fieldkit keyslot file (bad magic)")
    if version != VERSION:
        raise MalformedData(f"keyslot file version {version} is not supported")
    if not 1 <= count <= MAX_SLOTS:
        raise MalformedData("keyslot file slot count out of range")
    if len(data) != HEADER_SIZE + count * SLOT_SIZE:
        raise MalformedData("keyslot file length does not match its slot count")
    slots: list[Keyslot] = []
    seen: set[int] = set()
    for i in range(count):
        off = HEADER_SIZE + i * SLOT_SIZE
        kind, kdf_id, t, m, p, salt, nonce = _SLOT_META.unpack_from(data, off)
        if kind not in (SlotKind.PASSPHRASE, SlotKind.RECOVERY):
            raise MalformedData(f"keyslot {i} has unknown kind {kind}")
        if kind in seen:
            raise MalformedData("keyslot file has two slots of the same kind")
        seen.add(kind)
        if kdf_id != KDF_ARGON2ID:
            raise MalformedData(f"keyslot {i} has unknown KDF {kdf_id}")
        params = kdf.Argon2Params(t, m, p)
        params.check_bounds()
        wrapped = data[off + _SLOT_META.size : off + SLOT_SIZE]
        slots.append(Keyslot(SlotKind(kind), params, salt, nonce, bytes(wrapped)))
    if SlotKind.PASSPHRASE not in seen:
        raise MalformedData("keyslot file has no passphrase slot")
    return KeyslotFile(bytes(vault_id), tuple(slots))

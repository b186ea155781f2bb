"""Upgrade a version-1 keyslot file to version 2 at a successful unlock.

Only the secret just entered is known, so only its slot can be wrapped anew. The other
slot of the v1 file (the recovery code's after a passphrase unlock, the passphrase's
after a recovery-code unlock) is carried over in legacy form: its nonce and wrapped key
byte for byte, and its v1 salt and Argon2id parameters become the file's. The secret just
entered is derived once more under them (one extra Argon2id run, this once), and wrapped
in the version-2 form. From then on one Argon2id run opens either slot.

The caller writes the result atomically (temp file, fsync, rename, fsync of the folder):
a crash before the rename leaves the v1 file, which still opens, and a temp file the next
unlock shreds (services/wipe.py); after it, the v2 file, which opens.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from fieldkit.crypto import kdf
from fieldkit.errors import CorruptVault
from fieldkit.formats import keyslots, keyslots_v1
from fieldkit.formats.keyslots import KeyslotFile, Slot, SlotKind
from fieldkit.services import keyring


def upgrade(
    old: keyslots_v1.KeyslotFile,
    used: SlotKind,
    secret: bytes,
    master_key: bytes | bytearray,
    *,
    random_bytes: Callable[[int], bytes] = os.urandom,
) -> KeyslotFile:
    """The v2 file for `old`, unlocked with `secret` in the `used` role (passphrase or
    recovery code). Checked to open with `secret` before it is returned."""
    other_kind = SlotKind.RECOVERY if used == SlotKind.PASSPHRASE else SlotKind.PASSPHRASE
    other = old.slot(keyslots_v1.SlotKind(int(other_kind)))
    mine = old.slot(keyslots_v1.SlotKind(int(used)))
    if mine is None:  # the caller unlocked with it
        raise CorruptVault("the keyslot file lost the slot that opened it")
    anchor = other if other is not None else mine
    base = KeyslotFile(
        old.vault_id,
        anchor.params,
        anchor.salt,
        tuple(keyring.random_slot(random_bytes) for _ in range(keyslots.SLOT_COUNT)),
    )
    k = kdf.derive_key(secret, base.salt, base.params)
    new = base.with_slot(
        used,
        keyring.seal_slot(
            base, used, k, bytes(master_key), random_bytes(keyring.SLOT_MATERIAL_SIZE)
        ),
    )
    if other is not None:
        legacy = Slot(random_bytes(keyslots.SLOT_SALT_SIZE), other.nonce, other.wrapped_key)
        new = new.with_slot(other_kind, legacy)
    # Nothing is written unless the new file opens with the secret just entered.
    opened = keyring.open_all(new, k)
    if not any(o.kind == used and bytes(o.plaintext) == bytes(master_key) for o in opened):
        raise CorruptVault("the upgraded keyslot file does not open")
    return new

"""Open a keyslot file's bytes with a secret, whichever version it is (tests only)."""

from __future__ import annotations

from fieldkit.errors import AuthenticationFailed, MalformedData
from fieldkit.formats import keyslots, keyslots_v1
from fieldkit.services import keyring


def master_key(data: bytes, secret: bytes) -> bytes | None:
    """The master key `secret` unwraps from a passphrase or recovery slot, or None."""
    try:
        f = keyslots.parse_any(data)
    except MalformedData:
        return None
    if isinstance(f, keyslots_v1.KeyslotFile):
        for slot in f.slots:
            try:
                return bytes(keyring.unwrap_v1(slot, secret, f.vault_id))
            except AuthenticationFailed:
                continue
        return None
    for o in keyring.open_all(f, keyring.derive(secret, f)):
        if o.kind in (keyslots.SlotKind.PASSPHRASE, keyslots.SlotKind.RECOVERY):
            return bytes(o.plaintext)
    return None

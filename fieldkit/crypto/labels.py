"""Every domain-separation label fieldkit uses, defined once.

A label names its purpose and its format version. Changing what a label
protects means a new label, never a reuse of an old one.
"""

from __future__ import annotations

# AEAD associated-data prefix for a keyslot wrapping the vault master key.
KEYSLOT_WRAP = b"fieldkit/v1 keyslot wrap"

# Hash of one stored version of a record (canonical JSON of id, version, document).
RECORD_VERSION = b"fieldkit/v1 record version"

# Hash of an attachment's metadata as recorded in the edit history.
ATTACHMENT_META = b"fieldkit/v1 attachment metadata"

# Hash of one edit-history entry; each entry includes the previous entry's hash.
HISTORY_ENTRY = b"fieldkit/v1 history entry"

# The first history entry's "previous hash" input.
HISTORY_GENESIS = b"fieldkit/v1 history genesis"

# Ed25519 signature input of a bundle: magic, version and the msgpack manifest.
# The same digest is the bundle's hash (chain links, receipts, duplicates).
BUNDLE_MANIFEST = b"fieldkit/v1 bundle manifest"

# Ed25519 self-signature of a card (HQ or device public keys with a name).
CARD = b"fieldkit/v1 card"

# A card's fingerprint: kind, signing key and age recipient.
CARD_FINGERPRINT = b"fieldkit/v1 card fingerprint"

# Ed25519 signature input of an HQ receipt.
RECEIPT = b"fieldkit/v1 receipt"

# Keyslot file version 2 (docs/vault-format.md): AEAD associated-data prefix of a slot,
# HKDF info of a slot's key-encryption key, and HMAC label of the slot tag by which the
# holder of the master key recognises which slot holds what.
KEYSLOT_V2_WRAP = b"fieldkit/v2 keyslot wrap"
KEYSLOT_V2_KEK = b"fieldkit/v2 keyslot kek"
KEYSLOT_V2_TAG = b"fieldkit/v2 keyslot tag"

# Ed25519 signature input of one custody entry (docs/custody.md): its canonical JSON body.
CUSTODY_ENTRY = b"fieldkit/v1 custody entry"

# Hash of one signed custody entry (body and signature); the next entry's "prev".
CUSTODY_ENTRY_HASH = b"fieldkit/v1 custody entry hash"

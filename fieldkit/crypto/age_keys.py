"""age identities and recipients, and their Bech32 text encodings.

AGE-SECRET-KEY-PQ-1...   mlkem768x25519 identity (32-byte seed)
age1pq1...               mlkem768x25519 recipient (1,216 bytes)
AGE-SECRET-KEY-1...      X25519 identity (32 bytes)
age1...                  X25519 recipient (32 bytes)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import x25519

from fieldkit.crypto import age_primitives as prim
from fieldkit.crypto import bech32
from fieldkit.errors import MalformedData

HRP_PQ_IDENTITY = "age-secret-key-pq-"
HRP_PQ_RECIPIENT = "age1pq"
HRP_X25519_IDENTITY = "age-secret-key-"
HRP_X25519_RECIPIENT = "age"


@dataclass(frozen=True)
class HybridRecipient:
    """An mlkem768x25519 recipient: post-quantum, the default and required for bundles."""

    public: bytes

    def __post_init__(self) -> None:
        if len(self.public) != prim.PQ_PUBLIC_SIZE:
            raise MalformedData("a post-quantum recipient is 1216 bytes")
        prim.pq_public_key(self.public)  # validates both parts

    def encode(self) -> str:
        return bech32.encode(HRP_PQ_RECIPIENT, self.public)


@dataclass(frozen=True)
class HybridIdentity:
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.seed) != prim.PQ_SEED_SIZE:
            raise MalformedData("a post-quantum identity is 32 bytes")

    @classmethod
    def generate(cls, random_bytes: Callable[[int], bytes] = os.urandom) -> HybridIdentity:
        return cls(random_bytes(prim.PQ_SEED_SIZE))

    def private_key(self) -> hpke.MLKEM768X25519PrivateKey:
        return prim.pq_private_key(self.seed)

    def x25519_part(self) -> x25519.X25519PrivateKey:
        return prim.pq_x25519_part(self.seed)

    def recipient(self) -> HybridRecipient:
        return HybridRecipient(prim.pq_public_bytes(self.seed))

    def encode(self) -> str:
        return bech32.encode(HRP_PQ_IDENTITY, self.seed).upper()


@dataclass(frozen=True)
class X25519Recipient:
    """Classic recipient: only for an explicit compatibility export, never mixed with PQ."""

    public: bytes

    def __post_init__(self) -> None:
        if len(self.public) != prim.X25519_SIZE:
            raise MalformedData("an X25519 recipient is 32 bytes")

    def encode(self) -> str:
        return bech32.encode(HRP_X25519_RECIPIENT, self.public)


@dataclass(frozen=True)
class X25519Identity:
    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) != prim.X25519_SIZE:
            raise MalformedData("an X25519 identity is 32 bytes")

    @classmethod
    def generate(cls, random_bytes: Callable[[int], bytes] = os.urandom) -> X25519Identity:
        return cls(random_bytes(prim.X25519_SIZE))

    def recipient(self) -> X25519Recipient:
        return X25519Recipient(prim.x25519_public_bytes(self.secret))

    def encode(self) -> str:
        return bech32.encode(HRP_X25519_IDENTITY, self.secret).upper()


@dataclass(frozen=True)
class ScryptPassphrase:
    """The passphrase recipient/identity of the age spec (used by the CCTV vectors and
    for completeness; fieldkit bundles never use it)."""

    passphrase: bytes = field(repr=False)
    log_n: int = prim.SCRYPT_DEFAULT_LOG_N


Identity = HybridIdentity | X25519Identity | ScryptPassphrase
Recipient = HybridRecipient | X25519Recipient | ScryptPassphrase


def parse_identity(text: str) -> HybridIdentity | X25519Identity:
    hrp, data = bech32.decode(text.strip())
    if text.strip() != text.strip().upper():
        raise MalformedData("an age identity is written in upper case")
    if hrp == HRP_PQ_IDENTITY:
        return HybridIdentity(data)
    if hrp == HRP_X25519_IDENTITY:
        return X25519Identity(data)
    raise MalformedData("not an age identity (unknown prefix)")


def parse_recipient(text: str) -> HybridRecipient | X25519Recipient:
    hrp, data = bech32.decode(text.strip())
    if hrp == HRP_PQ_RECIPIENT:
        try:
            return HybridRecipient(data)
        except ValueError:
            raise MalformedData("not a valid post-quantum recipient") from None
    if hrp == HRP_X25519_RECIPIENT:
        return X25519Recipient(data)
    raise MalformedData("not an age recipient (unknown prefix)")


def parse_identity_file(text: str) -> list[HybridIdentity | X25519Identity]:
    """age identity files: one key per line, '#' comments and blank lines ignored."""
    out: list[HybridIdentity | X25519Identity] = []
    for line in text.splitlines()[:1000]:
        s = line.strip()
        if s and not s.startswith("#"):
            out.append(parse_identity(s))
    if not out:
        raise MalformedData("no identity in the identity file")
    return out

"""Ed25519 signatures over domain-separated digests, and key fingerprints."""

from __future__ import annotations

import os
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from fieldkit.crypto.hashing import labelled_hash
from fieldkit.errors import AuthenticationFailed

SECRET_SIZE = 32
PUBLIC_SIZE = 32
SIGNATURE_SIZE = 64


def generate_secret(random_bytes: Callable[[int], bytes] = os.urandom) -> bytes:
    return random_bytes(SECRET_SIZE)


def public_key(secret: bytes) -> bytes:
    return ed25519.Ed25519PrivateKey.from_private_bytes(secret).public_key().public_bytes_raw()


def sign(secret: bytes, label: bytes, parts: list[bytes]) -> bytes:
    """Sign labelled_hash(label, parts): every signature names what it is for."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(secret)
    return key.sign(labelled_hash(label, parts))


def verify(public: bytes, signature: bytes, label: bytes, parts: list[bytes]) -> None:
    """Raise the one opaque AuthenticationFailed on any failure."""
    if len(public) != PUBLIC_SIZE or len(signature) != SIGNATURE_SIZE:
        raise AuthenticationFailed("signature verification failed")
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(public).verify(
            signature, labelled_hash(label, parts)
        )
    except (InvalidSignature, ValueError):
        raise AuthenticationFailed("signature verification failed") from None

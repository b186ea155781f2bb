"""Key wrapping with ChaCha20-Poly1305 (RFC 8439), from pyca/cryptography."""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from fieldkit.errors import AuthenticationFailed

KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16


def seal(key: bytes, nonce: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Encrypt and authenticate. The caller guarantees (key, nonce) is never reused."""
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE:
        raise ValueError("seal: key must be 32 bytes and nonce 12 bytes")
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, associated_data)


def open_sealed(key: bytes, nonce: bytes, ciphertext: bytes, associated_data: bytes) -> bytes:
    """Decrypt; any failure is the one opaque AuthenticationFailed."""
    if len(key) != KEY_SIZE or len(nonce) != NONCE_SIZE or len(ciphertext) < TAG_SIZE:
        raise AuthenticationFailed("authentication failed")
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, associated_data)
    except InvalidTag:
        raise AuthenticationFailed("authentication failed") from None

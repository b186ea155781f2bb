"""The key arithmetic of age v1 (C2SP age spec), on pyca/cryptography.

File key -> header MAC key and payload key (HKDF-SHA-256); per-recipient wrapping of
the file key: mlkem768x25519 (HPKE, ML-KEM-768 + X25519), X25519, scrypt. Formats
and streams live elsewhere (formats/age_header.py, crypto/age_stream.py).

Every unwrap returns None when a stanza is simply not addressed to this identity
(its AEAD does not open), so the caller can try the next stanza.
"""

from __future__ import annotations

import hmac as std_hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives import hmac as pyca_hmac
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FILE_KEY_SIZE = 16
PAYLOAD_NONCE_SIZE = 16
MAC_SIZE = 32
WRAPPED_FILE_KEY_SIZE = FILE_KEY_SIZE + 16  # ChaCha20-Poly1305 tag

# Labels defined by the age spec.
HEADER_INFO = b"header"
PAYLOAD_INFO = b"payload"
X25519_INFO = b"age-encryption.org/v1/X25519"
PQ_INFO = b"age-encryption.org/mlkem768x25519"
SCRYPT_SALT_LABEL = b"age-encryption.org/v1/scrypt"

PQ_SEED_SIZE = 32
MLKEM768_PUBLIC_SIZE = 1184
PQ_PUBLIC_SIZE = MLKEM768_PUBLIC_SIZE + 32
PQ_ENC_SIZE = 1088 + 32
X25519_SIZE = 32
SCRYPT_SALT_SIZE = 16
# age's own decrypt limit; 2^18 is what age itself writes.
SCRYPT_MAX_LOG_N = 22
SCRYPT_DEFAULT_LOG_N = 18

_ZERO_NONCE = b"\x00" * 12
_PQ_SUITE = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)


def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


# ---- header MAC and payload key ------------------------------------------------


def header_mac(file_key: bytes, header_up_to_dashes: bytes) -> bytes:
    h = pyca_hmac.HMAC(hkdf_sha256(file_key, b"", HEADER_INFO), hashes.SHA256())
    h.update(header_up_to_dashes)
    return h.finalize()


def header_mac_matches(file_key: bytes, header_up_to_dashes: bytes, mac: bytes) -> bool:
    return std_hmac.compare_digest(header_mac(file_key, header_up_to_dashes), mac)


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    return hkdf_sha256(file_key, nonce, PAYLOAD_INFO)


# ---- mlkem768x25519 ------------------------------------------------------------


def _expand_pq_seed(seed: bytes) -> bytes:
    """MLKEM768-X25519 (X-Wing) key expansion: SHAKE256(seed, 96) =
    ML-KEM-768 seed (d || z, 64 bytes) || X25519 private key (32 bytes)."""
    if len(seed) != PQ_SEED_SIZE:
        raise ValueError("a post-quantum identity is 32 bytes")
    shake = hashes.Hash(hashes.SHAKE256(digest_size=96))
    shake.update(seed)
    return shake.finalize()


def pq_private_key(seed: bytes) -> hpke.MLKEM768X25519PrivateKey:
    expanded = _expand_pq_seed(seed)
    return hpke.MLKEM768X25519PrivateKey(
        mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]),
        x25519.X25519PrivateKey.from_private_bytes(expanded[64:]),
    )


def pq_x25519_part(seed: bytes) -> x25519.X25519PrivateKey:
    return x25519.X25519PrivateKey.from_private_bytes(_expand_pq_seed(seed)[64:])


def pq_public_bytes(seed: bytes) -> bytes:
    """The 1,216-byte recipient: ML-KEM-768 encapsulation key || X25519 public key."""
    expanded = _expand_pq_seed(seed)
    m = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]).public_key().public_bytes_raw()
    x = x25519.X25519PrivateKey.from_private_bytes(expanded[64:]).public_key().public_bytes_raw()
    return m + x


def pq_public_key(recipient: bytes) -> hpke.MLKEM768X25519PublicKey:
    if len(recipient) != PQ_PUBLIC_SIZE:
        raise ValueError("a post-quantum recipient is 1216 bytes")
    return hpke.MLKEM768X25519PublicKey(
        mlkem.MLKEM768PublicKey.from_public_bytes(recipient[:MLKEM768_PUBLIC_SIZE]),
        x25519.X25519PublicKey.from_public_bytes(recipient[MLKEM768_PUBLIC_SIZE:]),
    )


def pq_wrap(file_key: bytes, recipient: bytes) -> tuple[bytes, bytes]:
    """HPKE SealBase; returns (enc, body). HPKE draws a fresh ephemeral each call."""
    sealed = _PQ_SUITE.encrypt(file_key, pq_public_key(recipient), info=PQ_INFO)
    return sealed[:PQ_ENC_SIZE], sealed[PQ_ENC_SIZE:]


def pq_unwrap(private: hpke.MLKEM768X25519PrivateKey, enc: bytes, body: bytes) -> bytes | None:
    # Lengths are checked by the caller before this is reached (partitioning oracles).
    try:
        return _PQ_SUITE.decrypt(enc + body, private, info=PQ_INFO)
    except (InvalidTag, ValueError):
        return None


# ---- X25519 --------------------------------------------------------------------


def x25519_public_bytes(identity: bytes) -> bytes:
    return x25519.X25519PrivateKey.from_private_bytes(identity).public_key().public_bytes_raw()


def x25519_wrap(file_key: bytes, recipient: bytes, ephemeral_secret: bytes) -> tuple[bytes, bytes]:
    """Returns (ephemeral share, body). The caller supplies a fresh 32-byte secret."""
    eph = x25519.X25519PrivateKey.from_private_bytes(ephemeral_secret)
    share = eph.public_key().public_bytes_raw()
    shared = eph.exchange(x25519.X25519PublicKey.from_public_bytes(recipient))
    key = hkdf_sha256(shared, share + recipient, X25519_INFO)
    # The zero nonce is safe: the wrap key is unique to this ephemeral secret.
    return share, ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)


class LowOrderPoint(ValueError):
    """The X25519 shared secret is all zeros: the spec says abort."""


def x25519_unwrap(identity: bytes, share: bytes, body: bytes) -> bytes | None:
    priv = x25519.X25519PrivateKey.from_private_bytes(identity)
    try:
        shared = priv.exchange(x25519.X25519PublicKey.from_public_bytes(share))
    except ValueError:
        # OpenSSL refuses an all-zero result (low-order point).
        raise LowOrderPoint("X25519 share is a low-order point") from None
    if shared == b"\x00" * 32:
        raise LowOrderPoint("X25519 share is a low-order point")
    recipient = priv.public_key().public_bytes_raw()
    key = hkdf_sha256(shared, share + recipient, X25519_INFO)
    try:
        return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None


# ---- scrypt (passphrase) -------------------------------------------------------


def scrypt_key(passphrase: bytes, salt: bytes, log_n: int) -> bytes:
    return Scrypt(salt=SCRYPT_SALT_LABEL + salt, length=32, n=1 << log_n, r=8, p=1).derive(
        passphrase
    )


def scrypt_wrap(file_key: bytes, passphrase: bytes, salt: bytes, log_n: int) -> bytes:
    return ChaCha20Poly1305(scrypt_key(passphrase, salt, log_n)).encrypt(
        _ZERO_NONCE, file_key, None
    )


def scrypt_unwrap(passphrase: bytes, salt: bytes, log_n: int, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(scrypt_key(passphrase, salt, log_n)).decrypt(
            _ZERO_NONCE, body, None
        )
    except InvalidTag:
        return None
